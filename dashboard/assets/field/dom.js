/* The field app's small helpers (window.GccField): texts of the user's language, elements built
   with textContent only (user text never becomes markup), the CSRF header, a toast.
   Loaded only by /m (dashboard/http/field.py); Dash pages ignore assets/field/. */
(function () {
  "use strict";
  const F = (window.GccField = window.GccField || {});
  const boot = JSON.parse(document.getElementById("m-boot").textContent);
  F.config = boot.config;
  F.texts = boot.texts;

  F.t = function (key, vars) {
    let s = F.texts[key] || key;
    Object.keys(vars || {}).forEach((k) => { s = s.split("{" + k + "}").join(String(vars[k])); });
    return s;
  };

  /* el("button", {class: "x", onclick: fn, text: "…"}, [children]) */
  F.el = function (tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (v === undefined || v === null || v === false) return;
      if (k === "text") node.textContent = String(v);
      else if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (k === "dataset") Object.assign(node.dataset, v);
      else node.setAttribute(k, v === true ? "" : String(v));
    });
    (children || []).forEach((c) => {
      if (c === null || c === undefined || c === false) return;
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  };

  F.clear = function (node) { while (node.firstChild) node.removeChild(node.firstChild); return node; };

  F.csrf = function () {
    const m = document.cookie.match(/(?:^|;\s*)gcc_csrf=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  };

  /* fetch with the session's CSRF header; resolves {status, body}; rejects on a network error. */
  F.request = async function (method, url, body, headers) {
    const h = Object.assign({ "X-CSRF-Token": F.csrf() }, headers || {});
    let payload = body;
    if (body && !(body instanceof FormData)) {
      h["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    const resp = await fetch(url, { method, headers: h, body: payload, credentials: "same-origin" });
    let data = null;
    try { data = await resp.json(); } catch (e) { data = null; }
    return { status: resp.status, body: data, fromCache: resp.headers.get("X-From-Cache") === "1" };
  };

  F.newKey = function () {
    if (window.crypto && crypto.randomUUID) return "m-" + crypto.randomUUID();
    return "m-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  };

  let toastTimer = null;
  F.toast = function (text, kind) {
    const box = document.getElementById("m-toast");
    box.textContent = text;
    box.className = "m-toast" + (kind ? " " + kind : "");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => box.classList.add("hidden"), 4000);
  };

  F.time = function (iso) {
    const d = new Date(iso);
    const p = (n) => String(n).padStart(2, "0");
    return `${d.getMonth() + 1}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
  };

  F.lightLabel = function (light) {
    return F.el("span", { class: "m-light " + (light || "none"), text: F.t("m.light." + (light || "none")) });
  };

  F.catName = function (row) {
    const n = row.category_name || {};
    return n[F.config.lang] || n.zh || row.category;
  };

  /* A short beep and a vibration: a new task, an incoming call. */
  F.alert = function (times) {
    try { if (navigator.vibrate) navigator.vibrate([300, 150, 300]); } catch (e) { /* no motor */ }
    try {
      const ctx = new (window.AudioContext || window.webkitAudioContext)();
      for (let i = 0; i < (times || 1); i++) {
        const o = ctx.createOscillator();
        const g = ctx.createGain();
        o.frequency.value = 880;
        o.connect(g); g.connect(ctx.destination);
        o.start(ctx.currentTime + i * 0.4);
        o.stop(ctx.currentTime + i * 0.4 + 0.25);
      }
    } catch (e) { /* no audio before a user gesture */ }
  };
})();
