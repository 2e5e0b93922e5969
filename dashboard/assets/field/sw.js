/* The field app's service worker (scope /m): the app shell is cached, so the app opens with no
   network. The shell and the app's own GET data (/m/api/*, the categories) are fetched from the
   network first, and the last answer is used when the network is away. Nothing is ever sent from here: what the
   worker makes offline waits in IndexedDB (queue.js) and the page sends it. */
"use strict";
const VERSION = "gcc-field-v2";
const SHELL = [
  "/assets/vendor/leaflet.css", "/assets/vendor/leaflet.js", "/assets/vendor/socket.io.min.js",
  "/assets/field/field.css", "/assets/field/dom.js", "/assets/field/queue.js", "/assets/field/photos.js",
  "/assets/field/patrol.js", "/assets/field/report.js", "/assets/field/tasks.js",
  "/assets/field/residents.js",
  "/assets/field/call.js", "/assets/field/app.js", "/assets/field/icon.svg",
];
const DATA = ["/m/api/me", "/m/api/tasks", "/m/api/reports", "/m/api/track", "/api/v1/categories",
  // The residents' side (residents.js): my village's residents and the two catalogues. Not my
  // requests: they carry the residents' ID numbers and phones, never kept on the phone's disk.
  "/api/v1/points/balances", "/api/v1/points/items", "/api/v1/service-items"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(VERSION).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== VERSION).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

async function networkFirst(request, cacheKey) {
  const cache = await caches.open(VERSION);
  try {
    const response = await fetch(request);
    if (response.ok && !response.redirected) cache.put(cacheKey, response.clone());
    return response;
  } catch (e) {
    const hit = await cache.match(cacheKey);
    if (hit) return hit;
    throw e;
  }
}

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname === "/m") {
    // The page itself: the network's when there is one (a new version, the sign-in), else the
    // last one seen (any language or query: one shell).
    event.respondWith(networkFirst(req, "/m"));
  } else if (DATA.includes(url.pathname)) {
    event.respondWith(networkFirst(req, url.pathname));
  } else if (SHELL.includes(url.pathname)) {
    // Network first here too: a new version of a script reaches the phone at its next start.
    event.respondWith(networkFirst(req, url.pathname));
  }
});
