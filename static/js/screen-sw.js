// The lobby screen's service worker (served as /<compound>/screen/sw.js, so its scope is that compound's screens).
// After a power cut a screen may boot before the server or the network is back: it then shows the loop it last
// loaded, and its offline badge, instead of a browser error page. It keeps the screen page and its static files
// and nothing else: never an admin or household page, never a slide's detail or a vote. ES2017 (Chromium 65).
"use strict";

const CACHE = "kiosk-screen-1";
const SCREEN_PAGE = /^\/[a-z0-9][a-z0-9-]*\/screen\/[A-Za-z0-9_-]+$/;
const STATIC_FILE = /^\/static\/[A-Za-z0-9_./-]+$/;

// Whether a URL is one this worker may keep: this site's screen page (no query) or one of its static files.
function keeps(url) {
  const parsed = new URL(url, self.location.href);
  if (parsed.origin !== self.location.origin) return false;
  return (SCREEN_PAGE.test(parsed.pathname) && !parsed.search) || STATIC_FILE.test(parsed.pathname);
}

async function remember(url, response) {
  if (!response.ok || response.redirected || response.type !== "basic") return;
  const cache = await caches.open(CACHE);
  await cache.put(url, response);
}

async function lastKept(url) {
  const cache = await caches.open(CACHE);
  return cache.match(url, { ignoreVary: true });
}

// The network first, always (a screen that can reach the server shows what the server says); what was kept
// only when the server cannot be reached or answers that it is not there yet (5xx from a proxy).
async function networkFirst(request) {
  try {
    const response = await fetch(request);
    if (response.status >= 500) {
      const kept = await lastKept(request.url);
      if (kept) return kept;
    }
    await remember(request.url, response.clone());
    return response;
  } catch (error) {
    const kept = await lastKept(request.url);
    if (kept) return kept;
    throw error;
  }
}

self.addEventListener("install", () => self.skipWaiting());

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || !keeps(request.url)) return;
  event.respondWith(networkFirst(request));
});

// The screen page asks to keep itself and its files (it loaded before this worker was in charge), and again
// when its slides change, so a reboot shows the newest loop the screen had.
self.addEventListener("message", (event) => {
  const urls = event.data && event.data.keep;
  if (!Array.isArray(urls)) return;
  event.waitUntil(Promise.all(urls.filter(keeps).map(async (url) => {
    try {
      await remember(new URL(url, self.location.href).href, await fetch(url, { credentials: "same-origin" }));
    } catch (error) {
      // Offline right now: what was kept before stays.
    }
  })));
});
