// My progress: the server draws one SVG chart per questionnaire; doses are marked.
import { api, h, registerWorker, t, when } from './common.js';

const $ = (id) => document.getElementById(id);

(async () => {
  registerWorker();
  const r = await api('/api/v1/me/progress');
  if (r.cached || r.offline) {
    $('notice').textContent = t('progress.offline');
    $('notice').hidden = false;
  }
  const charts = r.ok ? r.data : [];
  if (!charts.length) {
    $('charts').replaceChildren(h('p', { class: 'empty' }, t('progress.none')));
    return;
  }
  $('charts').replaceChildren(...charts.map((c) => {
    const figure = h('div', { class: 'chart-box' });
    // Server-drawn, escaped SVG (no scripts, no styles): safe to insert as markup.
    figure.innerHTML = c.svg;
    return h('section', { class: 'card chart-card', 'aria-labelledby': `h-${c.instrument_id}` },
      h('h2', { id: `h-${c.instrument_id}` }, c.title),
      h('p', {}, t('progress.latest', { value: `${c.latest} (${when(c.latest_at)})` })),
      figure);
  }));
})();
