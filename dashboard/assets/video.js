/* The video wall's controller (/video). It starts when the page's root (#video) appears (Dash
   renders pages client-side), loads the cameras this principal may see from /api/v1/cameras,
   pages them over an n×n grid and draws each tile from the Socket.IO namespace /video:

   - watch {ids, quality: "tile"}: the cameras on the current page (replaces the previous set);
     nothing while the page is hidden or the full-size view covers the grid ("pause");
   - frame {id, seq, at, w, h, jpeg}: drawn on the tile's canvas, then "ack" {id, seq} — the
     server sends a camera's next frame only after the ack, so a slow screen gets fewer frames;
   - status {cameras: [...]}: online / reconnecting / offline per camera (badges, dots).

   Socket.IO reconnects by itself and the page asks again for what it shows: no F5 ever. A click
   on a tile opens the full-size view, plain MJPEG on its own connection, ended on close. */
(function () {
  "use strict";
  const V = (window.GccVideo = window.GccVideo || {});
  const RETRY_MS = 5000;

  function VideoWall(root) {
    this.root = root;
    this.cfg = JSON.parse(root.dataset.config);
    this.L = this.cfg.labels;
    this.cameras = []; // every camera the principal may see, in wall order
    this.selection = null; // a recalled layout's camera ids (null: all cameras)
    this.layoutId = null;
    this.cols = this.rows = this.cfg.grid;
    this.page = 0;
    this.cycle = this.cfg.cycleSeconds || 0;
    this.tiles = new Map(); // camera id -> tile on the current page
    this.status = new Map(); // camera id -> CameraStatus
    this.lastFrame = new Map(); // camera id -> ms of the last drawn frame
    this.watchedSince = new Map(); // camera id -> ms since the page asks for it
    this.connected = false;
    this.fullOpen = null;
    this.timers = [];
    this.grid = root.querySelector("#video-grid");
    this._bindToolbar();
    this._bindGrid();
    this._bindFull();
    this.onVisibility = () => { this._watch(); this._tick(); };
    document.addEventListener("visibilitychange", this.onVisibility);
    this.layouts = V.layouts ? new V.layouts.Layouts(this) : null;
    this._connect();
    if (!this.cfg.focusError) this._load();
    this.timers.push(setInterval(() => this._tick(), 1000));
    this._setCycle(this.cycle);
    this._tick();
  }

  /* ---- cameras --------------------------------------------------------------------------- */
  VideoWall.prototype._load = function () {
    const focus = this.cfg.focus;
    const url = "/api/v1/cameras" + (focus ? "?" + focus.query : "");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((r) => r.json().then((body) => {
        if (r.ok) return body;
        const err = new Error(body.message || body.error || "HTTP " + r.status);
        err.status = r.status;
        throw err;
      }))
      .then((body) => {
        this.cameras = body.cameras || [];
        this.loaded = true;
        if (focus) this._focusList();
        if (focus && !this.cfg.gridFromQuery) this._setGrid(this._fit(this.cameras.length), true);
        if (this.layouts) this.layouts.start(this.cfg.layoutId);
        this._render();
      })
      .catch((err) => {
        console.warn("video: cameras not loaded:", err.message);
        if (err.status === 404 || err.status === 422) { // a case or village that is not there
          this._note(this.L["video.not_found"]);
          this.gone = true; // asking again will not help
          return;
        }
        this._note(this.L["video.load_failed"]);
        this.loadTimer = setTimeout(() => this._load(), RETRY_MS);
      });
  };

  VideoWall.prototype._fit = function (count) {
    const sizes = this.cfg.gridSizes;
    return sizes.find((n) => n * n >= count && n <= 4) || (count > 16 ? 4 : sizes[0]);
  };

  VideoWall.prototype.shown = function () {
    if (!this.selection) return this.cameras;
    const byId = new Map(this.cameras.map((c) => [c.id, c]));
    return this.selection.map((id) => byId.get(id)).filter(Boolean);
  };

  VideoWall.prototype.pages = function () {
    return Math.max(1, Math.ceil(this.shown().length / (this.cols * this.rows)));
  };

  VideoWall.prototype.onPage = function () {
    const per = this.cols * this.rows;
    return this.shown().slice(this.page * per, (this.page + 1) * per);
  };

  /* ---- drawing the grid ------------------------------------------------------------------ */
  VideoWall.prototype._render = function () {
    const T = V.tiles;
    this.page = Math.min(this.page, this.pages() - 1);
    const cams = this.onPage();
    const tiles = new Map();
    const nodes = cams.map((cam) => {
      const tile = this.tiles.get(cam.id) || T.buildTile(cam, this.cfg); // keep the last frame
      tiles.set(cam.id, tile);
      return tile;
    });
    for (let i = nodes.length; i < this.cols * this.rows; i++) nodes.push(T.emptyTile());
    this.tiles = tiles;
    this.grid.className = "video-grid g" + Math.max(this.cols, this.rows);
    this.grid.style.gridTemplateColumns = "repeat(" + this.cols + ", 1fr)";
    this.grid.style.gridTemplateRows = "repeat(" + this.rows + ", 1fr)";
    this.grid.dataset.n = String(this.cols);
    this.grid.dataset.page = String(this.page);
    this.grid.replaceChildren(...nodes);
    const L = this.L;
    this.root.querySelector("#video-page").textContent =
      T.fill(L["video.page"], { n: this.page + 1, m: this.pages() });
    this.root.querySelector("#video-count").textContent =
      T.fill(L["video.cameras_count"], { n: this.shown().length });
    this._keepInLink();
    this._note(this.loaded && !this.shown().length
      ? (this.cfg.focus ? L["video.none_near"] : L["video.empty"]) : "");
    this._watch();
    this._tick();
  };

  /* The language switch keeps what the wall shows (grid, cycle, recalled layout). */
  VideoWall.prototype._keepInLink = function () {
    const link = this.root.querySelector("#video-lang");
    if (!link || this.cfg.focus) return;
    const url = new URL(link.getAttribute("href"), window.location.href);
    const set = (k, v) => (v ? url.searchParams.set(k, String(v)) : url.searchParams.delete(k));
    set("grid", this.cols === this.rows ? this.cols : null);
    set("cycle", this.cycle);
    set("layout", this.layoutId);
    link.setAttribute("href", url.pathname + url.search);
  };

  VideoWall.prototype._note = function (text) {
    const note = this.root.querySelector("#video-note");
    note.textContent = text;
    note.classList.toggle("hidden", !text);
  };

  /* ---- the socket ------------------------------------------------------------------------ */
  VideoWall.prototype._connect = function () {
    const socket = (this.socket = io("/video", {
      transports: ["websocket"],
      reconnection: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: 3000,
      timeout: 8000,
    }));
    socket.on("connect", () => {
      this.connected = true;
      this.watching = null; // the server forgot: ask again
      if (!this.loaded && !this.gone && !this.cfg.focusError) { clearTimeout(this.loadTimer); this._load(); }
      this._watch();
      this._tick();
    });
    socket.on("disconnect", () => { this.connected = false; this._tick(); });
    socket.on("frame", (msg) => this._frame(msg));
    socket.on("status", (msg) => {
      (msg.cameras || []).forEach((s) => this.status.set(s.id, s));
      this._tick();
    });
    socket.on("error", (msg) => console.warn("video: refused:", msg && (msg.message || msg.error)));
  };

  VideoWall.prototype._frame = function (msg) {
    const tile = this.tiles.get(msg.id);
    const ack = () => { if (this.connected) this.socket.emit("ack", { id: msg.id, seq: msg.seq }); };
    if (!tile) { ack(); return; } // paged away meanwhile: the next watch stops it
    V.tiles.drawFrame(tile, msg)
      .then(() => { this.lastFrame.set(msg.id, Date.now()); this._showTile(msg.id); })
      .catch((err) => console.warn("video: bad frame", msg.id, err && err.message))
      .finally(ack);
  };

  /* Ask for the cameras on the page, or for nothing while nobody can see them. */
  VideoWall.prototype._watch = function () {
    if (!this.connected) return;
    const hidden = document.hidden || this.fullOpen !== null;
    const ids = hidden ? [] : Array.from(this.tiles.keys());
    const key = hidden ? "pause" : ids.join(",");
    if (key === this.watching) return;
    this.watching = key;
    const now = Date.now();
    const since = new Map();
    ids.forEach((id) => since.set(id, this.watchedSince.get(id) || now));
    this.watchedSince = since;
    if (hidden) this.socket.emit("pause", {});
    else this.socket.emit("watch", { ids, quality: "tile" });
    this.root.dataset.watching = hidden ? "" : ids.join(" ");
  };

  /* ---- clock, states, ages --------------------------------------------------------------- */
  VideoWall.prototype._showTile = function (id) {
    const tile = this.tiles.get(id);
    if (!tile) return;
    const watched = this.connected && !document.hidden && this.fullOpen === null;
    V.tiles.showState(tile, this.status.get(id), this.lastFrame.get(id),
      watched ? this.watchedSince.get(id) : null, this.cfg);
  };

  VideoWall.prototype._tick = function () {
    const L = this.L;
    const clock = new Intl.DateTimeFormat("en-GB", {
      timeZone: this.cfg.tz, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
    }).format(new Date());
    this.root.querySelector("#video-clock").textContent = clock;
    let mode = "live";
    if (!this.connected) mode = this.everConnected ? "down" : "connecting";
    else if (document.hidden) mode = "paused";
    if (this.connected) this.everConnected = true;
    this.root.querySelector(".video-live").className = "video-live " + mode;
    this.root.querySelector("#video-conn").textContent = {
      live: L["video.live"], connecting: L["video.connecting"], down: L["video.reconnecting"],
      paused: L["video.paused"],
    }[mode];
    this.tiles.forEach((tile, id) => this._showTile(id));
  };

  /* ---- toolbar: grid, pages, cycling ----------------------------------------------------- */
  VideoWall.prototype._bindToolbar = function () {
    const q = (s) => this.root.querySelector(s);
    q("#video-grid-chooser").addEventListener("click", (e) => {
      const b = e.target.closest("[data-n]");
      if (b) this._setGrid(Number(b.dataset.n));
    });
    q("#video-prev").addEventListener("click", () => this.turn(-1, true));
    q("#video-next").addEventListener("click", () => this.turn(1, true));
    const cycle = q("#video-cycle");
    if (cycle) {
      cycle.addEventListener("click", (e) => {
        const b = e.target.closest("[data-s]");
        if (b) this._setCycle(Number(b.dataset.s) === this.cycle ? 0 : Number(b.dataset.s));
      });
    }
    document.addEventListener("keydown", this.onKey = (e) => {
      if (e.target && e.target.tagName === "INPUT") return;
      if (e.key === "Escape") { this.closeFull(); if (this.layouts) this.layouts.open(false); }
      else if (e.key === "PageDown" || e.key === "ArrowRight") this.turn(1, true);
      else if (e.key === "PageUp" || e.key === "ArrowLeft") this.turn(-1, true);
    });
  };

  VideoWall.prototype._setGrid = function (n, quiet) {
    const first = this.page * this.cols * this.rows; // keep the first camera on screen
    this.cols = this.rows = n;
    this.page = Math.floor(first / (n * n));
    this.root.querySelectorAll("#video-grid-chooser [data-n]").forEach((b) =>
      b.classList.toggle("active", Number(b.dataset.n) === n));
    if (!quiet) this._render();
  };

  VideoWall.prototype.setShape = function (cols, rows) {
    this.cols = cols;
    this.rows = rows;
    this.page = 0;
    this.root.querySelectorAll("#video-grid-chooser [data-n]").forEach((b) =>
      b.classList.toggle("active", cols === rows && Number(b.dataset.n) === cols));
  };

  VideoWall.prototype.turn = function (step, byHand) {
    const pages = this.pages();
    this.page = (this.page + step + pages) % pages;
    if (byHand) this._setCycle(this.cycle); // an operator's page turn restarts the countdown
    this._render();
  };

  VideoWall.prototype._setCycle = function (seconds) {
    this.cycle = seconds;
    clearInterval(this.cycleTimer);
    if (seconds > 0) this.cycleTimer = setInterval(() => { if (!this.fullOpen) this.turn(1); }, seconds * 1000);
    this._keepInLink();
    const box = this.root.querySelector("#video-cycle");
    if (!box) return;
    box.dataset.on = seconds > 0 ? "1" : "";
    box.querySelectorAll("[data-s]").forEach((b) =>
      b.classList.toggle("active", Number(b.dataset.s) === seconds));
  };

  /* ---- reordering by drag and drop ------------------------------------------------------- */
  VideoWall.prototype._bindGrid = function () {
    this.grid.addEventListener("click", (e) => {
      const tile = e.target.closest(".tile[data-camera]");
      if (tile) this.openFull(tile.dataset.camera);
    });
    this.grid.addEventListener("dragstart", (e) => {
      const tile = e.target.closest(".tile[data-camera]");
      if (tile) e.dataTransfer.setData("text/plain", tile.dataset.camera);
    });
    this.grid.addEventListener("dragover", (e) => { if (e.target.closest(".tile[data-camera]")) e.preventDefault(); });
    this.grid.addEventListener("drop", (e) => {
      const target = e.target.closest(".tile[data-camera]");
      const moved = e.dataTransfer.getData("text/plain");
      if (!target || !moved || moved === target.dataset.camera) return;
      e.preventDefault();
      this._swap(moved, target.dataset.camera);
    });
  };

  VideoWall.prototype._swap = function (a, b) {
    const list = this.selection ? this.selection.slice() : this.cameras.map((c) => c.id);
    const i = list.indexOf(a), j = list.indexOf(b);
    if (i < 0 || j < 0) return;
    list[i] = b;
    list[j] = a;
    if (this.selection) this.selection = list;
    else {
      const byId = new Map(this.cameras.map((c) => [c.id, c]));
      this.cameras = list.map((id) => byId.get(id));
    }
    this._render();
  };

  /* ---- the full-size view ---------------------------------------------------------------- */
  VideoWall.prototype._bindFull = function () {
    this.root.querySelector("#video-full-close").addEventListener("click", () => this.closeFull());
    this.root.querySelector("#video-full").addEventListener("click", (e) => {
      if (e.target.id === "video-full") this.closeFull(); // a click beside the picture
    });
  };

  VideoWall.prototype.camera = function (id) {
    return this.cameras.find((c) => c.id === id);
  };

  VideoWall.prototype.openFull = function (id) {
    const cam = this.camera(id);
    if (!cam) return;
    this.closeFull();
    const full = this.root.querySelector("#video-full");
    const img = document.createElement("img");
    img.className = "full-img";
    img.alt = cam.name || cam.id;
    img.addEventListener("load", () => { img.dataset.loaded = "1"; });
    img.src = "/video/cameras/" + encodeURIComponent(id) + "/live.mjpg";
    this.root.querySelector("#video-full-box").replaceChildren(img);
    this.root.querySelector("#video-full-title").textContent =
      [cam.name || cam.id, cam.village_name || ""].filter(Boolean).join(" · ");
    full.dataset.camera = id;
    full.classList.remove("hidden");
    this.fullOpen = id;
    this._watch(); // the tiles underneath are covered: stop them meanwhile
  };

  /* Removing the src ends the MJPEG request (its own connection), so the capture service stops
     decoding the main stream ~10 s later. */
  VideoWall.prototype.closeFull = function () {
    if (this.fullOpen === null) return;
    const img = this.root.querySelector("#video-full-box img");
    if (img) { img.removeAttribute("src"); img.remove(); }
    const full = this.root.querySelector("#video-full");
    full.classList.add("hidden");
    full.dataset.camera = "";
    this.fullOpen = null;
    this._watch();
  };

  /* ---- the focus list of a video check --------------------------------------------------- */
  VideoWall.prototype._focusList = function () {
    const list = this.root.querySelector("#video-focus-list");
    if (!list) return;
    const T = V.tiles;
    const items = this.cameras.map((cam) => {
      const li = T.el("li", "focus-item");
      li.dataset.camera = cam.id;
      li.dataset.distance = String(cam.distance_m === undefined ? "" : cam.distance_m);
      const head = T.el("div", "focus-head");
      const name = T.el("button", "focus-name", cam.name || cam.id);
      name.title = cam.name || cam.id;
      name.addEventListener("click", () => this.openFull(cam.id));
      head.append(name, T.el("span", "focus-dist", T.distance(cam.distance_m, this.L)));
      li.append(head, T.el("div", "focus-village", cam.village_name || ""));
      if (this.cfg.canEvidence && V.layouts) li.appendChild(V.layouts.evidenceButton(this, cam));
      return li;
    });
    if (!items.length) items.push(T.el("li", "empty", this.L["video.none_near"]));
    list.replaceChildren(...items);
  };

  VideoWall.prototype.destroy = function () {
    this.timers.forEach((t) => clearInterval(t));
    clearInterval(this.cycleTimer);
    clearTimeout(this.loadTimer);
    document.removeEventListener("visibilitychange", this.onVisibility);
    document.removeEventListener("keydown", this.onKey);
    this.closeFull();
    this.socket.close();
  };

  /* ---- boot: Dash renders the page after the scripts ran, so watch for #video ------------ */
  let current = null;
  let failed = null;
  function boot() {
    const root = document.getElementById("video");
    if (current && current.root !== root) { current.destroy(); current = null; }
    if (root && !current && root !== failed && window.io && V.tiles) {
      try {
        current = new VideoWall(root);
        V.current = current;
      } catch (err) {
        failed = root;
        console.error("video: cannot start", err);
      }
    }
  }
  new MutationObserver(boot).observe(document.documentElement, { childList: true, subtree: true });
  document.addEventListener("DOMContentLoaded", boot);
})();
