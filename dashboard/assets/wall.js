/* The wall's live controller. It starts when the page's root (#wall) appears (Dash renders pages
   client-side), opens Socket.IO on /live (websocket only, reconnecting by itself), and keeps the
   page current from the stream (streams/protocol.py):

   - snapshot {seq, at, data}: replaces the whole state; the deltas up to seq are in it.
   - delta {seq, prev, topic, payload}: applied in order; a broken chain (prev is not the last
     seq this screen got) asks for a fresh snapshot ("resync").
   - positions {at, fixes}: worker dots; alarm {case_id, ...}: the full-width banner with sound.

   State changes per event; the panels are redrawn at most every 200 ms and the map once a second,
   so the page keeps up under load. Figures that a single event cannot update exactly (rates,
   overdue, departments, rolling 24-hour panels) are refreshed by asking for a snapshot after a
   change (at most every 30 s) and when a deadline, the hour or the day turns — never on a timer
   that polls. Data is inserted with textContent only. */
(function () {
  "use strict";
  const W = (window.GccWall = window.GccWall || {});
  const PANEL_MS = 200;
  const MAP_MS = 1000;
  const REFRESH_MIN_MS = 30e3;
  const RESYNC_RETRY_MS = 10e3;
  const FEED_SIZE = 30;
  const DEPT_ROWS = 9;
  const PINS_PER_TICK = 5; // the newest new-case pins placed per map tick

  function Wall(root) {
    this.root = root;
    this.cfg = JSON.parse(root.dataset.config);
    this.state = JSON.parse(root.dataset.snapshot);
    this.seq = null;
    this.connected = false;
    this.lastHeard = Date.now();
    this.lastSnapshotAt = 0;
    this.resyncAskedAt = 0;
    this.dirty = new Set();
    this.newPins = [];
    this.fresh = new Set(); // feed ids that arrived live (highlighted once)
    this.positions = new Map(); // worker id -> [lon, lat, ms]
    this.timers = [];
    this._ingestPositions(this.state.positions || []);
    const WallMap = W.mapClass();
    this.map = new WallMap(root.querySelector("#wall-map"), this.cfg);
    this.map.setVillages(this.state.villages || []);
    this._loadMap();
    (this.state.alarms || []).forEach((a) => this.map.pin(a));
    this._bindAlarm();
    this._connect();
    this.timers.push(setInterval(() => this._tick(), 1000));
    this.timers.push(setInterval(() => this._drawPanels(), PANEL_MS));
    this.timers.push(setInterval(() => this._drawMap(), MAP_MS));
    this._scheduleTurns();
    this._tick();
    this._syncAlarm();
  }

  /* The village layer loads once; until it does (server down at first paint) a note says so,
     and every (re)connect tries again. */
  Wall.prototype._loadMap = function () {
    const note = this.root.querySelector("#wall-map-note");
    this.map.load().then((ok) => {
      note.textContent = ok ? "" : this.cfg.labels["wall.map_unavailable"];
      note.classList.toggle("hidden", ok);
    });
  };

  /* ---- the stream ------------------------------------------------------------------------ */
  Wall.prototype._connect = function () {
    const socket = (this.socket = io("/live", {
      transports: ["websocket"],
      reconnection: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: 3000,
      timeout: 8000,
    }));
    const heard = () => { this.lastHeard = Date.now(); };
    socket.on("connect", () => { this.connected = true; heard(); this._loadMap(); this._tick(); });
    socket.on("disconnect", () => { this.connected = false; this._tick(); });
    socket.io.on("ping", heard); // the server's keep-alive: the stream is alive, if quiet
    socket.on("snapshot", (msg) => { heard(); this._snapshot(msg); });
    socket.on("delta", (msg) => { heard(); this._delta(msg); });
    socket.on("positions", (msg) => { heard(); this._ingestPositions(msg.fixes || []); });
    socket.on("alarm", (msg) => { heard(); this._alarm(msg); });
    socket.on("heartbeat", heard);
  };

  Wall.prototype._resync = function (force) {
    if (!this.connected) return;
    if (!force && Date.now() - this.resyncAskedAt < RESYNC_RETRY_MS) return;
    this.resyncAskedAt = Date.now();
    this.socket.emit("resync");
  };

  Wall.prototype._snapshot = function (msg) {
    this.state = msg.data;
    this.seq = msg.seq;
    this.lastSnapshotAt = Date.now();
    this.resyncAskedAt = 0;
    this.refreshWanted = false;
    this.positions.clear();
    this._ingestPositions(this.state.positions || []);
    this.map.setVillages(this.state.villages);
    this.map.clearPins();
    this.newPins = [];
    this.state.alarms.forEach((a) => this.map.pin(a));
    ["kpis", "sources", "categories", "trend", "feed", "departments", "villages"].forEach((p) => this.dirty.add(p));
    this.mapDirty = true;
    this._scheduleTurns();
    this._syncAlarm();
  };

  /* Deltas form a chain per screen: "prev" is the seq of the delta sent to this screen before
     (or of its snapshot). A broken chain means something was missed: ask for a snapshot. */
  Wall.prototype._delta = function (msg) {
    if (this.seq === null) return; // the snapshot that starts the stream is on its way
    const chained = msg.prev !== undefined && msg.prev !== null;
    if (chained ? msg.prev !== this.seq : msg.seq !== this.seq + 1) {
      if (msg.seq > this.seq) this._resync();
      return;
    }
    this.seq = msg.seq;
    const p = msg.payload || {};
    if (msg.topic === "case") this._case(p);
    else if (msg.topic === "village") this._village(p);
    else if (msg.topic === "alarm_ack") this._acked(p.case_id);
  };

  /* ---- applying events ------------------------------------------------------------------- */
  Wall.prototype._case = function (c) {
    const s = this.state;
    const k = s.kpis;
    const at = Date.parse(c.reported_at);
    const known = s.feed.find((f) => f.id === c.id);
    if (c.action === "report" && !known) {
      if (at >= Date.parse(s.day_start)) k.reported_today += 1;
      if (c.open) k.open += 1;
      s.sources[c.source] = (s.sources[c.source] || 0) + 1;
      this._countCategory(c.category);
      this._bucket(s.trend.reported, at);
      s.feed.unshift(c);
      s.feed.length = Math.min(s.feed.length, FEED_SIZE);
      this.fresh.add(c.id);
      this.newPins.push(c); // pinned on the next map tick: a burst costs one redraw, not many
      ["sources", "categories", "trend", "feed"].forEach((p) => this.dirty.add(p));
    } else {
      if (known) Object.assign(known, c);
      if (c.action === "close") {
        k.closed_today += 1;
        this._bucket(s.trend.closed, Date.now());
        this.dirty.add("trend");
      }
      if (c.action === "close" || c.action === "void") k.open = Math.max(0, k.open - 1);
      if (!c.open) {
        this.map.pin(c); // a closed case needs no pin, nor an alarm
        if (this.state.alarms.some((x) => x.case_id === c.id)) this._acked(c.id);
      }
      if (known) this.dirty.add("feed");
    }
    this.dirty.add("kpis");
    this._wantRefresh();
  };

  Wall.prototype._countCategory = function (code) {
    const cats = this.state.categories;
    const item = cats.find((c) => c.code === code);
    if (item) item.count += 1;
    else cats.push({ code, count: 1 });
    cats.sort((a, b) => b.count - a.count || (a.code < b.code ? -1 : 1));
    cats.length = Math.min(cats.length, 8);
  };

  Wall.prototype._bucket = function (series, ms) {
    const i = Math.floor((ms - Date.parse(this.state.trend.start)) / 3600e3);
    if (i >= 0 && i < series.length) series[i] += 1;
  };

  Wall.prototype._village = function (v) {
    const list = this.state.villages;
    const row = list.find((x) => x.code === v.code);
    if (row) Object.assign(row, v);
    else list.push(v);
    this.state.kpis.red_villages = list.filter((x) => x.status === "red").length;
    this.map.setVillages([v]);
    this.mapDirty = true;
    this.dirty.add("kpis");
    this.dirty.add("villages");
  };

  Wall.prototype._ingestPositions = function (fixes) {
    fixes.forEach((f) => this.positions.set(f[0], [f[1], f[2], Date.parse(f[3])]));
    this.mapDirty = true;
    this.dirty.add("kpis");
  };

  Wall.prototype._patrolSince = function () {
    return Date.now() - 1000 * (this.state.patrol_window_s || 600);
  };

  /* ---- coalesced drawing ----------------------------------------------------------------- */
  Wall.prototype._drawPanels = function () {
    if (!this.dirty.size) return;
    const R = W.render;
    const s = this.state;
    const cfg = this.cfg;
    const body = (id) => this.root.querySelector("#" + id + " .panel-body") || this.root.querySelector("#" + id);
    const names = {};
    s.villages.forEach((v) => { names[v.code] = v.name; });
    if (this.dirty.has("kpis")) {
      const since = this._patrolSince();
      let patrol = 0;
      this.positions.forEach((p) => { if (p[2] >= since) patrol += 1; });
      R.kpis(this.root, Object.assign({}, s.kpis, { on_patrol: patrol }));
    }
    if (this.dirty.has("sources")) {
      R.bars(body("wall-sources"), cfg.sources.map((k) => ({
        key: k, label: cfg.labels["source." + k], count: s.sources[k] || 0,
      })), cfg.labels["empty.none"]);
    }
    if (this.dirty.has("categories")) {
      R.bars(body("wall-categories"), s.categories.map((c) => ({
        key: c.code, label: cfg.categories[c.code] || c.code, count: c.count,
      })), cfg.labels["empty.none"]);
    }
    if (this.dirty.has("trend")) R.trend(this.root.querySelector("#wall-trend"), s.trend, cfg);
    if (this.dirty.has("feed")) R.feed(body("wall-feed"), s.feed, names, cfg, this.fresh);
    if (this.dirty.has("villages")) R.redList(this.root.querySelector("#wall-red-list"), s.villages, cfg);
    if (this.dirty.has("departments")) R.departments(body("wall-departments"), s.departments, cfg, DEPT_ROWS);
    this.fresh.clear();
    this.dirty.clear();
  };

  Wall.prototype._drawMap = function () {
    this.map.restyle(); // also the red villages' pulse
    const alarmed = new Set(this.state.alarms.map((x) => x.case_id));
    this.newPins.splice(0).slice(-PINS_PER_TICK)
      .filter((c) => !c.emergency || alarmed.has(c.id)) // an emergency flashes while alarmed
      .forEach((c) => this.map.pin(c));
    if (!this.mapDirty) return;
    this.mapDirty = false;
    this.map.setPositions(Array.from(this.positions.values()), this._patrolSince());
  };

  /* ---- refreshing what one event cannot update exactly ---------------------------------- */
  Wall.prototype._wantRefresh = function () {
    if (this.refreshWanted) return;
    this.refreshWanted = true;
    const wait = Math.max(0, this.lastSnapshotAt + REFRESH_MIN_MS - Date.now());
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => { if (this.refreshWanted) this._resync(); }, wait);
  };

  /* A snapshot when the next deadline passes (overdue count), the hour turns (24 h panels) or
     the day turns ("today"); a few seconds of spread keep many walls from asking at once. */
  Wall.prototype._scheduleTurns = function () {
    clearTimeout(this.turnTimer);
    const now = Date.now();
    const candidates = [Math.ceil((now + 1) / 3600e3) * 3600e3, Date.parse(this.state.day_end)];
    if (this.state.next_deadline) candidates.push(Date.parse(this.state.next_deadline));
    const next = Math.min(...candidates.filter((t) => t > now));
    const spread = 1000 + Math.random() * 5000;
    this.turnTimer = setTimeout(() => this._resync(), Math.min(next - now + spread, 2 ** 31 - 1));
  };

  /* ---- clock and freshness --------------------------------------------------------------- */
  Wall.prototype._tick = function () {
    const cfg = this.cfg;
    const L = cfg.labels;
    const now = new Date();
    const clock = W.render.dtf("en-GB", {
      timeZone: cfg.tz, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
    }).format(now);
    this.root.querySelector("#wall-clock").textContent = clock;
    const parts = (locale, opts) => W.render.dtf(locale, Object.assign({ timeZone: cfg.tz }, opts)).format(now);
    this.root.querySelector("#wall-date").textContent = parts("en-CA", {}) + " " +
      (cfg.lang === "zh" ? parts("zh-CN", { weekday: "long" }) : parts("en-GB", { weekday: "short" }));
    const live = this.root.querySelector(".wall-live");
    const conn = this.root.querySelector("#wall-conn");
    const updated = this.root.querySelector("#wall-updated");
    const silent = Math.round((Date.now() - this.lastHeard) / 1000);
    let mode;
    if (!this.connected) mode = this.everConnected ? "down" : "connecting";
    else if (silent > cfg.staleAfterS) mode = "stale";
    else mode = "live";
    if (this.connected) this.everConnected = true;
    this.dirty.add("kpis"); // workers drop off patrol as their last fix ages
    if (now.getSeconds() % 15 === 0) this.mapDirty = true;
    if (now.getSeconds() === 0) this.dirty.add("villages"); // "red for 2 h 10 min" moves on
    live.className = "wall-live " + mode;
    conn.textContent = {
      live: L["wall.live"],
      connecting: L["wall.connecting"],
      down: L["wall.reconnecting"],
      stale: R_fill(L["wall.stale"], { n: silent }),
    }[mode];
    const heardAt = R_time(new Date(this.lastHeard).toISOString(), cfg);
    updated.textContent = R_fill(L["wall.updated"], { t: heardAt });
  };

  function R_fill(t, v) { return W.render.fill(t, v); }
  function R_time(iso, cfg) { return W.render.localTime(iso, cfg, true); }

  /* ---- the alarm (assets/alarm.js, shared with the supervisors' page) ---------------- */
  /* The alarm event carries the case payload, not its description: show and sound it at once,
     and ask for a snapshot, whose alarms carry the description text. */
  Wall.prototype._alarm = function (a) {
    if (!window.GccAlarm.raise(this.state.alarms, a)) return;
    this.map.pin(Object.assign({ open: true, emergency: true, id: a.case_id }, a));
    this._syncAlarm();
    if (!a.description) this._resync(true);
  };

  /* An acknowledged alarm stops sounding and flashing (its village stays red while the
     emergency is open: the village rule says so). */
  Wall.prototype._acked = function (caseId) {
    this.state.alarms = window.GccAlarm.drop(this.state.alarms, caseId);
    this.map.pin({ id: caseId, open: false });
    this._syncAlarm();
  };

  Wall.prototype._syncAlarm = function () {
    const names = {};
    this.state.villages.forEach((v) => { names[v.code] = v.name; });
    window.GccAlarm.sync(this.root, this.state.alarms, names, this.cfg);
  };

  Wall.prototype._bindAlarm = function () {
    this.unbindAlarm = window.GccAlarm.bind(this.root, this.cfg, {
      alarms: () => this.state.alarms,
      socket: () => this.socket,
      acked: (caseId) => this._acked(caseId),
      unlock: () => this._syncAlarm(),
    });
  };

  Wall.prototype.destroy = function () {
    this.timers.forEach((t) => { clearInterval(t); clearTimeout(t); });
    clearTimeout(this.turnTimer);
    clearTimeout(this.refreshTimer);
    if (this.unbindAlarm) this.unbindAlarm();
    this.socket.close();
  };

  /* ---- boot: Dash renders the page after the scripts ran, so watch for #wall ------------- */
  let current = null;
  let failed = null; // a root the wall could not start on: not retried on every mutation
  function boot() {
    const root = document.getElementById("wall");
    if (current && current.root !== root) { current.destroy(); current = null; }
    if (root && !current && root !== failed && window.L && window.io && window.GccAlarm) {
      try {
        current = new Wall(root);
        W.current = current;
      } catch (err) {
        failed = root;
        console.error("wall: cannot start", err);
      }
    }
  }
  new MutationObserver(boot).observe(document.documentElement, { childList: true, subtree: true });
  document.addEventListener("DOMContentLoaded", boot);
})();
