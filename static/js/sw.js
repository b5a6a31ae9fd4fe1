// Ebb service worker (served at /sw.js, scope "/"). Keeps the patient app working offline:
// the app shell is cached at install, the patient's questionnaires as they are fetched, and
// answers saved offline are sent by Background Sync (queue.js) when the connection returns.
import { flush } from '/static/js/app/queue.js';

const VERSION = 'ebb-shell-v2';
const DATA = 'ebb-data-v1';
const PAGES = ['/app', '/app/answer', '/app/progress', '/join'];
const SHELL = [
  ...PAGES,
  '/manifest.webmanifest',
  '/static/css/patient.css',
  '/static/js/app/common.js', '/static/js/app/queue.js', '/static/js/app/home.js',
  '/static/js/app/answer.js', '/static/js/app/join.js', '/static/js/app/progress.js',
  '/static/icons/icon.svg', '/static/icons/icon-192.png',
];
const LIVE_DATA = ['/api/v1/me', '/api/v1/me/due', '/api/v1/me/progress'];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(VERSION).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) if (![VERSION, DATA].includes(key)) await caches.delete(key);
    await self.clients.claim();
  })());
});

function marked(response) {
  const headers = new Headers(response.headers);
  headers.set('X-Ebb-Cached', '1');
  return new Response(response.body, { status: response.status, headers });
}

async function networkFirst(request, cacheName, key) {
  const cache = await caches.open(cacheName);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(key, response.clone());
    return response;
  } catch (err) {
    const hit = await cache.match(key);
    if (hit) return marked(hit);
    throw err;
  }
}

async function staleWhileRevalidate(request, cacheName) {
  const cache = await caches.open(cacheName);
  const hit = await cache.match(request);
  const fresh = fetch(request).then(async (response) => {
    if (response.ok) await cache.put(request, response.clone());
    return response;
  });
  if (hit) { fresh.catch(() => {}); return hit; }
  return fresh;
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (PAGES.includes(url.pathname)) {
    event.respondWith(networkFirst(request, VERSION, url.pathname));
  } else if (url.pathname.startsWith('/static/') || url.pathname === '/manifest.webmanifest') {
    event.respondWith(staleWhileRevalidate(request, VERSION));
  } else if (url.pathname.startsWith('/api/v1/instruments')) {
    event.respondWith(staleWhileRevalidate(request, DATA));
  } else if (LIVE_DATA.includes(url.pathname)) {
    event.respondWith(networkFirst(request, DATA, url.pathname));
  }
});

self.addEventListener('sync', (event) => {
  if (event.tag === 'ebb-send') event.waitUntil(flush());
});

self.addEventListener('message', (event) => {
  if (event.data?.type === 'flush') event.waitUntil(flush());
});
