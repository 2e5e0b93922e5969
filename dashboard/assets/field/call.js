/* The phone's side of a video call (视频连线): only the command room calls; the phone rings
   (sound, vibration, a full-screen card), the worker answers or declines, and the two sides
   talk peer to peer (WebRTC). Signalling goes over the /field socket (streams/field_calls.py):
   ring → answer → the caller's offer → our answer, ICE candidates both ways → hangup. */
(function () {
  "use strict";
  const F = (window.GccField = window.GccField || {});
  let call = null; // {id, pc, stream, card, timer, started}
  let ringing = null;

  function card() {
    return document.getElementById("m-call") || document.body.appendChild(F.el("div", { id: "m-call", class: "m-call hidden" }));
  }

  function stopRing() { clearInterval(ringing); ringing = null; }

  function close(text) {
    stopRing();
    if (call) {
      clearInterval(call.timer);
      if (call.pc) call.pc.close();
      if (call.stream) call.stream.getTracks().forEach((tr) => tr.stop());
    }
    call = null;
    const box = card();
    F.clear(box).classList.add("hidden");
    if (text) F.toast(text);
  }

  function ring(msg) {
    if (call) { F.socket.emit("answer", { call_id: msg.call_id, decline: true }); return; }
    call = { id: msg.call_id, pc: null, stream: null };
    const box = F.clear(card());
    box.classList.remove("hidden");
    box.appendChild(F.el("div", { class: "m-call-bar" }, [
      F.el("h2", { text: F.t("m.call.incoming") }),
      F.el("p", { class: "m-status", text: msg.caller }),
      F.el("button", { type: "button", id: "m-call-answer", class: "m-btn m-big m-pass", text: F.t("m.call.answer"), onclick: answer }),
      F.el("button", { type: "button", id: "m-call-decline", class: "m-btn m-big m-fail", text: F.t("m.call.decline"),
        onclick: () => { F.socket.emit("answer", { call_id: msg.call_id, decline: true }); close(); } }),
    ]));
    F.alert(3);
    ringing = setInterval(() => F.alert(2), 3000);
  }

  async function answer() {
    stopRing();
    const c = call;
    try {
      c.stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: true });
    } catch (e) {
      c.stream = null; // receive only: the command room still sees nothing but hears nothing
    }
    const pc = new RTCPeerConnection({ iceServers: F.config.ice_servers || [] });
    c.pc = pc;
    if (c.stream) c.stream.getTracks().forEach((tr) => pc.addTrack(tr, c.stream));
    pc.onicecandidate = (e) => { if (e.candidate) F.socket.emit("signal", { call_id: c.id, data: { candidate: e.candidate.toJSON() } }); };
    const remote = F.el("video", { class: "remote", id: "m-call-remote", autoplay: true, playsinline: true });
    const local = F.el("video", { class: "local", autoplay: true, playsinline: true, muted: true });
    local.muted = true;
    if (c.stream) local.srcObject = c.stream;
    pc.ontrack = (e) => { remote.srcObject = e.streams[0]; };
    const clock = F.el("p", { class: "m-status", id: "m-call-clock", text: F.t("m.call.talking", { t: "0:00" }) });
    F.clear(card()).append(remote, local, F.el("div", { class: "m-call-bar" }, [clock,
      F.el("button", { type: "button", id: "m-call-hangup", class: "m-btn m-big m-fail", text: F.t("m.call.hangup"),
        onclick: () => { F.socket.emit("hangup", { call_id: c.id }); close(F.t("m.call.ended")); } })]));
    c.started = Date.now();
    c.timer = setInterval(() => {
      const s = Math.round((Date.now() - c.started) / 1000);
      clock.textContent = F.t("m.call.talking", { t: `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}` });
    }, 1000);
    F.socket.emit("answer", { call_id: c.id });
  }

  async function signal(msg) {
    if (!call || call.id !== msg.call_id || !call.pc) return;
    const pc = call.pc;
    const d = msg.data || {};
    if (d.sdp) {
      await pc.setRemoteDescription(d.sdp);
      if (d.sdp.type === "offer") {
        await pc.setLocalDescription(await pc.createAnswer());
        F.socket.emit("signal", { call_id: call.id, data: { sdp: pc.localDescription.toJSON() } });
      }
    } else if (d.candidate) {
      try { await pc.addIceCandidate(d.candidate); } catch (e) { /* a late candidate */ }
    }
  }

  F.callSetup = function () {
    if (!F.socket) return;
    F.socket.on("ring", ring);
    F.socket.on("signal", (m) => { signal(m).catch(() => {}); });
    F.socket.on("taken", (m) => { if (call && call.id === m.call_id && !call.pc) close(); });
    F.socket.on("hangup", (m) => { if (call && call.id === m.call_id) close(F.t("m.call.ended")); });
  };
  /* For the call's WebRTC statistics (tests, diagnosis). */
  F.callStats = async function () {
    if (!call || !call.pc) return null;
    let bytes = 0;
    (await call.pc.getStats()).forEach((r) => { if (r.type === "inbound-rtp" && r.kind === "video") bytes += r.bytesReceived || 0; });
    return bytes;
  };
})();
