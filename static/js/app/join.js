// Welcome: what Ebb is, an optional PIN, then the clinic's own consent text.
import { api, registerWorker, t } from './common.js';

const $ = (id) => document.getElementById(id);
const token = location.hash.slice(1);
// The token lives only in the fragment (never sent to the server in a URL); drop it from view.
if (token) history.replaceState(null, '', location.pathname);
else {
  $('no-token').hidden = false;
  $('enroll').hidden = true;
}

$('enroll').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const pin = $('pin').value.trim();
  $('pin-error').textContent = '';
  if (pin && !/^\d{4,8}$/.test(pin)) {
    $('pin-error').textContent = t('join.pin.hint');
    $('pin').focus();
    return;
  }
  const button = ev.submitter || $('enroll').querySelector('button');
  button.disabled = true;
  button.textContent = t('join.working');
  const r = await api('/api/v1/enroll', { method: 'POST', body: pin ? { token, pin } : { token } });
  button.disabled = false;
  button.textContent = t('join.start');
  if (!r.ok) {
    $('pin-error').textContent = r.data?.detail || t('answer.not_found');
    return;
  }
  const me = await api('/api/v1/me');
  if (me.ok) {
    $('clinic-name').textContent = me.data.clinic.name;
    $('consent').textContent = me.data.clinic.consent_text;
    localStorage.setItem('ebb.crisis', me.data.clinic.crisis_text);
  }
  $('welcome').hidden = true;
  $('clinic').hidden = false;
  $('clinic-name').setAttribute('tabindex', '-1');
  $('clinic-name').focus();
  registerWorker();
});
