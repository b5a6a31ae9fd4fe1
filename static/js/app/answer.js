// Answering: one instrument per screen, large buttons, a review step, saved on the phone
// first and then sent. Server field errors ("answers.gad7_3") appear next to the item.
import { h, lang, onQueueChange, registerWorker, sendSoon, t } from './common.js';
import { all, enqueue, get } from './queue.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
let slot = params.get('slot');
const view = $('view');
//: Items whose positive answer means the crisis text must show, even before sending.
const SAFETY = { phq9: 'phq9_9' };
const steps = [];
let index = 0;

const smooth = () => (matchMedia('(prefers-reduced-motion: reduce)').matches ? 'auto' : 'smooth');

// Answers in progress survive closing the app: kept per slot and instrument until saved.
const draftKey = (step) => `ebb.draft.${slot || '-'}.${step.def.id}`;
function keepDraft(step) { localStorage.setItem(draftKey(step), JSON.stringify(step.answers)); }
function draft(step) {
  try { return JSON.parse(localStorage.getItem(draftKey(step))) || {}; } catch { return {}; }
}

function items(step) { return step.def.items; }
function required(step) { return items(step).filter((i) => i.required); }

function updateProgress() {
  const total = steps.reduce((n, s) => n + required(s).length, 0);
  const done = steps.reduce((n, s) => n + required(s).filter((i) => i.id in s.answers).length, 0);
  const step = steps[index];
  $('where').textContent = step ? t('answer.progress', { i: index + 1, n: steps.length }) : '';
  $('bar').max = total || 1;
  $('bar').value = step ? done : total;
  $('bar').setAttribute('aria-valuetext', t('answer.answered', { done, total }));
}

function options(item) {
  if (item.options.length) return item.options;
  const out = [];
  for (let v = item.min; v <= item.max; v += item.step || 1) out.push({ value: v, label: String(v) });
  return out;
}

function answered(step, item, fs, err) {
  keepDraft(step);
  fs.classList.remove('missing');
  err.textContent = '';
  if (required(step).every((i) => i.id in step.answers)) $('form-error').textContent = '';
  updateProgress();
}

// A slider (e.g. fatigue 0-100) is a range input; it counts as answered once it is moved.
function slider(step, item, fs, err) {
  const has = item.id in step.answers;
  const out = h('output', { class: 'slider-value', id: `o-${item.id}`, 'aria-live': 'polite' },
    has ? String(step.answers[item.id]) : t('answer.slide'));
  const input = h('input', {
    type: 'range', class: 'slider', name: item.id, min: item.min, max: item.max,
    step: item.step || 1, value: has ? step.answers[item.id] : Math.round((item.min + item.max) / 2),
    'aria-labelledby': `l-${item.id}`, 'aria-describedby': `a-${item.id} e-${item.id}`,
  });
  input.addEventListener('input', () => {
    step.answers[item.id] = Number(input.value);
    out.textContent = input.value;
    answered(step, item, fs, err);
  });
  fs.append(out, input);
  if (item.anchors) {
    fs.append(h('p', { class: 'anchors', id: `a-${item.id}` },
      h('span', {}, `${item.min} = ${item.anchors.min}`),
      h('span', {}, `${item.max} = ${item.anchors.max}`)));
  }
  fs.append(err);
  return fs;
}

function field(step, item, n) {
  const scale = item.kind !== 'choice';
  const err = h('p', { class: 'error', id: `e-${item.id}` });
  const fs = h('fieldset', { id: `f-${item.id}`, 'aria-describedby': `e-${item.id}` },
    h('legend', { id: `l-${item.id}` }, h('span', { class: 'qnum' }, `${n}.`), item.text));
  if (item.kind === 'slider') return slider(step, item, fs, err);
  const opts = h('div', { class: scale ? 'opts scale' : 'opts' });
  for (const o of options(item)) {
    const input = h('input', { type: 'radio', name: item.id, value: o.value,
                               checked: step.answers[item.id] === o.value });
    input.addEventListener('change', () => {
      step.answers[item.id] = o.value;
      answered(step, item, fs, err);
      const next = fs.nextElementSibling;
      if (next?.tagName === 'FIELDSET') {
        const r = next.getBoundingClientRect();
        if (r.bottom > innerHeight) next.scrollIntoView({ block: 'center', behavior: smooth() });
      }
    });
    opts.append(h('label', { class: 'opt' }, input, h('span', {}, o.label)));
  }
  fs.append(opts);
  if (scale && item.anchors) {
    fs.append(h('p', { class: 'anchors' }, h('span', {}, `${item.min} = ${item.anchors.min}`),
                h('span', {}, `${item.max} = ${item.anchors.max}`)));
  }
  fs.append(err);
  return fs;
}

function showErrors(step, errors) {
  let first = null;
  for (const e of errors) {
    const id = e.field.replace(/^answers\./, '');
    const fs = $(`f-${id}`);
    if (!fs) continue;
    fs.classList.add('missing');
    $(`e-${id}`).textContent = e.reason;
    first ||= fs;
  }
  if (first) {
    first.scrollIntoView({ block: 'center', behavior: smooth() });
    first.querySelector('input')?.focus({ preventScroll: true });
  }
  return first;
}

function renderForm(step, serverErrors = null) {
  const d = step.def;
  const form = h('form', { novalidate: true },
    items(step).map((item, k) => field(step, item, k + 1)),
    h('p', { class: 'error', id: 'form-error', role: 'alert' }),
    h('button', { class: 'primary big', type: 'submit', id: 'review' }, t('answer.review')));
  const intro = [h('h1', { id: 'inst-title', tabindex: '-1' }, d.title)];
  if (d.stem || d.recall) intro.push(h('p', { class: 'stem' }, d.stem || d.recall));
  if (!d.validated) intro.push(h('p', { class: 'small' }, t('answer.not_validated')));
  view.replaceChildren(...intro, form);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const missing = required(step).filter((i) => !(i.id in step.answers))
      .map((i) => ({ field: `answers.${i.id}`, reason: t('answer.missing') }));
    if (missing.length) {
      $('form-error').textContent = t('answer.missing_some');
      showErrors(step, missing);
      return;
    }
    renderReview(step);
  });
  updateProgress();
  if (serverErrors) {
    $('form-error').textContent = t('answer.server_errors');
    showErrors(step, serverErrors);
  } else {
    $('inst-title').focus({ preventScroll: true });
    scrollTo({ top: 0 });
  }
}

function renderReview(step) {
  const rows = items(step).filter((i) => i.id in step.answers).map((i) => {
    const o = i.kind === 'slider' ? null : options(i).find((x) => x.value === step.answers[i.id]);
    return h('div', {}, h('dt', {}, i.text), h('dd', {}, o ? o.label : String(step.answers[i.id])));
  });
  view.replaceChildren(
    h('h1', { id: 'inst-title', tabindex: '-1' }, t('answer.review_title')),
    h('p', { class: 'muted' }, step.def.title),
    h('dl', { class: 'review' }, rows),
    h('div', { class: 'row' },
      h('button', { type: 'button', id: 'change', onclick: () => renderForm(step) }, t('answer.change')),
      h('button', { type: 'button', class: 'primary', id: 'save', onclick: () => save(step) },
        t('answer.save'))));
  $('inst-title').focus({ preventScroll: true });
  scrollTo({ top: 0 });
}

function status(text) { $('status').textContent = text; }

async function crisis(text, sent) {
  $('crisis-text').textContent = text;
  // Only say the care team knows when the server has the answer (and so raised the alert).
  $('crisis-told').textContent = t(sent ? 'crisis.told' : 'crisis.pending');
  $('crisis').hidden = false;
  view.hidden = true;
  $('crisis').focus();
  await new Promise((resolve) => { $('crisis-ok').onclick = resolve; });
  $('crisis').hidden = true;
  view.hidden = false;
}

async function save(step) {
  $('save').disabled = true;
  status(t('answer.saving'));
  step.uuid ||= crypto.randomUUID();
  await enqueue({ client_uuid: step.uuid, instrument_id: step.def.id, answers: { ...step.answers },
                  completed_at: new Date().toISOString(), slot_key: slot });
  localStorage.removeItem(draftKey(step));
  status(t('answer.saved'));
  await Promise.race([sendSoon(), new Promise((r) => setTimeout(r, 4000))]);
  const rec = await get(step.uuid);
  if (rec?.state === 'rejected') {
    renderForm(step, rec.errors?.length ? rec.errors : [{ field: 'answers', reason: rec.detail }]);
    return;
  }
  status(rec?.state === 'sent' ? t('answer.prev_sent') : t('answer.prev_saved'));
  const flagged = SAFETY[step.def.id] && step.answers[SAFETY[step.def.id]] > 0;
  if (rec?.crisis_text || flagged) {
    await crisis(rec?.crisis_text || localStorage.getItem('ebb.crisis') || '', rec?.state === 'sent');
  }
  index += 1;
  if (index < steps.length) renderForm(steps[index]);
  else renderDone();
}

async function renderDone() {
  updateProgress();
  const recs = Object.fromEntries((await all()).map((r) => [r.client_uuid, r]));
  view.replaceChildren(
    h('h1', { id: 'inst-title', tabindex: '-1' }, t('answer.all_done')),
    h('ul', { class: 'slots', id: 'results' }, steps.filter((s) => s.uuid).map((s) => {
      const state = recs[s.uuid]?.state || 'saved';
      return h('li', { 'data-instrument': s.def.id },
        h('h3', {}, s.def.title),
        h('p', { class: `tag ${state}`, 'data-sync': state }, t(`state.${state}`)));
    })),
    h('a', { class: 'button primary big', href: '/app', id: 'home' }, t('answer.home')));
  $('inst-title').focus({ preventScroll: true });
  status('');
}

onQueueChange(() => { if (index >= steps.length && steps.length) renderDone(); });

(async () => {
  registerWorker();
  const fix = params.get('fix') && await get(params.get('fix'));
  if (fix) slot = fix.slot_key;
  const ids = fix ? [fix.instrument_id] : (params.get('i') || '').split(',').filter(Boolean);
  const already = new Set((await all())
    .filter((r) => !fix && slot && r.slot_key === slot && r.state !== 'rejected')
    .map((r) => r.instrument_id));
  for (const id of ids.filter((i) => !already.has(i))) {
    try {
      const r = await fetch(`/api/v1/instruments/${encodeURIComponent(id)}?lang=${lang}`);
      if (!r.ok) throw new Error(String(r.status));
      steps.push(fix ? { def: await r.json(), answers: { ...fix.answers }, uuid: fix.client_uuid }
        : { def: await r.json(), answers: {}, uuid: null });
    } catch {
      view.replaceChildren(h('h1', {}, t('answer.title')), h('p', { class: 'notice' }, t('answer.not_found')),
        h('a', { class: 'button primary big', href: '/app' }, t('answer.home')));
      return;
    }
  }
  if (!steps.length) {
    view.replaceChildren(h('h1', {}, t('answer.title')), h('p', {}, t('answer.none')),
      h('a', { class: 'button primary big', href: '/app' }, t('answer.home')));
    return;
  }
  if (!fix) for (const step of steps) step.answers = draft(step);
  renderForm(steps[0], fix ? fix.errors : null);
})();
