/* Patrol: start/stop; while on patrol a position fix every `patrol_seconds` (30-60 s, config
   [field]) from the browser's geolocation, its accuracy kept, queued and sent in batches to
   POST /api/v1/positions. The page shows the worker's grid, today's track and the last fix.
   The patrol survives a reload (localStorage). No map tiles: the grid and the track are drawn
   as vectors, so it works with no network. */
(function () {
  "use strict";
  const F = (window.GccField = window.GccField || {});
  const KEY = "gcc-field-patrol";
  let map = null, gridLayer = null, trackLine = null, here = null;
  let timer = null, taken = 0, lastAccuracy = null;
  const track = [];

  F.position = function () {
    return new Promise((resolve, reject) => {
      if (!navigator.geolocation) { reject(new Error("geolocation")); return; }
      navigator.geolocation.getCurrentPosition(resolve, reject,
        { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 });
    });
  };

  F.makeMap = function (node, me) {
    const m = L.map(node, { zoomControl: true, attributionControl: false });
    if (F.config.tile_url) L.tileLayer(F.config.tile_url, { maxZoom: 19 }).addTo(m);
    if (me && me.grid_geometry) {
      const layer = L.geoJSON(me.grid_geometry, { style: { color: "#ffd400", weight: 3, fillOpacity: 0.08 } }).addTo(m);
      m.fitBounds(layer.getBounds(), { padding: [10, 10] });
      return [m, layer];
    }
    m.setView([29.7, 120.3], 14);
    return [m, null];
  };

  function distanceKm(points) {
    let d = 0;
    for (let i = 1; i < points.length; i++) {
      const [a, b] = [points[i - 1], points[i]];
      const rad = Math.PI / 180;
      const x = (b[1] - a[1]) * rad * Math.cos(((a[0] + b[0]) / 2) * rad);
      const y = (b[0] - a[0]) * rad;
      d += Math.sqrt(x * x + y * y) * 6371;
    }
    return d;
  }

  function status() {
    const on = localStorage.getItem(KEY) === "1";
    document.getElementById("m-patrol-toggle").textContent = F.t(on ? "m.patrol.stop" : "m.patrol.start");
    document.getElementById("m-patrol-toggle").classList.toggle("on", on);
    document.getElementById("m-patrol-fix").classList.toggle("hidden", !on);
    document.getElementById("m-patrol-state").textContent = on ? F.t("m.patrol.on", { n: taken }) : F.t("m.patrol.off");
    document.getElementById("m-patrol-acc").textContent = lastAccuracy === null ? "" : F.t("m.patrol.accuracy", { m: Math.round(lastAccuracy) });
    document.getElementById("m-patrol-km").textContent = F.t("m.patrol.track", { km: distanceKm(track).toFixed(2) });
  }

  function draw() {
    if (!map) return;
    const latlngs = track.map((p) => [p[1], p[0]]);
    trackLine.setLatLngs(latlngs);
    if (latlngs.length) {
      const last = latlngs[latlngs.length - 1];
      if (!here) here = L.circleMarker(last, { radius: 9, color: "#000", weight: 3, fillColor: "#00e0ff", fillOpacity: 1 }).addTo(map);
      here.setLatLng(last);
    }
  }

  async function takeFix() {
    let pos;
    try {
      pos = await F.position();
    } catch (e) {
      F.toast(F.t("m.patrol.no_gps"), "bad");
      return null;
    }
    const c = pos.coords;
    lastAccuracy = c.accuracy;
    F.lastPosition = { lat: c.latitude, lon: c.longitude, accuracy: c.accuracy };
    const fix = { worker: F.me.id, lat: c.latitude, lon: c.longitude, time: new Date(pos.timestamp || Date.now()).toISOString() };
    if (typeof c.accuracy === "number" && isFinite(c.accuracy)) fix.accuracy = Math.min(100000, c.accuracy);
    taken += 1;
    track.push([c.longitude, c.latitude]);
    draw();
    status();
    await F.queue.add("positions", { fixes: [fix] });
    return fix;
  }

  function run() {
    clearInterval(timer);
    timer = setInterval(takeFix, F.config.patrol_seconds * 1000);
    takeFix();
  }

  function toggle() {
    const on = localStorage.getItem(KEY) === "1";
    if (on) {
      localStorage.removeItem(KEY);
      clearInterval(timer);
      timer = null;
    } else {
      localStorage.setItem(KEY, "1");
      run();
    }
    status();
  }

  F.patrolPage = function (root) {
    F.clear(root);
    root.appendChild(F.el("div", { class: "m-card m-patrol" }, [
      F.el("div", { class: "m-row" }, [
        F.el("button", { type: "button", id: "m-patrol-toggle", class: "m-btn m-big", onclick: toggle }),
      ]),
      F.el("button", { type: "button", id: "m-patrol-fix", class: "m-btn m-secondary hidden", text: F.t("m.patrol.fix_now"), onclick: takeFix }),
      F.el("div", { id: "m-patrol-state", class: "m-status" }),
      F.el("div", { class: "m-sub-row" }, [F.el("span", { id: "m-patrol-acc" }), F.el("span", { id: "m-patrol-km" })]),
    ]));
    const mapNode = F.el("div", { id: "m-patrol-map", class: "m-map" });
    root.appendChild(mapNode);
    root.appendChild(F.el("p", { class: "m-note", text: F.t("m.patrol.households") }));
    [map, gridLayer] = F.makeMap(mapNode, F.me);
    trackLine = L.polyline([], { color: "#00e0ff", weight: 4 }).addTo(map);
    F.request("GET", "/m/api/track").then((r) => {
      if (r.status === 200 && r.body) {
        track.splice(0, 0, ...r.body.track);
        draw();
        status();
      }
    }).catch(() => {});
    status();
    if (localStorage.getItem(KEY) === "1") run();
  };
  F.patrolShown = function () { if (map) setTimeout(() => map.invalidateSize(), 50); };
})();
