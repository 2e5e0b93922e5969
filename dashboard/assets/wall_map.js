/* The wall's map: plain Leaflet, offline by default (no tile layer unless config.ui.tile_url).
   Village polygons are fetched once from /api/v1/villages.geojson and only restyled afterwards;
   worker positions are drawn on one canvas (thousands of points), not as DOM markers.
   Dash loads assets/vendor/ after this file, so the classes are built on first use, when
   Leaflet is there (GccWall.mapClass()). */
(function () {
  "use strict";
  const W = (window.GccWall = window.GccWall || {});
  let built = null;
  W.mapClass = function () {
    if (!built) built = build();
    return built;
  };

  function build() {
    const LABEL_ALL_UP_TO = 120; // more villages than this: only red ones get a name on the map
    const CASE_PIN_TTL_MS = 10 * 60e3;
    const MAX_CASE_PINS = 15;

    const STYLE_OK = { color: "#4b8fd6", weight: 1.2, opacity: 0.9, fillColor: "#17406e", fillOpacity: 0.55 };
    const STYLE_RED = { color: "#ffd0d0", weight: 3, opacity: 1, fillColor: "#ff2d3d", fillOpacity: 0.82 };

    /* One canvas in the overlay pane, redrawn on move/zoom and when the points change. */
    const DotLayer = L.Layer.extend({
      initialize() { this._points = []; },
      onAdd(map) {
        this._canvas = L.DomUtil.create("canvas", "wall-dots leaflet-zoom-hide");
        this._canvas.style.pointerEvents = "none";
        map.getPanes().overlayPane.appendChild(this._canvas);
        map.on("moveend zoomend resize viewreset", this._reset, this);
        this._reset();
      },
      onRemove(map) {
        map.off("moveend zoomend resize viewreset", this._reset, this);
        this._canvas.remove();
      },
      setPoints(points) { this._points = points; this._draw(); },
      _reset() {
        const map = this._map;
        const size = map.getSize();
        L.DomUtil.setPosition(this._canvas, map.containerPointToLayerPoint([0, 0]));
        // Sharp on a 4K panel (--force-device-scale-factor=2): draw at device pixels.
        const dpr = window.devicePixelRatio || 1;
        this._canvas.width = Math.round(size.x * dpr);
        this._canvas.height = Math.round(size.y * dpr);
        this._canvas.style.width = size.x + "px";
        this._canvas.style.height = size.y + "px";
        this._draw();
      },
      _draw() {
        if (!this._map) return;
        const ctx = this._canvas.getContext("2d");
        const dpr = window.devicePixelRatio || 1;
        ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
        ctx.clearRect(0, 0, this._canvas.width, this._canvas.height);
        const pts = this._points.map((p) => this._map.latLngToContainerPoint([p[1], p[0]]));
        ctx.fillStyle = "rgba(95, 242, 255, 0.22)";
        pts.forEach((p) => { ctx.beginPath(); ctx.arc(p.x, p.y, 6, 0, 6.2832); ctx.fill(); });
        ctx.fillStyle = "#5ff2ff";
        pts.forEach((p) => { ctx.beginPath(); ctx.arc(p.x, p.y, 2.6, 0, 6.2832); ctx.fill(); });
      },
    });

    function WallMap(container, cfg) {
      this.cfg = cfg;
      this.container = container;
      this.map = L.map(container, {
        zoomControl: false, attributionControl: false, zoomSnap: 0.1, boxZoom: false,
        keyboard: false, preferCanvas: true, fadeAnimation: false,
      });
      this.map.setView([29.7, 120.5], 11); // replaced by the villages' bounds once they load
      if (cfg.tileUrl) L.tileLayer(cfg.tileUrl, { maxZoom: 19 }).addTo(this.map);
      this.renderer = L.canvas({ padding: 0.1 });
      this.layers = new Map(); // village code -> polygon layer
      this.statuses = new Map(); // village code -> "ok" | "red"
      this.dots = new DotLayer().addTo(this.map);
      this.pins = new Map(); // case id -> {marker, until}
      this.loaded = false;
      this.loading = null;
      this.pulse = false;
    }

    /* Resolves true once the villages are drawn; one request at a time. */
    WallMap.prototype.load = function () {
      if (this.loaded) return Promise.resolve(true);
      if (!this.loading) {
        this.loading = fetch("/api/v1/villages.geojson", { credentials: "same-origin" })
          .then((resp) => {
            if (!resp.ok) throw new Error("HTTP " + resp.status);
            return resp.json();
          })
          .then((geojson) => { this._draw(geojson); this.loaded = true; return true; })
          .catch((err) => { console.warn("wall: villages not loaded yet:", err.message); return false; })
          .finally(() => { this.loading = null; });
      }
      return this.loading;
    };

    WallMap.prototype._draw = function (geojson) {
      const labelAll = (geojson.features || []).length <= LABEL_ALL_UP_TO;
      const group = L.geoJSON(geojson, {
        renderer: this.renderer,
        interactive: false,
        style: (f) => (this.statuses.get(f.properties.code) === "red" ? STYLE_RED : STYLE_OK),
        onEachFeature: (f, layer) => {
          const code = f.properties.code;
          if (!this.statuses.has(code)) this.statuses.set(code, f.properties.status);
          layer.labelAlways = labelAll;
          const name = document.createElement("span"); // a node, so the name stays text
          name.textContent = String(f.properties.name || code);
          layer.bindTooltip(name, {
            permanent: true, direction: "center", className: "village-label", interactive: false,
          });
          this.layers.set(code, layer);
        },
      }).addTo(this.map);
      this.map.fitBounds(group.getBounds(), { padding: [16, 16] });
      this.map.on("zoomend", () => { this.labelsDirty = true; });
      this.labelsDirty = true;
      this.restyle();
    };

    WallMap.prototype.setVillages = function (villages) {
      villages.forEach((v) => {
        if (this.statuses.get(v.code) !== v.status) this.labelsDirty = true;
        this.statuses.set(v.code, v.status);
      });
    };

    /* Names must not overprint each other: red villages first, then the larger ones; a label
       that would overlap one already placed is hidden (the red list names every red village). */
    WallMap.prototype._declutter = function () {
      this.labelsDirty = false;
      const labels = [];
      this.layers.forEach((layer, code) => {
        const node = layer.isTooltipOpen() && layer.getTooltip().getElement();
        if (!node) return;
        node.style.visibility = "";
        const b = layer.getBounds();
        const area = (b.getEast() - b.getWest()) * (b.getNorth() - b.getSouth());
        labels.push({ node, red: this.statuses.get(code) === "red", area });
      });
      labels.sort((a, b) => b.red - a.red || b.area - a.area);
      const placed = [];
      labels.forEach((l) => {
        const r = l.node.getBoundingClientRect();
        const hit = placed.some((p) => r.left < p.right + 2 && p.left < r.right + 2 &&
          r.top < p.bottom && p.top < r.bottom);
        if (hit) l.node.style.visibility = "hidden";
        else placed.push(r);
      });
    };

    /* Recolour by status and show the labels that should be seen (called at most once a second). */
    WallMap.prototype.restyle = function () {
      this.pulse = !this.pulse;
      const shown = [];
      this.layers.forEach((layer, code) => {
        const red = this.statuses.get(code) === "red";
        if (red) shown.push(code);
        const look = red ? (this.pulse ? "red-hi" : "red-lo") : "ok";
        if (layer.look !== look) { // only what changed: the red ones pulse, the rest stay
          layer.setStyle(red ? Object.assign({}, STYLE_RED, { fillOpacity: this.pulse ? 0.9 : 0.68 }) : STYLE_OK);
          if (red && !String(layer.look).startsWith("red")) layer.bringToFront();
          layer.look = look;
        }
        const tip = layer.getTooltip();
        if (!tip) return;
        if (red || layer.labelAlways) {
          if (!layer.isTooltipOpen()) layer.openTooltip();
          const node = tip.getElement();
          if (node) node.classList.toggle("red", red);
        } else if (layer.isTooltipOpen()) {
          layer.closeTooltip();
        }
      });
      // The red villages drawn right now, for anyone inspecting the page (and the browser tests).
      this.container.dataset.red = shown.sort().join(" ");
      if (this.labelsDirty) this._declutter();
    };

    WallMap.prototype.setPositions = function (positions, since) {
      const pts = [];
      positions.forEach((p) => { if (p[2] >= since) pts.push(p); });
      this.dots.setPoints(pts);
    };

    /* A pin for a new case (a ripple, for ten minutes) or an alarmed emergency (flashing, until
       acknowledged or closed). */
    WallMap.prototype.pin = function (c) {
      const old = this.pins.get(c.id);
      if (old) old.marker.remove();
      if (!c.open) { this.pins.delete(c.id); return; }
      const icon = L.divIcon({
        className: "case-pin" + (c.emergency ? " emergency" : ""),
        html: '<span class="ring"></span><span class="dot"></span>',
        iconSize: [0, 0],
      });
      const marker = L.marker([c.lat, c.lon], { icon, interactive: false, keyboard: false })
        .addTo(this.map);
      this.pins.set(c.id, { marker, until: c.emergency ? Infinity : Date.now() + CASE_PIN_TTL_MS });
      this._trim();
    };

    WallMap.prototype._trim = function () {
      const now = Date.now();
      const plain = [];
      this.pins.forEach((p, id) => {
        if (p.until < now) { p.marker.remove(); this.pins.delete(id); }
        else if (p.until !== Infinity) plain.push(id);
      });
      plain.slice(0, Math.max(0, plain.length - MAX_CASE_PINS)).forEach((id) => {
        this.pins.get(id).marker.remove();
        this.pins.delete(id);
      });
    };

    WallMap.prototype.clearPins = function () {
      this.pins.forEach((p) => p.marker.remove());
      this.pins.clear();
    };

    return WallMap;
  }
})();
