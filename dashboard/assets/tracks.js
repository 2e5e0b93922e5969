/* The replay page (/tracks): draws the tracks of the page's data-config on a canvas and plays
   them: play / pause, speed ×1…×64 (track seconds per real second), a time slider, follow (the
   map centred on the first worker's dot), and the track map as a PNG (stops with their times).
   In "moment" mode it draws everyone's position at one moment. No network: the page brought
   everything. */
(function () {
  "use strict";

  function fmt(tz, epoch, seconds) {
    const opts = { timeZone: tz, hour: "2-digit", minute: "2-digit", hour12: false };
    if (seconds) opts.second = "2-digit";
    return new Intl.DateTimeFormat("zh-CN", opts).format(new Date(epoch * 1000));
  }

  function Player(root) {
    this.root = root;
    this.cfg = JSON.parse(root.dataset.config);
    this.canvas = root.querySelector("#tr-canvas");
    this.ctx = this.canvas.getContext("2d");
    this.playing = false;
    this.speed = 1;
    this.follow = false;
    this.t = this.cfg.mode === "replay" ? this.cfg.start : this.cfg.at;
    this._bounds();
    this._bind();
    this.draw();
  }

  Player.prototype._bounds = function () {
    const pts = [];
    const cfg = this.cfg;
    if (cfg.mode === "replay") {
      cfg.workers.forEach((w) => w.fixes.forEach((f) => { if (f[3]) pts.push([f[1], f[2]]); }));
      Object.values(cfg.grids || {}).forEach((rings) => rings.forEach((r) => r.forEach((p) => pts.push(p))));
    } else {
      (cfg.positions || []).forEach((p) => pts.push([p[0], p[1]]));
    }
    if (!pts.length) pts.push([120.3, 29.6]);
    let [w, s, e, n] = [Infinity, Infinity, -Infinity, -Infinity];
    pts.forEach(([x, y]) => { w = Math.min(w, x); e = Math.max(e, x); s = Math.min(s, y); n = Math.max(n, y); });
    const padX = (e - w) * 0.06 + 0.0005, padY = (n - s) * 0.06 + 0.0005;
    this.full = { w: w - padX, e: e + padX, s: s - padY, n: n + padY };
    this.view = Object.assign({}, this.full);
  };

  Player.prototype.project = function (lon, lat) {
    const v = this.view, W = this.canvas.width, H = this.canvas.height;
    const k = Math.cos(((v.s + v.n) / 2) * Math.PI / 180);
    const sx = W / ((v.e - v.w) * k), sy = H / (v.n - v.s);
    const scale = Math.min(sx, sy);
    const cx = (v.w + v.e) / 2, cy = (v.s + v.n) / 2;
    return [W / 2 + (lon - cx) * k * scale, H / 2 - (lat - cy) * scale];
  };

  Player.prototype._bind = function () {
    const root = this.root;
    const play = root.querySelector("#tr-play");
    const slider = root.querySelector("#tr-slider");
    if (play) play.addEventListener("click", () => this.toggle());
    const speed = root.querySelector("#tr-speed");
    if (speed) speed.addEventListener("change", () => { this.speed = Number(speed.value) || 1; });
    if (slider) slider.addEventListener("input", () => {
      this.t = this.cfg.start + (this.cfg.end - this.cfg.start) * Number(slider.value) / 1000;
      this.draw();
    });
    const follow = root.querySelector("#tr-follow");
    if (follow) follow.addEventListener("click", () => {
      this.follow = !this.follow;
      follow.classList.toggle("primary", this.follow);
      follow.dataset.on = this.follow ? "1" : "0";
      this.draw();
    });
    const png = root.querySelector("#tr-png");
    if (png) png.addEventListener("click", (ev) => { ev.preventDefault(); this.png(); });
  };

  Player.prototype.toggle = function () {
    this.playing = !this.playing;
    const play = this.root.querySelector("#tr-play");
    play.textContent = this.playing ? this.cfg.labels.pause : this.cfg.labels.play;
    play.dataset.playing = this.playing ? "1" : "0";
    if (this.playing) {
      if (this.t >= this.cfg.end) this.t = this.cfg.start;
      this.last = performance.now();
      const step = (now) => {
        if (!this.playing || !document.body.contains(this.canvas)) return;
        this.t = Math.min(this.cfg.end, this.t + (now - this.last) / 1000 * this.speed);
        this.last = now;
        this.draw();
        if (this.t >= this.cfg.end) { this.toggle(); return; }
        requestAnimationFrame(step);
      };
      requestAnimationFrame(step);
    }
  };

  Player.prototype.dotOf = function (w) {
    let best = null;
    for (const f of w.fixes) { if (f[0] > this.t) break; if (f[3]) best = f; }
    return best;
  };

  Player.prototype.draw = function () {
    const ctx = this.ctx, cfg = this.cfg, W = this.canvas.width, H = this.canvas.height;
    if (cfg.mode === "replay" && this.follow && cfg.workers.length) {
      const dot = this.dotOf(cfg.workers[0]);
      if (dot) {
        const f = this.full, dw = (f.e - f.w) / 4, dh = (f.n - f.s) / 4;
        this.view = { w: dot[1] - dw / 2, e: dot[1] + dw / 2, s: dot[2] - dh / 2, n: dot[2] + dh / 2 };
      }
    } else {
      this.view = Object.assign({}, this.full);
    }
    ctx.fillStyle = "#06142c";
    ctx.fillRect(0, 0, W, H);
    if (cfg.mode === "moment") return this.drawMoment();
    // grid boundaries
    ctx.strokeStyle = "rgba(120, 170, 255, 0.8)"; ctx.lineWidth = 2; ctx.setLineDash([8, 6]);
    Object.values(cfg.grids || {}).forEach((rings) => rings.forEach((ring) => {
      ctx.beginPath();
      ring.forEach((p, i) => { const [x, y] = this.project(p[0], p[1]); i ? ctx.lineTo(x, y) : ctx.moveTo(x, y); });
      ctx.closePath(); ctx.stroke();
    }));
    ctx.setLineDash([]);
    cfg.workers.forEach((w) => {
      // the whole track faint, the part played so far bright
      ["rgba(255,255,255,0.18)", w.color].forEach((color, pass) => {
        ctx.strokeStyle = color; ctx.lineWidth = pass ? 3 : 2; ctx.beginPath();
        let started = false;
        for (const f of w.fixes) {
          if (!f[3]) continue;
          if (pass && f[0] > this.t) break;
          const [x, y] = this.project(f[1], f[2]);
          started ? ctx.lineTo(x, y) : ctx.moveTo(x, y); started = true;
        }
        ctx.stroke();
      });
      // filtered fixes: small red crosses
      ctx.strokeStyle = "#ff3344"; ctx.lineWidth = 1.5;
      w.fixes.forEach((f) => {
        if (f[3] || f[0] > this.t) return;
        const [x, y] = this.project(f[1], f[2]);
        ctx.beginPath(); ctx.moveTo(x - 4, y - 4); ctx.lineTo(x + 4, y + 4); ctx.moveTo(x + 4, y - 4); ctx.lineTo(x - 4, y + 4); ctx.stroke();
      });
      // stops with their times
      ctx.font = "13px 'Noto Sans CJK SC', sans-serif";
      w.stops.forEach((s) => {
        const [x, y] = this.project(s[2], s[3]);
        ctx.fillStyle = s[0] <= this.t ? "rgba(255,184,61,0.9)" : "rgba(255,184,61,0.35)";
        ctx.beginPath(); ctx.arc(x, y, 7, 0, 2 * Math.PI); ctx.fill();
        ctx.fillStyle = "#ffe2a8";
        ctx.fillText(`${fmt(cfg.tz, s[0])}–${fmt(cfg.tz, s[1])} ${Math.round((s[1] - s[0]) / 60)}′`, x + 10, y - 8);
      });
      // reported cases
      w.cases.forEach((c) => {
        const [x, y] = this.project(c[1], c[2]);
        ctx.fillStyle = "#ff6bd6"; ctx.beginPath(); ctx.moveTo(x, y - 9); ctx.lineTo(x + 8, y + 6); ctx.lineTo(x - 8, y + 6); ctx.closePath(); ctx.fill();
        ctx.fillText(`#${c[3]}`, x + 10, y + 6);
      });
      const dot = this.dotOf(w);
      if (dot) {
        const [x, y] = this.project(dot[1], dot[2]);
        ctx.fillStyle = w.color; ctx.strokeStyle = "#fff"; ctx.lineWidth = 2;
        ctx.beginPath(); ctx.arc(x, y, 9, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
        ctx.fillStyle = "#fff"; ctx.font = "bold 14px 'Noto Sans CJK SC', sans-serif";
        ctx.fillText(w.name, x + 12, y + 5);
      }
    });
    this.legend();
    const clock = this.root.querySelector("#tr-clock");
    if (clock) clock.textContent = fmt(cfg.tz, this.t, true);
    const slider = this.root.querySelector("#tr-slider");
    if (slider && document.activeElement !== slider) {
      slider.value = String(Math.round((this.t - cfg.start) / Math.max(1, cfg.end - cfg.start) * 1000));
    }
    this.root.dataset.t = String(Math.round(this.t));
  };

  Player.prototype.legend = function () {
    const ctx = this.ctx, L = this.cfg.labels;
    const items = [["#3fd0ff", L.legend_track], ["#ff3344", L.legend_filtered], ["#ffb83d", L.legend_stop],
      ["#ff6bd6", L.legend_case], ["rgba(120,170,255,0.8)", L.legend_grid]];
    ctx.fillStyle = "rgba(6,20,44,0.85)"; ctx.fillRect(12, 12, 170, items.length * 22 + 12);
    ctx.font = "13px 'Noto Sans CJK SC', sans-serif";
    items.forEach(([color, text], i) => {
      ctx.fillStyle = color; ctx.fillRect(24, 26 + i * 22 - 9, 14, 10);
      ctx.fillStyle = "#e4eeff"; ctx.fillText(text, 46, 26 + i * 22);
    });
  };

  Player.prototype.drawMoment = function () {
    const ctx = this.ctx;
    ctx.font = "12px 'Noto Sans CJK SC', sans-serif";
    (this.cfg.positions || []).forEach((p) => {
      const [x, y] = this.project(p[0], p[1]);
      ctx.fillStyle = "#34e39a"; ctx.beginPath(); ctx.arc(x, y, 4, 0, 2 * Math.PI); ctx.fill();
    });
    this.root.dataset.drawn = String((this.cfg.positions || []).length);
  };

  Player.prototype.png = function () {
    const link = document.createElement("a");
    link.download = "track.png";
    link.href = this.canvas.toDataURL("image/png");
    document.body.appendChild(link); link.click(); link.remove();
  };

  let current = null;
  function boot() {
    const root = document.getElementById("tracks");
    if (current && current.root !== root) { current.playing = false; current = null; }
    if (root && !current && root.querySelector("#tr-canvas")) {
      try { current = new Player(root); window.GccTracks = current; } catch (err) { console.error("tracks", err); }
    }
  }
  new MutationObserver(boot).observe(document.documentElement, { childList: true, subtree: true });
  document.addEventListener("DOMContentLoaded", boot);
})();
