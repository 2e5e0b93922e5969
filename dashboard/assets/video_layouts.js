/* The video wall's saved layouts (/api/v1/camera-layouts) and the evidence button of a video
   check (POST /api/v1/cases/<id>/evidence). Requests that change something carry the session's
   CSRF token (cookie gcc_csrf → header X-CSRF-Token, as dash-renderer does). Names are shown
   with textContent only. */
(function () {
  "use strict";
  const V = (window.GccVideo = window.GccVideo || {});
  const API = "/api/v1/camera-layouts";

  function csrf() {
    const hit = document.cookie.split("; ").find((c) => c.startsWith("gcc_csrf="));
    return hit ? decodeURIComponent(hit.slice("gcc_csrf=".length)) : "";
  }

  /* fetch + JSON; rejects with the server's message (ApiError: {error, message, field}). */
  function call(method, url, body) {
    const headers = { Accept: "application/json" };
    if (method !== "GET") headers["X-CSRF-Token"] = csrf();
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(url, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then((r) => {
      if (r.status === 204) return {};
      return r.json().catch(() => ({})).then((data) => {
        if (!r.ok) throw new Error(data.message || data.error || "HTTP " + r.status);
        return data;
      });
    });
  }

  function Layouts(wall) {
    this.wall = wall;
    this.root = wall.root;
    this.items = [];
    this.shared = false;
    const q = (s) => this.root.querySelector(s);
    this.box = q("#video-layout-select");
    this.msg = q("#video-layout-msg");
    if (!this.box) return; // the focus view has no layouts
    q("#video-layout-save").addEventListener("click", () => this.save());
    const shared = q("#video-layout-shared");
    shared.addEventListener("click", () => {
      this.shared = !this.shared;
      shared.classList.toggle("active", this.shared);
    });
    q("#video-layout-name").addEventListener("keydown", (e) => { if (e.key === "Enter") this.save(); });
    this.panel = q("#video-layout-panel");
    this.toggle = q("#video-layout-toggle");
    this.toggle.addEventListener("click", () => this.open(this.panel.classList.contains("hidden")));
  }

  Layouts.prototype.open = function (yes) {
    if (this.panel) this.panel.classList.toggle("hidden", !yes);
  };

  /* Called once the cameras are loaded; ``recall`` is ?layout=<id>. */
  Layouts.prototype.start = function (recall) {
    if (!this.box) return;
    this.refresh().then(() => {
      const found = this.items.find((l) => l.id === recall);
      if (found) this.apply(found);
    });
  };

  Layouts.prototype.refresh = function () {
    return call("GET", API)
      .then((data) => { this.items = data.layouts || []; this.draw(); })
      .catch((err) => this.say(V.tiles.fill(this.wall.L["video.layout_failed"], { t: err.message }), true));
  };

  Layouts.prototype.say = function (text, bad) {
    this.msg.textContent = text;
    this.msg.classList.toggle("bad", Boolean(bad));
  };

  Layouts.prototype.draw = function () {
    const T = V.tiles;
    const L = this.wall.L;
    const chips = [];
    const all = T.el("button", "vbtn chip" + (this.wall.layoutId === null ? " active" : ""), L["video.layout_none"]);
    all.addEventListener("click", () => this.apply(null));
    chips.push(all);
    this.items.forEach((item) => {
      const chip = T.el("span", "chip-wrap");
      const mine = item.mine !== undefined ? item.mine : item.owner === this.wall.cfg.user;
      const b = T.el("button", "vbtn chip" + (this.wall.layoutId === item.id ? " active" : ""), item.name);
      b.dataset.layout = String(item.id);
      b.title = item.name + " · " + item.columns + "×" + item.rows + (item.shared ? " · " + L["video.layout_shared_tag"] : "");
      b.addEventListener("click", () => this.apply(item));
      chip.appendChild(b);
      if (item.shared) chip.appendChild(T.el("span", "chip-tag", L["video.layout_shared_tag"]));
      if (mine) {
        const x = T.el("button", "vbtn chip-x", "×");
        x.title = L["video.layout_delete"];
        x.dataset.delete = String(item.id);
        x.addEventListener("click", () => this.remove(item));
        chip.appendChild(x);
      }
      chips.push(chip);
    });
    this.box.replaceChildren(...chips);
    const current = this.items.find((l) => l.id === this.wall.layoutId);
    this.toggle.textContent = (current ? current.name : L["video.layout_none"]) + " ▾";
  };

  /* Recall: its grid, its cameras in its order, its cycle (null: every camera, as loaded). */
  Layouts.prototype.apply = function (item) {
    const wall = this.wall;
    wall.layoutId = item ? item.id : null;
    wall.selection = item ? item.camera_ids.slice() : null;
    if (item) {
      wall.setShape(item.columns, item.rows);
      wall._setCycle(item.cycle_seconds || 0);
      this.root.querySelector("#video-layout-name").value = item.name;
    }
    wall.page = 0;
    this.draw();
    this.open(false);
    wall._render();
  };

  Layouts.prototype.save = function () {
    const wall = this.wall;
    const L = wall.L;
    const input = this.root.querySelector("#video-layout-name");
    const name = input.value.trim();
    if (!name) { this.say(L["video.layout_name_required"], true); input.focus(); return; }
    const body = {
      name, shared: this.shared, columns: wall.cols, rows: wall.rows,
      camera_ids: wall.shown().map((c) => c.id), cycle_seconds: wall.cycle,
    };
    const same = this.items.find((l) => l.name === name && (l.mine || l.owner === wall.cfg.user));
    const request = same ? call("PUT", API + "/" + same.id, body) : call("POST", API, body);
    this.say("…");
    request
      .then((saved) => {
        wall.layoutId = saved.id !== undefined ? saved.id : (same && same.id);
        this.say(V.tiles.fill(L["video.layout_saved"], { name }));
        return this.refresh();
      })
      .catch((err) => this.say(V.tiles.fill(L["video.layout_failed"], { t: err.message }), true));
  };

  Layouts.prototype.remove = function (item) {
    const L = this.wall.L;
    call("DELETE", API + "/" + item.id)
      .then(() => {
        if (this.wall.layoutId === item.id) this.apply(null);
        this.say(L["video.layout_deleted"]);
        return this.refresh();
      })
      .catch((err) => this.say(V.tiles.fill(L["video.layout_failed"], { t: err.message }), true));
  };

  /* "保存截图为证据": the camera's current full-size frame becomes an attachment of the case. */
  function evidenceButton(wall, cam) {
    const T = V.tiles;
    const L = wall.L;
    const box = T.el("div", "evidence");
    const button = T.el("button", "vbtn evidence-btn", L["video.evidence_save"]);
    const msg = T.el("span", "evidence-msg", "");
    button.addEventListener("click", () => {
      button.disabled = true;
      msg.className = "evidence-msg";
      msg.textContent = L["video.evidence_saving"];
      call("POST", "/api/v1/cases/" + encodeURIComponent(wall.cfg.focus.value) + "/evidence", { camera_id: cam.id })
        .then((saved) => {
          const at = new Intl.DateTimeFormat("en-GB", {
            timeZone: wall.cfg.tz, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
          }).format(saved.at ? new Date(saved.at) : new Date());
          msg.className = "evidence-msg ok";
          msg.dataset.attachment = String(saved.attachment_id);
          msg.textContent = T.fill(L["video.evidence_saved"], { id: String(saved.attachment_id).slice(0, 8), t: at });
        })
        .catch((err) => {
          msg.className = "evidence-msg bad";
          msg.textContent = T.fill(L["video.evidence_failed"], { t: err.message });
        })
        .finally(() => { button.disabled = false; });
    });
    box.append(button, msg);
    return box;
  }

  V.layouts = { Layouts, evidenceButton, call };
})();
