// Home: what is due now, coming up and done; how many answers still wait on this phone.
import { api, h, lang, onQueueChange, plural, registerWorker, sendSoon, slotTitle, t, when }
  from './common.js';
import { all, flush } from './queue.js';

const $ = (id) => document.getElementById(id);
let due = null;
let sizes = {};
let titles = {};
const UPCOMING_SHOWN = 3;

async function local() {
  const recs = await all();
  const bySlot = {};
  for (const r of recs) {
    if (r.slot_key && r.state !== 'rejected') (bySlot[r.slot_key] ||= {})[r.instrument_id] = r.state;
  }
  return { recs, bySlot };
}

async function renderSync(recs) {
  const saved = recs.filter((r) => r.state === 'saved').length;
  const rejected = recs.filter((r) => r.state === 'rejected').length;
  const el = $('sync');
  if (rejected) {
    el.className = 'sync bad';
    el.textContent = t('sync.rejected', { n: rejected });
  } else if (saved) {
    el.className = 'sync warn';
    el.textContent = plural('sync.unsent', saved);
  } else {
    el.className = 'sync ok';
    el.textContent = t('sync.all_sent');
  }
  el.dataset.unsent = String(saved);
  $('rejected').replaceChildren(...recs.filter((r) => r.state === 'rejected').map((r) =>
    h('li', {}, h('h3', {}, titleOf(r.instrument_id)),
      h('p', { class: 'tag rejected' }, t('state.rejected')),
      h('a', { class: 'button big', href: `/app/answer?fix=${r.client_uuid}` }, t('home.fix')))));
  $('rejected').hidden = !rejected;
}

function titleOf(id) { return titles[id] || id; }

// "5 short questionnaires · about 2 min": about 5 s per question and 5 s per questionnaire.
function size(ids) {
  const seconds = ids.reduce((n, id) => n + 5 + 5 * (sizes[id] || 5), 0);
  return plural('home.count', ids.length, { min: Math.max(1, Math.round(seconds / 60)) });
}

function card(slot, mine, kind) {
  const localDone = mine[slot.key] || {};
  const pending = slot.pending.filter((i) => !localDone[i]);
  const li = h('li', { 'data-slot': slot.key, 'data-state': kind },
    h('h3', {}, slotTitle(slot.label)));
  if (kind === 'due') {
    li.append(h('p', { class: slot.state === 'missed' ? 'late' : '' },
      slot.state === 'missed' ? t('home.late') : t('home.due_by', { time: when(slot.closes_at) })));
    li.append(h('p', { class: 'small' }, size(pending)));
    const href = `/app/answer?slot=${encodeURIComponent(slot.key)}&i=${pending.join(',')}`;
    const started = pending.length < slot.instruments.length;
    li.append(h('a', { class: 'button primary big', href },
      started ? t('home.continue') : t('home.start')));
  } else if (kind === 'upcoming') {
    li.append(h('p', {}, t('home.from', { time: when(slot.opens_at) })));
    li.append(h('p', { class: 'small' }, size(slot.instruments)));
  } else {
    li.append(h('p', { class: 'small' }, size(slot.instruments)));
    const states = slot.instruments.map((i) => localDone[i] || (slot.done.includes(i) ? 'sent' : 'saved'));
    const state = states.includes('saved') ? 'saved' : 'sent';
    li.append(h('p', { class: `tag ${state}`, 'data-sync': state }, t(`state.${state}`)));
  }
  return li;
}

async function render() {
  const { recs, bySlot } = await local();
  await renderSync(recs);
  if (!due) return;
  const lists = { due: [], upcoming: [], done: [...due.done] };
  for (const slot of due.due) {
    const mine = bySlot[slot.key] || {};
    if (slot.pending.every((i) => mine[i])) lists.done.unshift(slot);
    else lists.due.push(slot);
  }
  lists.upcoming = due.upcoming.slice(0, UPCOMING_SHOWN);
  for (const kind of ['due', 'upcoming', 'done']) {
    const ul = $(kind);
    ul.replaceChildren(...lists[kind].map((s) => card(s, bySlot, kind)));
    if (!lists[kind].length) ul.append(h('li', { class: 'empty' }, t(`home.none_${kind === 'due' ? 'due' : kind}`)));
  }
}

async function load() {
  const r = await api('/api/v1/me/due');
  if (r.status === 401) {
    if (r.data?.type === 'urn:ebb:problem:pin-required') {
      $('unlock').hidden = false;
      $('unlock-pin').focus();
    } else {
      $('notice').textContent = t('home.not_enrolled');
      $('notice').hidden = false;
    }
    await render();
    return;
  }
  $('unlock').hidden = true;
  if (r.ok) {
    due = r.data;
    localStorage.setItem('ebb.due', JSON.stringify(due));
  } else if (!due) {
    // Offline before the service worker cached the list: the last copy this page kept.
    try { due = JSON.parse(localStorage.getItem('ebb.due')); } catch { due = null; }
  }
  $('notice').hidden = !(r.cached || r.offline);
  $('notice').textContent = t('home.offline_data');
  await render();
  // Keep the patient's questionnaires on the phone for answering offline.
  const ids = new Set([...(due?.due || []), ...(due?.upcoming || [])].flatMap((s) => s.instruments));
  for (const id of ids) fetch(`/api/v1/instruments/${id}?lang=${lang}`).catch(() => {});
  api('/api/v1/me').then((me) => {
    if (me.ok) localStorage.setItem('ebb.crisis', me.data.clinic.crisis_text);
  });
}

$('unlock').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const s = await api('/api/v1/auth/session');
  const r = await api('/api/v1/auth/unlock', { method: 'POST', body: { pin: $('unlock-pin').value },
                                               csrf: s.data?.csrf_token });
  if (!r.ok) {
    $('unlock-error').textContent = r.data?.detail || t('answer.not_found');
    return;
  }
  $('unlock-pin').value = '';
  await load();
  await flush();
});

onQueueChange(() => render());

(async () => {
  const list = await api(`/api/v1/instruments?lang=${lang}`);
  if (list.ok) {
    sizes = Object.fromEntries(list.data.map((i) => [i.id, i.items]));
    titles = Object.fromEntries(list.data.map((i) => [i.id, i.title]));
  }
  await load();
  registerWorker();
  await sendSoon();
  await load();
})();
