/* The case workspace (/cases/<id>): the small offline map and the photo lightbox.
   The map's data comes from the JSON in #case-ws-map's data-map attribute (village and grid
   outlines, the case point, the nearest cameras); no tiles unless config.ui.tile_url is set.
   Names are put in with textContent, never as markup. Dash loads assets/vendor/ (Leaflet)
   after this file, so the map is built when the element appears, not at load time. */
(function () {
  "use strict";
  const LIGHT_COLOURS = { green: "#2ecc71", yellow: "#f5b942", red: "#ff3b3b", none: "#3fa9ff" };

  function textNode(text) {
    const span = document.createElement("span");
    span.textContent = text;
    return span;
  }

  function buildMap(el) {
    const data = JSON.parse(el.dataset.map || "{}");
    const map = L.map(el, {
      zoomControl: true, attributionControl: false, fadeAnimation: false, zoomAnimation: false,
    });
    const point = L.latLng(data.point[1], data.point[0]);
    map.setView(point, 15); // layers need a view; fitted to the village below
    if (data.tileUrl) L.tileLayer(data.tileUrl, { maxZoom: 19 }).addTo(map);
    let bounds = L.latLngBounds([point, point]);
    if (data.village) {
      const village = L.geoJSON(data.village, {
        style: { color: "#4b8fd6", weight: 1.5, fillColor: "#17406e", fillOpacity: 0.45 },
        interactive: false,
      }).addTo(map);
      bounds = bounds.extend(village.getBounds());
    }
    if (data.grid) {
      L.geoJSON(data.grid, {
        style: { color: "#9fd3ff", weight: 1, dashArray: "4 4", fill: false },
        interactive: false,
      }).addTo(map);
    }
    (data.cameras || []).forEach((cam) => {
      L.circleMarker([cam.lat, cam.lon], {
        radius: 5, color: "#5ff2ff", weight: 1, fillColor: "#0b1220", fillOpacity: 1,
      }).bindTooltip(textNode(cam.name)).addTo(map);
    });
    const colour = LIGHT_COLOURS[data.light] || LIGHT_COLOURS.none;
    L.circleMarker(point, { radius: 13, color: colour, weight: 2, fillOpacity: 0.15 }).addTo(map);
    L.circleMarker(point, { radius: 6, color: "#fff", weight: 2, fillColor: colour, fillOpacity: 1 })
      .addTo(map);
    map._gccBounds = bounds.pad(0.08);
    map.fitBounds(map._gccBounds, { maxZoom: 17, animate: false });
    return map;
  }

  function boot() {
    const el = document.getElementById("case-ws-map");
    if (!el || el._gccMap || !window.L) return;
    el._gccMap = "building"; // once per element, even when building fails
    try {
      const map = buildMap(el);
      el._gccMap = map;
      // The container may get its final size only after Dash lays the page out: refit then.
      requestAnimationFrame(() => {
        map.invalidateSize();
        map.fitBounds(map._gccBounds, { maxZoom: 17, animate: false });
        el.dataset.ready = "1";
      });
    } catch (err) {
      el.dataset.ready = "error";
      console.warn("case map:", err);
    }
  }

  function closeLightbox() {
    const box = document.getElementById("case-lightbox");
    if (box) box.remove();
  }

  function openLightbox(href) {
    closeLightbox();
    const box = document.createElement("div");
    box.id = "case-lightbox";
    box.className = "case-lightbox";
    const img = document.createElement("img");
    img.src = href;
    img.alt = "";
    box.appendChild(img);
    box.addEventListener("click", closeLightbox);
    document.body.appendChild(box);
  }

  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest("a.case-photo");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    openLightbox(link.getAttribute("href"));
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeLightbox();
  });
  new MutationObserver(boot).observe(document.documentElement, { childList: true, subtree: true });
})();
