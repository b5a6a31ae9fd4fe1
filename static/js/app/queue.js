// Answers waiting on this phone (IndexedDB), and sending them. Used by the pages and the
// service worker (no DOM here). A record stays until the server has it: network failures,
// 5xx, 429 and a locked session leave it "saved" for the next try; only a 4xx the server
// explains marks it "rejected" (shown to the patient, never dropped).

const DB = 'ebb';
const STORE = 'answers';
const KEEP_SENT_DAYS = 14;

function open() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'client_uuid' });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function tx(mode, fn) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const t = db.transaction(STORE, mode);
    const result = fn(t.objectStore(STORE));
    t.oncomplete = () => { db.close(); resolve(result.result); };
    t.onerror = () => { db.close(); reject(t.error); };
  });
}

export const put = (rec) => tx('readwrite', (s) => s.put(rec));
export const get = (uuid) => tx('readonly', (s) => s.get(uuid));
export const all = () => tx('readonly', (s) => s.getAll());

function notify() {
  try { new BroadcastChannel('ebb').postMessage({ type: 'queue' }); } catch { /* old browser */ }
}

export async function enqueue(rec) {
  await put({ ...rec, state: 'saved', saved_at: new Date().toISOString() });
  notify();
}

export async function counts() {
  const c = { saved: 0, sent: 0, rejected: 0 };
  for (const r of await all()) c[r.state] = (c[r.state] || 0) + 1;
  return c;
}

async function prune() {
  const cutoff = Date.now() - KEEP_SENT_DAYS * 864e5;
  const old = (await all()).filter((r) => r.state === 'sent' && Date.parse(r.sent_at) < cutoff);
  for (const r of old) await tx('readwrite', (s) => s.delete(r.client_uuid));
}

async function send() {
  const waiting = (await all()).filter((r) => r.state === 'saved')
    .sort((a, b) => a.completed_at.localeCompare(b.completed_at));
  if (!waiting.length) return { locked: false };
  let token;
  try {
    const r = await fetch('/api/v1/auth/session', { credentials: 'same-origin', cache: 'no-store' });
    if (!r.ok) return { locked: r.status === 401 };
    const s = await r.json();
    if (s.pin_locked) return { locked: true };
    token = s.csrf_token;
  } catch { return { offline: true }; }
  for (const rec of waiting) {
    let res;
    try {
      res = await fetch('/api/v1/assessments', {
        method: 'POST', credentials: 'same-origin', cache: 'no-store',
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': rec.client_uuid,
                   'X-CSRF-Token': token },
        body: JSON.stringify({ client_uuid: rec.client_uuid, instrument_id: rec.instrument_id,
                               answers: rec.answers, completed_at: rec.completed_at,
                               slot_key: rec.slot_key || null }),
      });
    } catch { return { offline: true }; }
    if (res.status >= 500 || [401, 403, 408, 429].includes(res.status)) {
      return { locked: res.status === 401 };  // keep it; try again later
    }
    const body = await res.json().catch(() => ({}));
    const now = await get(rec.client_uuid);
    if (!now || now.state !== 'saved') continue;
    if (res.ok) {
      Object.assign(now, { state: 'sent', sent_at: new Date().toISOString(), id: body.id,
                           in_window: body.in_window, crisis_text: body.crisis_text || null });
    } else {
      Object.assign(now, { state: 'rejected', errors: body.errors || [], detail: body.detail || '' });
    }
    await put(now);
    notify();
  }
  return { locked: false };
}

let running = null;

// Send every saved answer, one at a time, oldest first; safe to call from anywhere, any time.
export function flush() {
  if (running) return running;
  const run = () => send().then(async (r) => { await prune(); return r; });
  running = (navigator.locks ? navigator.locks.request('ebb-flush', run) : run())
    .finally(() => { running = null; notify(); });
  return running;
}
