/* The wall's live controller — the pattern of a live page (docs/wall.md, "A live page"):

   1. the page (layouts/wall.py) is a frame with a config (data-config); it starts when its root
      (#wall) appears (Dash renders pages client-side);
   2. GccLive.connect (assets/live.js) opens /live and keeps the sequence chain: the snapshot
      that starts every (re)connect is the first paint, drawn by the one renderer of each panel
      (assets/wall_render.js, the map in assets/wall_map.js); deltas change the state;
   3. state changes per event, drawing is coalesced: panels at most every 200 ms, the map once a
      second; the page never polls on a timer.

   Levels: the snapshot says the wall's level (town, county, city). Above a town the map shows
   the towns coloured by their share of red villages and the red list names every town with red
   villages; a click on a town drills in (its villages, and the panels and KPIs of that town from
   /api/v1/wall/snapshot?area=…), "back" returns. Deltas keep both the wall's state and the
   drilled town's current. Figures a single event cannot update exactly (rates, overdue,
   departments, the rolling 24-hour panels) are refreshed by asking for a snapshot after a change
   (at most every 30 s) and when a deadline, the hour or the day turns. Those are refreshes: the
   panels again, only the villages that changed, no positions (they stream once a second and the
   wall keeps its own). Data is inserted with textContent only. */
(function () {
  "use strict";
  const W = (window.GccWall = window.GccWall || {});
  const PANEL_MS = 200;
  const MAP_MS = 1000;
  const REFRESH_MIN_MS = 30e3;
  const RED_PAGE_S = 8; // the red list turns a page this often
  const FEED_SIZE = 30;
  const DEPT_ROWS = 9;
  const PINS_PER_TICK = 5; // the newest new-case pins placed per map tick
  const API = "/api/v1/wall/";
  const SLOW_MS = 16; // a step longer than a frame is remembered in GccWall.slow (bench/)

  /* Run a step, remembering it when it took longer than a frame (at most 200 kept). */
  W.slow = W.slow || [];
  function timed(name, fn) {
    const t0 = performance.now();
    try { return fn(); } finally {
      const ms = performance.now() - t0;
      if (ms > SLOW_MS) { W.slow.push([name, Math.round(ms), Math.round(t0)]); if (W.slow.length > 200) W.slow.shift(); }
    }
  }

  function Wall(root) {
    performance.mark("wall:start");
    this.root = root;
    this.cfg = JSON.parse(root.dataset.config);
    this.full = null; // the wall's state (its whole area), from the live snapshot
    this.state = null; // what is shown: the wall's state, or the drilled town's
    this.town = null; // the town drilled into
    this.townWorkers = null;
    this.connected = false;
    this.lastHeard = Date.now();
    this.lastSnapshotAt = 0;
    this.dirty = new Set();
    this.newPins = [];
    this.fresh = new Set(); // feed ids that arrived live (highlighted once)
    this.positions = new Map(); // worker id -> [lon, lat, ms]
    this.redPage = 0;
    this.timers = [];
    const WallMap = W.mapClass();
    this.map = new WallMap(root.querySelector("#wall-map"), this.cfg);
    this.map.onDrill = (code) => this.drill(code);
    this.map.onPlace = (latlng) => this.geofence(latlng);
    this.layerShown = null;
    this._bindAlarm();
    root.querySelector("#wall-back").addEventListener("click", () => this.back());
    // A town in the red list drills in, as a click on it on the map does.
    root.querySelector("#wall-red-list").addEventListener("click", (e) => {
      const row = e.target.closest(".red-row.unit[data-key]");
      if (row) this.drill(row.dataset.key);
    });
    this.live = window.GccLive.connect({
      heard: () => { this.lastHeard = Date.now(); },
      state: (up) => {
        if (up && !this.everConnected) performance.mark("wall:connected");
        this.connected = up;
        this._tick();
      },
      snapshot: (msg) => timed("snapshot", () => this._snapshot(msg)),
      delta: (msg) => timed("delta", () => this._delta(msg)),
      events: {
        positions: (msg) => timed("positions", () => this._ingestFixes(msg.fixes || [])),
        alarm: (msg) => this._alarm(msg),
        heartbeat: () => {},
      },
    });
    this.timers.push(setInterval(() => this._tick(), 1000));
    this.timers.push(setInterval(() => timed("panels", () => this._drawPanels()), PANEL_MS));
    this.timers.push(setInterval(() => timed("map", () => this._drawMap()), MAP_MS));
    this._tick();
  }

  /* ---- the map's layer: the wall's units, or a drilled town's villages ------------------- */
  Wall.prototype._layerWanted = function () {
    if (this.town) return ["villages", this.town];
    return [this.full.level === "town" ? "villages" : "towns", this.full.area || ""];
  };

  /* Load the layer the level wants, once; until it loads (server down) a note says so, and
     every snapshot tries again. */
  Wall.prototype._loadMap = function () {
    const [kind, area] = this._layerWanted();
    const key = kind + ":" + area;
    if (this.layerShown === key || this.layerLoading === key) return;
    this.layerLoading = key;
    const note = this.root.querySelector("#wall-map-note");
    this.map.fetchLayer(API + kind + ".geojson?area=" + encodeURIComponent(area))
      .then((geojson) => {
        if (this._layerWanted().join(":") !== key) return; // moved on meanwhile
        timed("layer", () => this.map.show(kind, geojson));
        performance.mark("wall:layer");
        this.layerShown = key;
        note.classList.add("hidden");
      })
      .catch((err) => {
        console.warn("wall: map layer not loaded yet:", err.message);
        note.textContent = this.cfg.labels["wall.map_unavailable"];
        note.classList.remove("hidden");
      })
      .finally(() => { if (this.layerLoading === key) this.layerLoading = null; });
  };

  /* ---- the geofence: who is inside the clicked grid and village now ---------------------- */
  Wall.prototype.geofence = function (latlng) {
    const L = this.cfg.labels;
    const box = document.createElement("div");
    box.className = "geofence";
    box.textContent = L["wall.geofence_loading"];
    this.map.popup(latlng, box);
    const url = API + "geofence?lon=" + latlng.lng.toFixed(6) + "&lat=" + latlng.lat.toFixed(6) +
      "&lang=" + this.cfg.lang;
    fetch(url, { credentials: "same-origin" })
      .then((resp) => {
        if (resp.status === 404) return null;
        if (!resp.ok) throw new Error("HTTP " + resp.status);
        return resp.json();
      })
      .then((data) => {
        box.textContent = "";
        if (!data) { box.textContent = L["wall.geofence_outside"]; return; }
        const now = Date.parse(data.at);
        this._fenceSection(box, data.grid.name, data.grid.inside, now);
        this._fenceSection(box, data.village.name, data.village.inside, now);
        box.dataset.loaded = "1";
      })
      .catch((err) => {
        console.warn("wall: geofence not loaded:", err.message);
        box.textContent = L["wall.geofence_error"];
      });
  };

  const FENCE_ROWS = 12; // more are counted, not listed

  Wall.prototype._fenceSection = function (box, title, inside, now) {
    const L = this.cfg.labels;
    const D = window.GccDom;
    const head = document.createElement("div");
    head.className = "geofence-head";
    head.textContent = title + " · " + L["wall.geofence_count"].replace("{n}", inside.length);
    box.appendChild(head);
    if (!inside.length) {
      const none = document.createElement("div");
      none.className = "geofence-none";
      none.textContent = L["wall.geofence_none"];
      box.appendChild(none);
      return;
    }
    const hhmm = D.dtf("en-GB", { timeZone: this.cfg.tz, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    const table = document.createElement("table");
    table.className = "geofence-rows";
    inside.slice().sort((a, b) => b.dwell_s - a.dwell_s).slice(0, FENCE_ROWS).forEach((w) => {
      const tr = table.insertRow();
      tr.dataset.worker = w.worker;
      tr.insertCell().textContent = w.name;
      tr.insertCell().textContent = L["wall.geofence_since"].replace("{t}", hhmm.format(new Date(Date.parse(w.since))));
      const dwell = tr.insertCell();
      dwell.className = "dwell";
      dwell.textContent = this._duration(w.dwell_s);
      const age = Math.max(0, Math.round((now - Date.parse(w.last_fix)) / 60000));
      tr.insertCell().textContent = L["wall.geofence_fix_age"].replace("{m}", age);
    });
    box.appendChild(table);
    if (inside.length > FENCE_ROWS) {
      const more = document.createElement("div");
      more.className = "geofence-none";
      more.textContent = L["wall.geofence_more"].replace("{n}", inside.length - FENCE_ROWS);
      box.appendChild(more);
    }
  };

  Wall.prototype._duration = function (seconds) {
    const L = this.cfg.labels;
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return L["wall.geofence_minutes"].replace("{m}", minutes);
    return L["wall.geofence_hours"].replace("{h}", Math.floor(minutes / 60)).replace("{m}", minutes % 60);
  };

  /* ---- levels ---------------------------------------------------------------------------- */
  Wall.prototype.drill = function (code) {
    if (!this.full || this.full.level === "town") return;
    this.town = code;
    this.layerShown = null;
    this._loadMap();
    this._loadTown();
    this.redPage = 0;
    this._markAll();
  };

  Wall.prototype.back = function () {
    if (!this.town) return;
    this.town = null;
    this.townWorkers = null;
    this.state = this.full;
    this.layerShown = null;
    this.redPage = 0;
    this._loadMap();
    this._markAll();
  };

  /* The drilled town's own snapshot (its KPIs, panels, villages and workers). */
  Wall.prototype._loadTown = function () {
    const code = this.town;
    fetch(API + "snapshot?area=" + encodeURIComponent(code), { credentials: "same-origin" })
      .then((resp) => { if (!resp.ok) throw new Error("HTTP " + resp.status); return resp.json(); })
      .then((data) => {
        if (this.town !== code) return;
        data.alarms = this.full.alarms; // the banner stays the wall's own
        this.state = data;
        this.townWorkers = new Set(data.positions.ids);
        this._ingestColumns(data.positions, data.now);
        this.map.setVillages(data.villages);
        this._markAll();
      })
      .catch((err) => console.warn("wall: town not loaded:", err.message));
  };

  Wall.prototype._markAll = function () {
    ["kpis", "sources", "categories", "trend", "feed", "departments", "villages", "title"]
      .forEach((p) => this.dirty.add(p));
    this.mapDirty = true;
  };

  /* ---- the stream ------------------------------------------------------------------------ */
  Wall.prototype._snapshot = function (msg) {
    if (msg.refresh && this.full) { this._refresh(msg.data); return; }
    const first = this.full === null;
    this.full = msg.data;
    this.lastSnapshotAt = Date.now();
    this.refreshWanted = false;
    this.positions.clear();
    this._ingestColumns(this.full.positions, this.full.now);
    this.map.setVillages(this.full.villages);
    this.map.setUnits(this.full.units || []);
    this.map.clearPins();
    this.newPins = [];
    this.full.alarms.forEach((a) => this.map.pin(a));
    if (this.town) this._loadTown();
    else this.state = this.full;
    this._markAll();
    this._loadMap();
    this._scheduleTurns();
    this._syncAlarm();
    if (first) { // the first paint, now
      performance.mark("wall:snapshot");
      this._drawPanels();
      this._drawMap();
      this._tick();
      performance.mark("wall:panels");
    }
  };

  /* A refresh: every panel replaced, the villages that changed merged, the positions kept. */
  Wall.prototype._refresh = function (data) {
    const villages = data.villages || [];
    const rows = new Map(this.full.villages.map((v, i) => [v.code, i]));
    villages.forEach((v) => {
      const i = rows.get(v.code);
      if (i === undefined) this.full.villages.push(v);
      else this.full.villages[i] = v;
    });
    const ringing = new Set((data.alarms || []).map((a) => a.case_id));
    this.full.alarms.forEach((a) => { if (!ringing.has(a.case_id)) this.map.pin({ id: a.case_id, open: false }); });
    Object.keys(data).forEach((k) => { if (k !== "villages") this.full[k] = data[k]; });
    this.lastSnapshotAt = Date.now();
    this.refreshWanted = false;
    if (villages.length) this.map.setVillages(villages);
    this.map.setUnits(this.full.units || []);
    this.full.alarms.forEach((a) => this.map.pin(a));
    if (this.town) this._loadTown();
    else this.state = this.full;
    this._markAll();
    this._scheduleTurns();
    this._syncAlarm();
  };

  Wall.prototype._delta = function (msg) {
    if (!this.full) return;
    const p = msg.payload || {};
    const inTown = (code) => this.town && this.state !== this.full && String(code || "").startsWith(this.town);
    if (msg.topic === "case") {
      this._case(this.full, p);
      if (inTown(p.village)) this._case(this.state, p);
      this._casePinned(p);
    } else if (msg.topic === "village") {
      this._village(this.full, p);
      if (inTown(p.code)) this._village(this.state, p);
    } else if (msg.topic === "alarm_ack") {
      this._acked(p.case_id);
    }
  };

  /* ---- applying events (to the wall's state, and to the drilled town's) ------------------ */
  Wall.prototype._case = function (s, c) {
    const k = s.kpis;
    const at = Date.parse(c.reported_at);
    const known = s.feed.find((f) => f.id === c.id);
    if (c.action === "report" && !known) {
      if (at >= Date.parse(s.day_start)) k.reported_today += 1;
      if (c.open) k.open += 1;
      s.sources[c.source] = (s.sources[c.source] || 0) + 1;
      this._countCategory(s, c.category);
      this._bucket(s, s.trend.reported, at);
      s.feed.unshift(c);
      s.feed.length = Math.min(s.feed.length, FEED_SIZE);
      this.fresh.add(c.id);
      ["sources", "categories", "trend", "feed"].forEach((p) => this.dirty.add(p));
    } else {
      if (known) Object.assign(known, c);
      if (c.action === "close") {
        k.closed_today += 1;
        this._bucket(s, s.trend.closed, Date.now());
        this.dirty.add("trend");
      }
      if (c.action === "close" || c.action === "void") k.open = Math.max(0, k.open - 1);
      if (known) this.dirty.add("feed");
    }
    this.dirty.add("kpis");
    this._wantRefresh();
  };

  Wall.prototype._casePinned = function (c) {
    if (c.action === "report") {
      this.newPins.push(c); // pinned on the next map tick: a burst costs one redraw, not many
    } else if (!c.open) {
      this.map.pin(c); // a closed case needs no pin, nor an alarm
      if (this.full.alarms.some((x) => x.case_id === c.id)) this._acked(c.id);
    }
  };

  Wall.prototype._countCategory = function (s, code) {
    const cats = s.categories;
    const item = cats.find((c) => c.code === code);
    if (item) item.count += 1;
    else cats.push({ code, count: 1 });
    cats.sort((a, b) => b.count - a.count || (a.code < b.code ? -1 : 1));
    cats.length = Math.min(cats.length, 8);
  };

  Wall.prototype._bucket = function (s, series, ms) {
    const i = Math.floor((ms - Date.parse(s.trend.start)) / 3600e3);
    if (i >= 0 && i < series.length) series[i] += 1;
  };

  Wall.prototype._village = function (s, v) {
    const list = s.villages;
    const row = list.find((x) => x.code === v.code);
    const wasRed = row ? row.status === "red" : false;
    if (row) Object.assign(row, v);
    else list.push(v);
    const isRed = v.status === "red";
    if (wasRed !== isRed) {
      s.kpis.red_villages = Math.max(0, s.kpis.red_villages + (isRed ? 1 : -1));
      const unit = (s.units || []).find((u) => v.code.startsWith(u.code));
      if (unit) { unit.red = Math.max(0, unit.red + (isRed ? 1 : -1)); this.map.setUnits([unit]); }
    }
    this.map.setVillages([v]);
    this.mapDirty = true;
    this.dirty.add("kpis");
    this.dirty.add("villages");
  };

  /* Positions as the snapshot sends them: columns, ages in seconds at the snapshot's time. */
  Wall.prototype._ingestColumns = function (cols, nowIso) {
    if (!cols || !cols.ids) return;
    const now = Date.parse(nowIso);
    for (let i = 0; i < cols.ids.length; i++) {
      this.positions.set(cols.ids[i], [cols.lon[i] / 1e5, cols.lat[i] / 1e5, now - 1000 * cols.age[i]]);
    }
    this.mapDirty = true;
    this.dirty.add("kpis");
  };

  /* Positions as the live stream sends them: [worker, lon, lat, iso time]. */
  Wall.prototype._ingestFixes = function (fixes) {
    fixes.forEach((f) => this.positions.set(f[0], [f[1], f[2], Date.parse(f[3])]));
    this.mapDirty = true;
    this.dirty.add("kpis");
  };

  Wall.prototype._patrolSince = function () {
    return Date.now() - 1000 * ((this.full && this.full.patrol_window_s) || 600);
  };

  /* ---- coalesced drawing ----------------------------------------------------------------- */
  Wall.prototype._drawPanels = function () {
    if (!this.dirty.size || !this.state) return;
    const R = W.render;
    const s = this.state;
    const cfg = this.cfg;
    const body = (id) => this.root.querySelector("#" + id + " .panel-body") || this.root.querySelector("#" + id);
    if (this.dirty.has("kpis")) {
      const since = this._patrolSince();
      let patrol = 0;
      this.positions.forEach((p, id) => {
        if (p[2] >= since && (!this.townWorkers || this.townWorkers.has(id))) patrol += 1;
      });
      R.kpis(this.root, Object.assign({}, s.kpis, { on_patrol: patrol }), cfg);
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
    if (this.dirty.has("feed")) R.feed(body("wall-feed"), s.feed, this._names(), cfg, this.fresh);
    if (this.dirty.has("villages")) this._drawRedList();
    if (this.dirty.has("departments")) R.departments(body("wall-departments"), s.departments, cfg, DEPT_ROWS);
    if (this.dirty.has("title")) this._drawTitle();
    this.fresh.clear();
    this.dirty.clear();
  };

  Wall.prototype._names = function () {
    if (!this.namesOf || this.namesOf !== this.full.villages) {
      this.namesOf = this.full.villages;
      this.nameMap = {};
      this.full.villages.forEach((v) => { this.nameMap[v.code] = v.name; });
    }
    return this.nameMap;
  };

  /* Every red unit at the shown level, a page at a time. */
  Wall.prototype._drawRedList = function () {
    const R = W.render, cfg = this.cfg, L = cfg.labels;
    const units = !this.town && this.full.level !== "town";
    const rows = units ? R.redUnitRows(this.full.units || [], cfg) : R.redVillageRows(this.state.villages, cfg);
    const title = units ? L["wall.red_units"] : L["wall.red_list"];
    this.redPages = R.redList(this.root.querySelector("#wall-red-list"), rows, cfg, this.redPage, title);
  };

  Wall.prototype._drawTitle = function () {
    const L = this.cfg.labels;
    const unit = this.town && (this.full.units || []).find((u) => u.code === this.town);
    this.root.querySelector("#wall-map-title").textContent =
      L["wall.map"] + (unit ? " · " + unit.name : "");
    this.root.querySelector("#wall-back").classList.toggle("hidden", !this.town);
    this.root.querySelector("#wall-map").dataset.town = this.town || "";
  };

  Wall.prototype._drawMap = function () {
    if (!this.full) return;
    this.map.restyle(); // also the red villages' pulse
    const alarmed = new Set(this.full.alarms.map((x) => x.case_id));
    this.newPins.splice(0).slice(-PINS_PER_TICK)
      .filter((c) => !c.emergency || alarmed.has(c.id)) // an emergency flashes while alarmed
      .forEach((c) => this.map.pin(c));
    if (!this.mapDirty) return;
    this.mapDirty = false;
    const since = this._patrolSince();
    const pts = [];
    this.positions.forEach((p) => { if (p[2] >= since) pts.push(p); });
    this.map.setPositions(pts);
  };

  /* ---- refreshing what one event cannot update exactly ---------------------------------- */
  Wall.prototype._wantRefresh = function () {
    if (this.refreshWanted) return;
    this.refreshWanted = true;
    const wait = Math.max(0, this.lastSnapshotAt + REFRESH_MIN_MS - Date.now());
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => { if (this.refreshWanted) this.live.resync(false, true); }, wait);
  };

  /* A snapshot when the next deadline passes (overdue count), the hour turns (24 h panels) or
     the day turns ("today"); a few seconds of spread keep many walls from asking at once. */
  Wall.prototype._scheduleTurns = function () {
    clearTimeout(this.turnTimer);
    const now = Date.now();
    const candidates = [Math.ceil((now + 1) / 3600e3) * 3600e3, Date.parse(this.full.day_end)];
    if (this.full.next_deadline) candidates.push(Date.parse(this.full.next_deadline));
    const next = Math.min(...candidates.filter((t) => t > now));
    const spread = 1000 + Math.random() * 5000;
    this.turnTimer = setTimeout(() => this.live.resync(false, true), Math.min(next - now + spread, 2 ** 31 - 1));
  };

  /* ---- clock and freshness --------------------------------------------------------------- */
  Wall.prototype._tick = function () {
    const cfg = this.cfg;
    const L = cfg.labels;
    const D = window.GccDom;
    const now = new Date();
    const clock = D.dtf("en-GB", {
      timeZone: cfg.tz, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
    }).format(now);
    this.root.querySelector("#wall-clock").textContent = clock;
    const parts = (locale, opts) => D.dtf(locale, Object.assign({ timeZone: cfg.tz }, opts)).format(now);
    this.root.querySelector("#wall-date").textContent = parts("en-CA", {}) + " " +
      (cfg.lang === "zh" ? parts("zh-CN", { weekday: "long" }) : parts("en-GB", { weekday: "short" }));
    const live = this.root.querySelector(".wall-live");
    const conn = this.root.querySelector("#wall-conn");
    const updated = this.root.querySelector("#wall-updated");
    const silent = Math.round((Date.now() - this.lastHeard) / 1000);
    let mode;
    if (!this.connected || !this.full) mode = this.everConnected ? "down" : "connecting";
    else if (silent > cfg.staleAfterS) mode = "stale";
    else mode = "live";
    if (this.connected && this.full) this.everConnected = true;
    if (this.full) {
      this.dirty.add("kpis"); // workers drop off patrol as their last fix ages
      if (now.getSeconds() % 15 === 0) this.mapDirty = true;
      if (now.getSeconds() === 0) this.dirty.add("villages"); // "red for 2 h 10 min" moves on
      if (this.redPages > 1 && now.getSeconds() % RED_PAGE_S === 0) {
        this.redPage = (this.redPage + 1) % this.redPages;
        this.dirty.add("villages");
      }
    }
    live.className = "wall-live " + mode;
    conn.textContent = {
      live: L["wall.live"],
      connecting: L["wall.connecting"],
      down: L["wall.reconnecting"],
      stale: D.fill(L["wall.stale"], { n: silent }),
    }[mode];
    updated.textContent = D.fill(L["wall.updated"], { t: D.localTime(new Date(this.lastHeard).toISOString(), cfg, true) });
  };

  /* ---- the alarm (assets/alarm.js, shared with the supervisors' page) ---------------- */
  /* The alarm event carries the case payload, not its description: show and sound it at once,
     and ask for a snapshot, whose alarms carry the description text. */
  Wall.prototype._alarm = function (a) {
    if (!this.full || !window.GccAlarm.raise(this.full.alarms, a)) return;
    this.map.pin(Object.assign({ open: true, emergency: true, id: a.case_id }, a));
    this._syncAlarm();
    if (!a.description) this.live.resync(true, true);
  };

  /* An acknowledged alarm stops sounding and flashing (its village stays red while the
     emergency is open: the village rule says so). */
  Wall.prototype._acked = function (caseId) {
    if (!this.full) return;
    this.full.alarms = window.GccAlarm.drop(this.full.alarms, caseId);
    if (this.state !== this.full && this.state) this.state.alarms = this.full.alarms;
    this.map.pin({ id: caseId, open: false });
    this._syncAlarm();
  };

  Wall.prototype._syncAlarm = function () {
    window.GccAlarm.sync(this.root, this.full ? this.full.alarms : [], this._names(), this.cfg);
  };

  Wall.prototype._bindAlarm = function () {
    this.unbindAlarm = window.GccAlarm.bind(this.root, this.cfg, {
      alarms: () => (this.full ? this.full.alarms : []),
      socket: () => this.live.socket,
      acked: (caseId) => this._acked(caseId),
      unlock: () => this._syncAlarm(),
    });
  };

  Wall.prototype.destroy = function () {
    this.timers.forEach((t) => { clearInterval(t); clearTimeout(t); });
    clearTimeout(this.turnTimer);
    clearTimeout(this.refreshTimer);
    if (this.unbindAlarm) this.unbindAlarm();
    this.live.close();
  };

  /* ---- boot: Dash renders the page after the scripts ran, so watch for #wall ------------- */
  let current = null;
  let failed = null; // a root the wall could not start on: not retried on every mutation
  function boot() {
    const root = document.getElementById("wall");
    if (current && current.root !== root) { current.destroy(); current = null; }
    if (root && !current && root !== failed && window.L && window.io && window.GccAlarm &&
        window.GccLive && window.GccDom) {
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
