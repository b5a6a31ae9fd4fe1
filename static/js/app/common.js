// Shared by the patient pages: strings, API calls, service worker, small DOM helpers.
import { flush } from './queue.js';

const strings = JSON.parse(document.getElementById('i18n').textContent);
export const lang = document.documentElement.lang || 'en';

export function t(key, vars = {}) {
  let s = strings[key] ?? key;
  for (const [k, v] of Object.entries(vars)) s = s.replaceAll(`{${k}}`, v);
  return s;
}

export function plural(key, n, vars = {}) {
  return t(n === 1 && strings[`${key}_one`] ? `${key}_one` : key, { n, ...vars });
}

export async function api(path, { method = 'GET', body, csrf } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (csrf) headers['X-CSRF-Token'] = csrf;
  try {
    const r = await fetch(path, { method, headers, credentials: 'same-origin',
                                  body: body === undefined ? undefined : JSON.stringify(body) });
    const data = await r.json().catch(() => null);
    return { ok: r.ok, status: r.status, data, cached: r.headers.get('X-Ebb-Cached') === '1' };
  } catch {
    return { ok: false, status: 0, data: null, offline: true };
  }
}

export function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v == null) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c != null) e.append(c);
  return e;
}

export function when(iso) {
  const locale = navigator.language?.startsWith(lang) ? navigator.language : lang;
  return new Intl.DateTimeFormat(locale, { weekday: 'short', day: 'numeric', month: 'short',
                                         hour: 'numeric', minute: '2-digit' }).format(new Date(iso));
}

export function slotTitle(label) {
  const key = `slot.${label}`;
  return strings[key] ? t(key) : t('slot.other');
}

export async function registerWorker() {
  if (!('serviceWorker' in navigator)) return null;
  try {
    return await navigator.serviceWorker.register('/sw.js', { scope: '/', type: 'module' });
  } catch { return null; }
}

// Ask the browser to send queued answers when it can (Background Sync), and try now.
export async function sendSoon() {
  try {
    const reg = await navigator.serviceWorker?.ready;
    await reg?.sync?.register('ebb-send');
  } catch { /* no Background Sync: the online event and the next open do it */ }
  return flush();
}

export function onQueueChange(fn) {
  try { new BroadcastChannel('ebb').onmessage = fn; } catch { /* old browser */ }
}

window.addEventListener('online', () => { flush(); });
