/* The supervisors' page (/supervision) live: it starts when #sup-page appears, opens Socket.IO on
   /live (websocket only, reconnecting by itself; protocol in streams/protocol.py) and

   - keeps the emergency alarm up from snapshots and alarm events until it is acknowledged by
     name, here or on any other screen (assets/alarm.js, the wall's own banner and siren);
   - on each delta, tells the server which sections to redraw by bumping a dcc.Store
     (dash_clientside.set_props): case → cases and call list, reminder → cases,
     supervision_order → orders and cases, call_list and village → call list. Bursts are
     coalesced (one redraw per section at most every 1.5 s); a snapshot after a reconnect redraws
     everything, since events may have been missed meanwhile;
   - redraws the case table when its next deadline passes (a soon-due case turns overdue with no
     event): a timer set for that moment, never a polling timer.

   Text goes in with textContent only. */
(function () {
  "use strict";
  const SECTIONS = {
    case: ["cases", "calls"],
    reminder: ["cases"],
    supervision_order: ["orders", "cases"],
    call_list: ["calls"],
    village: ["calls"],
  };
  const STORES = { cases: "sup-live-cases", orders: "sup-live-orders", calls: "sup-live-calls" };
  const BUMP_MS = 300;
  const MIN_GAP_MS = 1500;

  function Desk(root) {
    this.root = root;
    this.cfg = JSON.parse(root.dataset.config);
    this.alarms = [];
    this.names = {};
    this.snapshots = 0;
    this.pending = new Set();
    this.counter = 0;
    this.lastBump = 0;
    this.unbind = window.GccAlarm.bind(root, this.cfg, {
      alarms: () => this.alarms,
      socket: () => this.socket,
      acked: (caseId) => this._acked(caseId),
      unlock: () => this._sync(),
    });
    this._connect();
  }

  /* The live client (assets/live.js) keeps the sequence chain and asks for resyncs. */
  Desk.prototype._connect = function () {
    this.live = window.GccLive.connect({
      state: (up) => this._state(up ? "live" : "down"),
      snapshot: (msg) => this._snapshot(msg),
      delta: (msg) => this._delta(msg),
      events: { alarm: (msg) => this._alarm(msg) },
    });
    this.socket = this.live.socket;
  };

  Desk.prototype._state = function (mode) {
    const conn = this.root.querySelector("#sup-conn");
    if (!conn) return;
    const L = this.cfg.labels;
    conn.className = "sup-conn " + mode;
    conn.textContent = { live: L["sup.live"], down: L["sup.reconnecting"] }[mode] || L["sup.connecting"];
  };

  Desk.prototype._snapshot = function (msg) {
    const data = msg.data || {};
    this.names = {};
    (data.villages || []).forEach((v) => { this.names[v.code] = v.name; });
    this.alarms = (data.alarms || []).slice();
    this._sync();
    if (this.snapshots++ > 0) Object.keys(STORES).forEach((s) => this._want(s));
  };

  /* A delta in its chain (assets/live.js checked it). */
  Desk.prototype._delta = function (msg) {
    const p = msg.payload || {};
    if (msg.topic === "alarm_ack") this._acked(p.case_id);
    if (msg.topic === "case" && p.open === false) this._acked(p.id);
    const topic = msg.topic === "supervision_batch" ? p.kind : msg.topic; // many at once
    (SECTIONS[topic] || []).forEach((s) => this._want(s));
  };

  Desk.prototype._resync = function (force) {
    this.live.resync(force);
  };

  /* ---- the alarm -------------------------------------------------------------------------- */
  Desk.prototype._alarm = function (a) {
    if (!window.GccAlarm.raise(this.alarms, a)) return;
    this._sync();
    if (!a.description) this._resync(true); // the snapshot's alarms carry the description
  };

  Desk.prototype._acked = function (caseId) {
    const before = this.alarms.length;
    this.alarms = window.GccAlarm.drop(this.alarms, caseId);
    if (this.alarms.length !== before) this._sync();
  };

  Desk.prototype._sync = function () {
    window.GccAlarm.sync(this.root, this.alarms, this.names, this.cfg);
  };

  /* ---- section refreshes ------------------------------------------------------------------ */
  Desk.prototype._want = function (section) {
    this.pending.add(section);
    if (this.bumpTimer) return;
    const wait = Math.max(BUMP_MS, this.lastBump + MIN_GAP_MS - Date.now());
    this.bumpTimer = setTimeout(() => this._flush(), wait);
  };

  Desk.prototype._flush = function () {
    this.bumpTimer = null;
    this.lastBump = Date.now();
    const set = window.dash_clientside && window.dash_clientside.set_props;
    if (!set) return;
    this.pending.forEach((section) => {
      this.counter += 1;
      set(STORES[section], { data: this.counter });
    });
    this.pending.clear();
  };

  /* When the earliest soon-due deadline passes, that case turns overdue: redraw then. */
  Desk.prototype.watchDeadline = function () {
    const table = this.root.querySelector("#sup-cases table");
    const next = table ? table.dataset.next : "";
    if (next === this.nextDeadline) return;
    this.nextDeadline = next;
    clearTimeout(this.deadlineTimer);
    if (!next) return;
    const wait = Math.min(Math.max(Date.parse(next) - Date.now() + 1000, 1000), 2 ** 31 - 1);
    this.deadlineTimer = setTimeout(() => this._want("cases"), wait);
  };

  Desk.prototype.destroy = function () {
    clearTimeout(this.bumpTimer);
    clearTimeout(this.deadlineTimer);
    this.unbind();
    this.socket.close();
  };

  /* ---- the emergency form opens and closes on the page itself ------------------------------ */
  document.addEventListener("click", (e) => {
    const target = e.target instanceof Element ? e.target : null;
    const form = document.getElementById("sup-emergency-form");
    if (!target || !form) return;
    if (target.closest("#sup-emergency-open")) form.classList.toggle("hidden");
    else if (target.closest("#sup-emergency-cancel")) form.classList.add("hidden");
  });

  /* ---- boot: Dash renders the page after the scripts ran, so watch for #sup-page ---------- */
  let current = null;
  let failed = null;
  function boot() {
    const root = document.getElementById("sup-page");
    if (current && current.root !== root) { current.destroy(); current = null; }
    if (root && !current && root !== failed && window.io && window.GccAlarm && window.GccLive) {
      try {
        current = new Desk(root);
        window.GccDesk = current;
      } catch (err) {
        failed = root;
        console.error("supervision: cannot start", err);
      }
    }
    if (current) current.watchDeadline();
  }
  new MutationObserver(boot).observe(document.documentElement, { childList: true, subtree: true });
  document.addEventListener("DOMContentLoaded", boot);
})();
