/* The wall's map: plain Leaflet, offline by default (no tile layer unless config.ui.tile_url).

   One layer of units at a time, loaded once and afterwards only restyled:
   - "villages" (a town's wall, or a town drilled into): village polygons by status, red ones
     pulsing with their name;
   - "towns" (a county's or a city's wall): town polygons coloured by their share of red villages,
     named when any is red; a click drills into the town (the wall's onDrill).
   Names are tooltips bound only to the polygons that show one (a permanent tooltip per village
   forced thousands of layouts at a city's first paint). Worker positions are one canvas: single
   dots when few are in view, otherwise counted into 16-pixel cells (a city's 26,000 workers are a
   few hundred circles, not a cyan wash), projected with plain arithmetic, redrawn at most once a
   second. A click on a village opens who is inside that grid and village now (the geofence,
   wall.js). Dash loads assets/vendor/ after this file, so the class is built on first use, when
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
    const SINGLE_DOTS_UP_TO = 2500; // more workers in view: counted into cells
    const CELL_PX = 16;

    const STYLE_OK = { color: "#4b8fd6", weight: 1.2, opacity: 0.9, fillColor: "#17406e", fillOpacity: 0.55 };
    const STYLE_RED = { color: "#ffd0d0", weight: 3, opacity: 1, fillColor: "#ff2d3d", fillOpacity: 0.82 };

    /* A town's colour by its share of red villages: blue (none) through amber to red (a third or
       more red). */
    function shareStyle(share) {
      if (!share) return STYLE_OK;
      const t = Math.min(1, share * 3);
      const hue = Math.round(38 - 38 * t); // amber 38° → red 0°
      return {
        color: t >= 1 ? "#ffd0d0" : "#ffc27a", weight: 1.6 + 1.4 * t, opacity: 1,
        fillColor: "hsl(" + hue + ", 95%, " + Math.round(52 - 6 * t) + "%)", fillOpacity: 0.45 + 0.4 * t,
      };
    }

    /* Web Mercator in pixels at a zoom, as Leaflet's EPSG:3857 computes it. */
    function projector(map) {
      const zoom = map.getZoom();
      const scale = 256 * Math.pow(2, zoom);
      const origin = map.project(map.containerPointToLatLng([0, 0]), zoom);
      return (lon, lat) => {
        const s = Math.sin((Math.max(-85, Math.min(85, lat)) * Math.PI) / 180);
        return [
          ((lon + 180) / 360) * scale - origin.x,
          (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * scale - origin.y,
        ];
      };
    }

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
        const dpr = window.devicePixelRatio || 1; // sharp on a 4K panel
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
        const size = this._map.getSize();
        ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
        ctx.clearRect(0, 0, size.x, size.y);
        const at = projector(this._map);
        const xs = [], ys = [];
        this._points.forEach((p) => {
          const [x, y] = at(p[0], p[1]);
          if (x >= -6 && y >= -6 && x <= size.x + 6 && y <= size.y + 6) { xs.push(x); ys.push(y); }
        });
        this.shown = xs.length;
        if (xs.length <= SINGLE_DOTS_UP_TO) {
          ctx.fillStyle = "rgba(95, 242, 255, 0.22)";
          ctx.beginPath();
          xs.forEach((x, i) => { ctx.moveTo(x + 6, ys[i]); ctx.arc(x, ys[i], 6, 0, 6.2832); });
          ctx.fill();
          ctx.fillStyle = "#5ff2ff";
          ctx.beginPath();
          xs.forEach((x, i) => { ctx.moveTo(x + 2.6, ys[i]); ctx.arc(x, ys[i], 2.6, 0, 6.2832); });
          ctx.fill();
          return;
        }
        const cells = new Map();
        const cols = Math.ceil(size.x / CELL_PX) + 2;
        xs.forEach((x, i) => {
          const key = Math.floor(x / CELL_PX) + 1 + (Math.floor(ys[i] / CELL_PX) + 1) * cols;
          cells.set(key, (cells.get(key) || 0) + 1);
        });
        ctx.fillStyle = "rgba(95, 242, 255, 0.55)";
        ctx.beginPath();
        cells.forEach((n, key) => {
          const cx = ((key % cols) - 0.5) * CELL_PX, cy = (Math.floor(key / cols) - 0.5) * CELL_PX;
          const r = Math.min(CELL_PX * 0.45, 1.2 + Math.sqrt(n) * 0.9);
          ctx.moveTo(cx + r, cy);
          ctx.arc(cx, cy, r, 0, 6.2832);
        });
        ctx.fill();
      },
    });

    function WallMap(container, cfg) {
      this.cfg = cfg;
      this.container = container;
      this.map = L.map(container, {
        zoomControl: false, attributionControl: false, zoomSnap: 0.1, boxZoom: false,
        keyboard: false, preferCanvas: true, fadeAnimation: false,
      });
      this.map.setView([29.7, 120.5], 11); // replaced by the layer's bounds once it loads
      if (cfg.tileUrl) L.tileLayer(cfg.tileUrl, { maxZoom: 19 }).addTo(this.map);
      this.renderer = L.canvas({ padding: 0.1 });
      this.kind = null; // "villages" | "towns"
      this.group = null;
      this.layers = new Map(); // code -> polygon layer
      this.statuses = new Map(); // village code -> "ok" | "red"
      this.shares = new Map(); // town code -> {red, villages}
      this.names = new Map();
      this.dots = new DotLayer().addTo(this.map);
      this.pins = new Map(); // case id -> {marker, until}
      this.pulse = false;
      this.onDrill = null;
      this.onPlace = null; // a click on a village: (latlng) -> the geofence popup (wall.js)
      this.map.on("zoomend", () => { this.labelsDirty = true; });
    }

    /* Fetch a GeoJSON layer (gzip-compressed, revalidated with its ETag). */
    WallMap.prototype.fetchLayer = function (url) {
      return fetch(url, { credentials: "same-origin" }).then((resp) => {
        if (!resp.ok) throw new Error("HTTP " + resp.status);
        return resp.json();
      });
    };

    /* Replace the drawn units by ``geojson`` of ``kind``. */
    WallMap.prototype.show = function (kind, geojson) {
      if (this.group) this.group.remove();
      this.layers.clear();
      this.kind = kind;
      const features = geojson.features || [];
      this.labelAll = kind === "villages" && features.length <= LABEL_ALL_UP_TO;
      this.group = L.geoJSON(geojson, {
        renderer: this.renderer,
        interactive: true, // towns drill in; a village answers who is inside it (onPlace)
        style: () => STYLE_OK,
        onEachFeature: (f, layer) => {
          const code = f.properties.code;
          this.names.set(code, String(f.properties.name || code));
          if (kind === "villages" && !this.statuses.has(code)) this.statuses.set(code, f.properties.status);
          layer.look = null;
          if (kind === "towns") layer.on("click", () => { if (this.onDrill) this.onDrill(code); });
          else layer.on("click", (e) => { if (this.onPlace) this.onPlace(e.latlng); });
          this.layers.set(code, layer);
        },
      }).addTo(this.map);
      this.map.fitBounds(this.group.getBounds(), { padding: [16, 16] });
      this.container.dataset.level = kind;
      this.labelsDirty = true;
      this.restyle();
    };

    WallMap.prototype.setVillages = function (villages) {
      villages.forEach((v) => {
        if (this.statuses.get(v.code) !== v.status) this.labelsDirty = true;
        this.statuses.set(v.code, v.status);
      });
    };

    WallMap.prototype.setUnits = function (units) {
      units.forEach((u) => {
        const old = this.shares.get(u.code);
        if (!old || old.red !== u.red) this.labelsDirty = true;
        this.shares.set(u.code, { red: u.red, villages: u.villages });
      });
    };

    /* A name on the map, bound the first time the polygon needs one. */
    WallMap.prototype._label = function (layer, code, on, red) {
      const state = on ? (red ? "red" : "on") : "off";
      if (layer.labelState === state) return; // nothing to write: no style work for the page
      layer.labelState = state;
      if (!on) {
        if (layer.isTooltipOpen && layer.getTooltip() && layer.isTooltipOpen()) layer.closeTooltip();
        return;
      }
      if (!layer.getTooltip()) {
        const name = document.createElement("span"); // a node, so the name stays text
        name.textContent = this.names.get(code) || code;
        layer.bindTooltip(name, { permanent: true, direction: "center", className: "village-label", interactive: false });
      }
      if (!layer.isTooltipOpen()) layer.openTooltip();
      const node = layer.getTooltip().getElement();
      if (node) node.classList.toggle("red", red);
    };

    /* Names must not overprint each other: red first, then the larger; a label that would
       overlap one already placed is hidden (the red list names every red unit). One layout:
       every rectangle is read before any is hidden. */
    WallMap.prototype._declutter = function () {
      this.labelsDirty = false;
      const labels = [];
      this.layers.forEach((layer, code) => {
        const tip = layer.getTooltip();
        const node = tip && layer.isTooltipOpen() && tip.getElement();
        if (!node) return;
        node.style.visibility = "";
        const b = layer.getBounds();
        const area = (b.getEast() - b.getWest()) * (b.getNorth() - b.getSouth());
        labels.push({ node, red: this._red(code), area });
      });
      labels.forEach((l) => { l.rect = l.node.getBoundingClientRect(); });
      labels.sort((a, b) => b.red - a.red || b.area - a.area);
      const placed = [];
      labels.forEach((l) => {
        const r = l.rect;
        const hit = placed.some((p) => r.left < p.right + 2 && p.left < r.right + 2 &&
          r.top < p.bottom && p.top < r.bottom);
        if (hit) l.node.style.visibility = "hidden";
        else placed.push(r);
      });
    };

    /* How red a unit is: a village's status, a town's share of red villages. */
    WallMap.prototype._red = function (code) {
      if (this.kind === "villages") return this.statuses.get(code) === "red" ? 1 : 0;
      const s = this.shares.get(code);
      return s && s.villages ? s.red / s.villages : 0;
    };

    /* Recolour and show the names that should be seen (at most once a second). */
    WallMap.prototype.restyle = function () {
      this.pulse = !this.pulse;
      const shown = [];
      this.layers.forEach((layer, code) => {
        const red = this._red(code);
        if (red) shown.push(code);
        let look;
        let style;
        if (this.kind === "villages") {
          look = red ? (this.pulse ? "red-hi" : "red-lo") : "ok";
          style = red ? Object.assign({}, STYLE_RED, { fillOpacity: this.pulse ? 0.9 : 0.68 }) : STYLE_OK;
        } else {
          look = "share-" + red.toFixed(3);
          style = shareStyle(red);
        }
        if (layer.look !== look) { // only what changed: the red ones pulse, the rest stay
          layer.setStyle(style);
          if (red && !String(layer.look).startsWith("red") && this.kind === "villages") layer.bringToFront();
          layer.look = look;
        }
        this._label(layer, code, red > 0 || this.labelAll, red > 0);
      });
      // The red units drawn right now, for anyone inspecting the page (and the browser tests).
      const red = shown.sort().join(" ");
      if (this.container.dataset.red !== red) this.container.dataset.red = red;
      if (this.labelsDirty) this._declutter();
    };

    WallMap.prototype.setPositions = function (points) {
      this.dots.setPoints(points);
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

    /* A popup at ``latlng`` holding ``node`` (built with textContent by the caller). */
    WallMap.prototype.popup = function (latlng, node) {
      if (!this.popupLayer) {
        this.popupLayer = L.popup({ className: "geofence-popup", maxWidth: 560, minWidth: 400, autoPan: true });
      }
      // The boxes drawn over the map's left side (the red villages, the month's points) sit
      // above the map's panes: the popup is panned clear of them, to their right.
      const container = this.map.getContainer();
      const left = container.getBoundingClientRect().left;
      let clear = 10;
      container.parentElement.querySelectorAll(".red-list, .wall-points").forEach((box) => {
        if (box.classList.contains("hidden")) return;
        clear = Math.max(clear, box.getBoundingClientRect().right - left + 12);
      });
      this.popupLayer.options.autoPanPaddingTopLeft = L.point(clear, 10);
      this.popupLayer.setLatLng(latlng).setContent(node).openOn(this.map);
    };

    WallMap.prototype.clearPins = function () {
      this.pins.forEach((p) => p.marker.remove());
      this.pins.clear();
    };

    return WallMap;
  }
})();
