/* Nothing lost in a dead zone: everything the phone sends goes through this queue.

   Reports (with their photos as Blobs), task results and position fixes are written to
   IndexedDB first, each with its Idempotency-Key from the moment it is made, then sent in the
   order they were made: on the `online` event, when the app opens, and every 15 s. A report is
   sent in steps (the case, then the after-photo, then the self-handling step) and the queue
   remembers how far it got, so a retry repeats nothing: POST /cases answers the first case for
   the same key, a photo already on the case is kept once. Consecutive position items go out as
   one batch (POST /api/v1/positions). A network error or a busy server (429, 5xx) stops the
   round and keeps the item; a refusal (other 4xx) keeps it as failed, shown with the reason,
   and the round goes on. Background Sync is not used (Chromium-only). */
(function () {
  "use strict";
  const F = (window.GccField = window.GccField || {});
  const DB = "gcc-field";
  const STORE = "outbox";
  const RETRY_MS = 15000;
  const MAX_FIXES = 500;
  let dbPromise = null;
  let flushing = null;
  const listeners = [];

  function open() {
    if (!dbPromise) {
      dbPromise = new Promise((resolve, reject) => {
        const req = indexedDB.open(DB, 1);
        req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: "id", autoIncrement: true });
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
    }
    return dbPromise;
  }

  async function tx(mode, fn) {
    const db = await open();
    return new Promise((resolve, reject) => {
      const t = db.transaction(STORE, mode);
      const store = t.objectStore(STORE);
      let result;
      Promise.resolve(fn(store)).then((r) => { result = r; });
      t.oncomplete = () => resolve(result);
      t.onerror = () => reject(t.error);
    });
  }

  function all() {
    return tx("readonly", (store) => new Promise((resolve) => {
      const req = store.getAll();
      req.onsuccess = () => resolve(req.result.sort((a, b) => a.id - b.id));
    }));
  }

  const put = (item) => tx("readwrite", (store) => { store.put(item); });
  const drop = (ids) => tx("readwrite", (store) => { ids.forEach((id) => store.delete(id)); });

  async function changed() {
    const items = await all();
    listeners.forEach((fn) => fn(items));
    return items;
  }

  /* kind: "report" | "action" | "positions" | a kind of F.queue.senders; data: what to send
     (Blobs allowed). */
  async function add(kind, data) {
    const item = { kind, data, key: F.newKey(), created: new Date().toISOString(), state: {}, error: null };
    const id = await tx("readwrite", (store) => new Promise((resolve) => {
      const req = store.add(item);
      req.onsuccess = () => resolve(req.result);
    }));
    item.id = id;
    await changed();
    flush();
    return item;
  }

  class Stop extends Error {}

  function transient(status) { return status === 0 || status === 408 || status === 429 || status >= 500; }

  async function call(method, url, body, headers) {
    let r;
    try {
      r = await F.request(method, url, body, headers);
    } catch (e) {
      throw new Stop("network");
    }
    if (transient(r.status) || r.status === 401) throw new Stop(String(r.status));
    return r;
  }

  function refused(r) {
    const b = r.body || {};
    const err = new Error(b.message || b.error || String(r.status));
    err.refused = true;
    return err;
  }

  function photoForm(blobs, prefix) {
    const form = new FormData();
    blobs.forEach((b, i) => form.append("photos", b, `${prefix}-${i + 1}.jpg`));
    return form;
  }

  async function sendReport(item) {
    const d = item.data;
    if (!item.state.case_id) {
      const form = photoForm(d.photos || [], "photo");
      Object.entries(d.fields).forEach(([k, v]) => { if (v !== "" && v !== null && v !== undefined) form.append(k, String(v)); });
      const r = await call("POST", "/api/v1/cases", form, { "Idempotency-Key": item.key });
      if (r.status !== 200 && r.status !== 201) throw refused(r);
      item.state.case_id = r.body.id;
      await put(item);
    }
    if (d.self_handled) await sendStep(item, item.state.case_id, "self_handle", d.after || [], "", null);
    return item.state.case_id;
  }

  /* Photos for a step, then the step. A 409 after the photos went up means the step is already
     taken (a retry whose first answer was lost) or someone else took it: nothing left to do. */
  async function sendStep(item, caseId, action, photos, note, reason) {
    if (photos.length && !item.state.attachments) {
      const r = await call("POST", `/api/v1/cases/${caseId}/attachments`, photoForm(photos, action));
      if (r.status !== 201) throw refused(r);
      item.state.attachments = r.body.attachments;
      await put(item);
    }
    const body = { action, note: note || "", attachments: item.state.attachments || [] };
    if (reason) body.reason = reason;
    const r = await call("POST", `/api/v1/cases/${caseId}/actions`, body);
    if (r.status === 409 && item.state.tried) return;
    if (r.status !== 200) {
      item.state.tried = true;
      await put(item);
      throw refused(r);
    }
  }

  async function sendPositions(batch) {
    const fixes = [].concat(...batch.map((i) => i.data.fixes)).slice(0, MAX_FIXES);
    const r = await call("POST", "/api/v1/positions", { fixes });
    if (r.status !== 200) throw refused(r);
  }

  async function round() {
    if (!navigator.onLine) return;
    const items = (await all()).filter((i) => !i.error);
    for (let n = 0; n < items.length; n++) {
      const item = items[n];
      try {
        if (item.kind === "positions") {
          const batch = [item];
          let count = item.data.fixes.length;
          while (n + 1 < items.length && items[n + 1].kind === "positions" &&
                 count + items[n + 1].data.fixes.length <= MAX_FIXES) {
            n += 1;
            batch.push(items[n]);
            count += items[n].data.fixes.length;
          }
          await sendPositions(batch);
          await drop(batch.map((i) => i.id));
        } else if (item.kind === "report") {
          const caseId = await sendReport(item);
          await drop([item.id]);
          F.queue.sent.forEach((fn) => fn(item, caseId));
        } else if (item.kind === "action") {
          const d = item.data;
          item.state.tried = item.state.tried || false;
          await sendStep(item, d.case_id, d.action, d.photos || [], d.note, d.reason);
          await drop([item.id]);
          F.queue.sent.forEach((fn) => fn(item, d.case_id));
        } else if (senders[item.kind]) {
          // Other kinds (the residents' side, residents.js) send themselves with the same
          // helpers: the same order, keys, stops and refusals.
          const id = await senders[item.kind](item);
          await drop([item.id]);
          F.queue.sent.forEach((fn) => fn(item, id));
        }
      } catch (e) {
        if (e instanceof Stop) break;
        item.error = e.message || String(e);
        await put(item);
      }
      await changed();
    }
  }

  function flush() {
    if (!flushing) {
      flushing = round().catch(() => {}).finally(() => { flushing = null; changed(); });
    }
    return flushing;
  }

  async function retryFailed() {
    const items = await all();
    for (const item of items) {
      if (item.error) { item.error = null; await put(item); }
    }
    return flush();
  }

  const senders = {};
  F.queue = {
    add, all, flush, retryFailed, sent: [],
    /* senders[kind] = async (item) => id: sends an item of its own kind (residents.js), with
       call (a network error or a busy server stops the round), refused (an answer as the
       item's error) and save (keep how far the item got). */
    senders, call, refused, save: put,
    onChange(fn) { listeners.push(fn); changed(); },
  };
  window.addEventListener("online", flush);
  setInterval(flush, RETRY_MS);
})();
