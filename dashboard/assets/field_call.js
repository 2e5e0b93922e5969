/* The command room's video call to a grid worker (视频连线), on the desk pages and the wall.

   Where a call starts: a click on (or next to) a worker's dot on the wall map; "call the
   reporter" on a case's page (a button added to the case's heading when a grid worker reported
   it). Only the roles that may call get either (GET /m/api/call-texts says so); the worker's phone
   rings in the field app (/m). Signalling over Socket.IO namespace /field (streams/field_calls.py),
   media peer to peer (WebRTC), STUN/TURN from [field] in config.toml. The dialog is built here
   with textContent only; the wall's own scripts are not touched (it reads GccWall.current). */
(function () {
  "use strict";
  if (window.GccFieldCall) return;
  const NEAR_PX = 14;
  let setup = null; // Promise of {texts, ice_servers, may_call}
  let socket = null;
  let call = null; // {id, caseId, pc, stream, box, timer, started}

  const t = (k, vars) => {
    let s = (setup && setup.texts && setup.texts[k]) || k;
    Object.keys(vars || {}).forEach((n) => { s = s.split("{" + n + "}").join(String(vars[n])); });
    return s;
  };
  const lang = () => (new URLSearchParams(location.search).get("lang") === "en" ? "en" : "zh");
  const csrf = () => { const m = document.cookie.match(/(?:^|;\s*)gcc_csrf=([^;]+)/); return m ? decodeURIComponent(m[1]) : ""; };

  function load() {
    if (!setup) {
      setup = fetch("/m/api/call-texts?lang=" + lang(), { credentials: "same-origin" })
        .then((r) => (r.ok ? r.json() : { may_call: false, texts: {} }))
        .catch(() => ({ may_call: false, texts: {} }))
        .then((s) => { setup = s; return s; });
    }
    return Promise.resolve(setup);
  }

  function el(tag, attrs, kids) {
    const n = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (k === "text") n.textContent = v;
      else if (k === "class") n.className = v;
      else if (k.startsWith("on")) n.addEventListener(k.slice(2), v);
      else n.setAttribute(k, v);
    });
    (kids || []).forEach((c) => c && n.appendChild(c));
    return n;
  }

  function connect() {
    if (socket || !window.io) return socket;
    socket = io("/field", { transports: ["websocket"] });
    socket.on("answered", (m) => { if (call && call.id === m.call_id) talk().catch(fail); });
    socket.on("signal", (m) => { if (call && call.id === m.call_id) signal(m.data).catch(() => {}); });
    socket.on("hangup", (m) => {
      if (!call || call.id !== m.call_id) return;
      end(t(m.reason === "declined" ? "call.declined" : "call.ended"));
    });
    return socket;
  }

  function dialog(title) {
    const old = document.getElementById("fc-dialog");
    if (old) old.remove();
    const status = el("p", { id: "fc-status", class: "fc-status" });
    const videos = el("div", { class: "fc-videos" }, [
      el("video", { id: "fc-remote", class: "fc-remote", autoplay: "", playsinline: "" }),
      el("video", { id: "fc-local", class: "fc-local", autoplay: "", playsinline: "" }),
    ]);
    const buttons = el("div", { class: "fc-buttons" });
    const box = el("div", { id: "fc-dialog", class: "fc-dialog", role: "dialog" }, [
      el("h2", { text: title }), status, videos, buttons,
    ]);
    document.body.appendChild(box);
    document.getElementById("fc-local").muted = true;
    return { box, status, buttons };
  }

  function setButtons(parts, list) {
    while (parts.buttons.firstChild) parts.buttons.removeChild(parts.buttons.firstChild);
    list.forEach((b) => parts.buttons.appendChild(b));
  }

  function fail(err) { if (call) end(t("call.error", { msg: (err && err.message) || String(err) })); }

  function end(text) {
    const c = call;
    call = null;
    if (!c) return;
    clearInterval(c.timer);
    if (c.pc) c.pc.close();
    if (c.stream) c.stream.getTracks().forEach((tr) => tr.stop());
    c.parts.status.textContent = text || t("call.ended");
    setButtons(c.parts, [el("button", { type: "button", id: "fc-close", class: "fc-btn", text: t("call.close"), onclick: () => c.parts.box.remove() })]);
  }

  async function start(workerId, caseId, label) {
    const s = await load();
    if (!s.may_call) return;
    if (call) return;
    const parts = dialog(t("call.title"));
    parts.status.textContent = t("call.calling", { who: label || "" });
    call = { id: null, caseId: caseId || null, parts, pc: null, stream: null };
    const hangup = el("button", { type: "button", id: "fc-hangup", class: "fc-btn fc-red", text: t("call.hangup"),
      onclick: () => { if (call && call.id) socket.emit("hangup", { call_id: call.id }); end(t("call.ended")); } });
    setButtons(parts, [hangup]);
    connect().emit("call", { worker_id: workerId, case_id: caseId || null }, (ack) => {
      if (!call) return;
      if (!ack || !ack.ok) {
        end(t(ack && ack.error === "offline" ? "call.offline" : ack && ack.error === "forbidden" ? "call.forbidden" : "call.ended"));
        return;
      }
      call.id = ack.call_id;
      parts.box.dataset.call = String(ack.call_id);
      if (!call.pc) parts.status.textContent = t("call.calling", { who: ack.worker_name || "" });
    });
  }

  async function talk() {
    const c = call;
    try {
      c.stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
    } catch (e) {
      c.stream = null;
      c.parts.status.textContent = t("call.no_camera");
    }
    const pc = new RTCPeerConnection({ iceServers: setup.ice_servers || [] });
    c.pc = pc;
    if (c.stream) {
      c.stream.getTracks().forEach((tr) => pc.addTrack(tr, c.stream));
      document.getElementById("fc-local").srcObject = c.stream;
    } else {
      pc.addTransceiver("video", { direction: "recvonly" });
      pc.addTransceiver("audio", { direction: "recvonly" });
    }
    pc.ontrack = (e) => { document.getElementById("fc-remote").srcObject = e.streams[0]; };
    pc.onicecandidate = (e) => { if (e.candidate) socket.emit("signal", { call_id: c.id, data: { candidate: e.candidate.toJSON() } }); };
    await pc.setLocalDescription(await pc.createOffer());
    socket.emit("signal", { call_id: c.id, data: { sdp: pc.localDescription.toJSON() } });
    c.started = Date.now();
    c.parts.status.textContent = t("call.talking", { t: "0:00" });
    c.timer = setInterval(() => {
      const s = Math.round((Date.now() - c.started) / 1000);
      c.parts.status.textContent = t("call.talking", { t: `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}` });
    }, 1000);
    const buttons = [c.parts.buttons.firstChild];
    if (c.caseId) buttons.push(el("button", { type: "button", id: "fc-still", class: "fc-btn", text: t("call.still"), onclick: still }));
    setButtons(c.parts, buttons);
  }

  async function signal(d) {
    const pc = call && call.pc;
    if (!pc || !d) return;
    if (d.sdp) await pc.setRemoteDescription(d.sdp);
    else if (d.candidate) { try { await pc.addIceCandidate(d.candidate); } catch (e) { /* late */ } }
  }

  function still() {
    const c = call;
    const video = document.getElementById("fc-remote");
    if (!c || !video.videoWidth) return;
    const canvas = document.createElement("canvas");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    canvas.toBlob(async (blob) => {
      const form = new FormData();
      form.append("photos", blob, `call-${c.id}.jpg`);
      const r = await fetch(`/m/api/calls/${c.id}/still`, { method: "POST", body: form, credentials: "same-origin", headers: { "X-CSRF-Token": csrf() } });
      const body = await r.json().catch(() => ({}));
      c.parts.status.dataset.still = r.ok ? "saved" : "failed";
      if (r.ok) c.parts.status.textContent = t("call.still_saved", { id: body.case_id });
    }, "image/jpeg", 0.85);
  }

  /* WebRTC statistics of the call: video bytes received (tests, diagnosis). */
  async function stats() {
    if (!call || !call.pc) return null;
    let bytes = 0;
    (await call.pc.getStats()).forEach((r) => { if (r.type === "inbound-rtp" && r.kind === "video") bytes += r.bytesReceived || 0; });
    return bytes;
  }

  window.GccFieldCall = { start, stats, hangup: () => { if (call && call.id) socket.emit("hangup", { call_id: call.id }); end(); } };

  // --- where calls start ----------------------------------------------------------------

  const wired = new WeakSet();
  function wireWall() {
    const wall = window.GccWall && window.GccWall.current;
    const map = wall && wall.map && wall.map.map;
    if (!map || wired.has(map) || !wall.positions) return;
    wired.add(map);
    load().then((s) => {
      if (!s.may_call) return;
      map.on("click", (e) => {
        let best = null;
        let bestD = NEAR_PX;
        wall.positions.forEach((p, id) => {
          const pt = map.latLngToContainerPoint([p[1], p[0]]);
          const d = pt.distanceTo(e.containerPoint);
          if (d <= bestD) { best = id; bestD = d; }
        });
        if (best) start(best, null, "");
      });
    });
  }

  const reporters = new Map(); // case id -> Promise of {worker_id, name} | null
  function wireCase() {
    const m = location.pathname.match(/^\/cases\/(\d+)$/);
    const head = document.getElementById("case-ws-head");
    if (!m || !head || head.querySelector("#fc-call-reporter")) return;
    const caseId = Number(m[1]);
    if (!reporters.has(caseId)) {
      reporters.set(caseId, load().then((s) => (s.may_call
        ? fetch(`/m/api/case-reporter/${caseId}`, { credentials: "same-origin" }).then((r) => (r.ok ? r.json() : null))
        : null)).catch(() => null));
    }
    reporters.get(caseId).then((who) => {
      const now = document.getElementById("case-ws-head");
      if (!who || !who.worker_id || !now || now.querySelector("#fc-call-reporter")) return;
      now.appendChild(el("button", { type: "button", id: "fc-call-reporter", class: "fc-btn fc-inline",
        text: `${t("call.reporter")} · ${who.name}`, onclick: () => start(who.worker_id, caseId, who.name) }));
    });
  }

  function wire() { wireWall(); wireCase(); }
  new MutationObserver(wire).observe(document.documentElement, { childList: true, subtree: true });
  setInterval(wireWall, 2000);
})();
