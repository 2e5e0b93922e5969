/* The video wall's tiles: building one (the twin of layouts/video.py tile slots), drawing a
   frame into it, and showing its state. Camera names are inserted with textContent only.

   Frames arrive as JPEG bytes (an ArrayBuffer from the /video socket). They are decoded with
   createImageBitmap and drawn on the tile's canvas: no blob URL is ever created, so none can
   leak, and the last frame stays on the canvas (dimmed) when the camera goes offline. */
(function () {
  "use strict";
  const V = (window.GccVideo = window.GccVideo || {});
  const STALE_MS = 10e3; // a watched tile without a frame for this long looks offline
  const BAD_STATES = { offline: true, reconnecting: true };

  /* A camera's name without its leading town ("枫桥镇 主干道 …路段 1号" → "主干道 …路段 1号"):
     the tile's corner names the village, and in small tiles an ellipsis would otherwise cut
     the end that tells cameras apart (the road segment and its number). */
  function shortName(name) {
    return String(name).replace(/^\S+(?:镇|乡|街道)\s+/, "");
  }

  const el = (tag, cls, text) => window.GccDom.el(tag, cls, text); // assets/dom.js
  const fill = (template, values) => window.GccDom.fill(template, values);

  function distance(metres, L) {
    if (metres === null || metres === undefined) return "";
    if (metres >= 1000) return fill(L["video.distance_km"], { n: (metres / 1000).toFixed(1) });
    return fill(L["video.distance_m"], { n: Math.round(metres) });
  }

  function buildTile(cam, cfg) {
    const L = cfg.labels;
    const tile = el("div", "tile waiting");
    tile.dataset.camera = cam.id;
    tile.dataset.seq = "0";
    tile.dataset.frames = "0";
    tile.dataset.state = cam.status || "";
    tile.draggable = true;
    tile.title = L["video.full_hint"] + " · " + L["video.drag_hint"];
    const canvas = el("canvas", "tile-canvas");
    canvas.width = 320;
    canvas.height = 180;
    const top = el("div", "tile-top");
    const name = el("span", "tile-name", shortName(cam.name || cam.id));
    name.title = cam.name || cam.id;
    top.append(el("span", "tile-dot"), name,
      el("span", "tile-dist", distance(cam.distance_m, L)),
      el("span", "tile-village", cam.village_name || ""));
    const bottom = el("div", "tile-bottom");
    bottom.appendChild(el("span", "tile-age", ""));
    tile.append(canvas, el("div", "tile-wait", L["video.no_frame"]), top, bottom,
      el("div", "tile-badge hidden"));
    return tile;
  }

  function emptyTile() {
    const tile = el("div", "tile empty");
    tile.appendChild(el("div", "tile-wait"));
    return tile;
  }

  /* Decode and draw; resolves when the frame is on the canvas (then the caller acks it). */
  function drawFrame(tile, msg) {
    const blob = new Blob([msg.jpeg], { type: "image/jpeg" });
    return createImageBitmap(blob).then((bitmap) => {
      const canvas = tile.querySelector("canvas");
      if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
        canvas.width = bitmap.width;
        canvas.height = bitmap.height;
      }
      canvas.getContext("2d").drawImage(bitmap, 0, 0);
      bitmap.close();
      tile.dataset.seq = String(msg.seq);
      tile.dataset.frames = String(Number(tile.dataset.frames) + 1);
      tile.classList.remove("waiting");
    });
  }

  /* The dot, the badge and the age of one tile. ``status`` is the camera's CameraStatus (or
     undefined), ``lastMs`` when this page last drew a frame for it, ``watchedMs`` since when the
     page has been asking for it. */
  function showState(tile, status, lastMs, watchedMs, cfg) {
    const L = cfg.labels;
    const now = Date.now();
    let state = (status && status.state) || "";
    const fresh = lastMs && now - lastMs < STALE_MS;
    if (fresh && (!state || state === "unknown" || state === "idle" || state === "starting")) state = "online";
    const stale = watchedMs && now - Math.max(lastMs || 0, watchedMs) > STALE_MS;
    const bad = BAD_STATES[state] || stale;
    const shown = bad ? (state === "reconnecting" ? "reconnecting" : "offline") : state;
    tile.dataset.state = shown;
    tile.classList.toggle("offline", Boolean(bad));
    const badge = tile.querySelector(".tile-badge");
    badge.classList.toggle("hidden", !bad);
    if (bad) {
      // "离线 / 重连中": the camera is down and the capture service keeps trying.
      badge.textContent = shown === "reconnecting"
        ? L["video.state_reconnecting"] + "…"
        : L["video.state_offline"] + " / " + L["video.state_reconnecting"];
    }
    const age = tile.querySelector(".tile-age");
    if (!lastMs) age.textContent = L["video.state_" + shown] || "";
    else {
      const s = Math.floor((now - lastMs) / 1000);
      age.textContent = s < 2 ? L["video.age_now"] : fill(L["video.age_s"], { n: s });
    }
    age.classList.toggle("old", Boolean(lastMs) && now - lastMs > 3000);
  }

  V.tiles = { el, fill, distance, buildTile, emptyTile, drawFrame, showState };
})();
