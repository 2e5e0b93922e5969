/* The live protocol client shared by every live page (the wall, the supervisors' page): Socket.IO
   on /live, websocket only, reconnecting by itself (0.5–3 s backoff), and the sequence chain of
   streams/protocol.py:

   - snapshot {seq, at, data}: the whole state; the deltas up to seq are in it;
   - delta {seq, prev, topic, payload}: in order; "prev" is the seq of what this screen got before
     (its snapshot or the delta before). A broken chain asks for a fresh snapshot (resync) and
     drops the delta; the snapshot that answers carries it.
   - any other event (positions, alarm, heartbeat) is passed on as it is.

   GccLive.connect(handlers) → client. handlers: snapshot(msg), delta(msg) (only chained ones),
   state(connected), heard() (anything arrived, even the server's keep-alive ping), and
   events: {name: fn}. client.resync(force, refresh) asks for a snapshot (at most every 10 s
   unless forced); with refresh, a page that merges it asks for a refresh (msg.refresh: no
   positions, only the villages that changed; streams/screens.py). client.socket is the Socket.IO
   socket, client.close() ends it. */
(function () {
  "use strict";
  const RESYNC_RETRY_MS = 10e3;

  function connect(handlers) {
    const h = handlers || {};
    const heard = () => { if (h.heard) h.heard(); };
    const socket = io("/live", {
      transports: ["websocket"],
      reconnection: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: 3000,
      timeout: 8000,
    });
    const client = { socket, seq: null, resyncAskedAt: 0 };

    client.resync = function (force, refresh) {
      if (!socket.connected) return;
      if (!force && Date.now() - client.resyncAskedAt < RESYNC_RETRY_MS) return;
      client.resyncAskedAt = Date.now();
      socket.emit("resync", refresh ? { refresh: true } : {});
    };
    client.close = function () { socket.close(); };

    socket.on("connect", () => { heard(); if (h.state) h.state(true); });
    socket.on("disconnect", () => { if (h.state) h.state(false); });
    socket.io.on("ping", heard); // the server's keep-alive: the stream is alive, if quiet
    socket.on("snapshot", (msg) => {
      heard();
      client.seq = msg.seq;
      client.resyncAskedAt = 0;
      if (h.snapshot) h.snapshot(msg);
    });
    socket.on("delta", (msg) => {
      heard();
      if (client.seq === null) return; // the snapshot that starts the stream is on its way
      const chained = msg.prev !== undefined && msg.prev !== null;
      if (chained ? msg.prev !== client.seq : msg.seq !== client.seq + 1) {
        if (msg.seq > client.seq) client.resync();
        return;
      }
      client.seq = msg.seq;
      if (h.delta) h.delta(msg);
    });
    Object.entries(h.events || {}).forEach(([name, fn]) => {
      socket.on(name, (msg) => { heard(); fn(msg); });
    });
    return client;
  }

  window.GccLive = { connect };
})();
