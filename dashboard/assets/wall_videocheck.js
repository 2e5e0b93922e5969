/* Video checks from the live wall: a click on a case in the feed, a village in the red list or
   a point on the map offers "视频核查", which opens the video wall's focus view with the nearest
   cameras (/video?case=<id>, ?village=<code>, ?near=<lon>,<lat>) in a new window, so the wall
   itself keeps running. Only for screens that may view cameras (config canVideo). Text only. */
(function () {
  "use strict";
  const W = (window.GccWall = window.GccWall || {});
  const HIDE_AFTER_MS = 8000;

  function target(e, wall) {
    const feed = e.target.closest("#wall-feed .feed-item[data-id]");
    if (feed) {
      const name = W.render.fill(wall.cfg.labels["wall.case_no"], { n: feed.dataset.id });
      return { query: "case=" + encodeURIComponent(feed.dataset.id), title: name, kind: "case" };
    }
    const red = e.target.closest("#wall-red-list .red-row[data-key]:not(.unit)"); // a town drills in
    if (red) {
      const name = red.querySelector(".red-name");
      return {
        query: "village=" + encodeURIComponent(red.dataset.key),
        title: name ? name.textContent : red.dataset.key,
        kind: "village",
      };
    }
    const map = e.target.closest("#wall-map");
    // Above a town a click on the map drills into a town instead (assets/wall.js).
    if (map && wall.map && wall.map.map && wall.map.kind === "villages" && !e.target.closest(".leaflet-control")) {
      const at = wall.map.map.mouseEventToLatLng(e);
      const lon = at.lng.toFixed(6), lat = at.lat.toFixed(6);
      const title = wall.cfg.labels["video.check_map_point"]; // words, not coordinates
      return { query: "near=" + lon + "," + lat, title, kind: "point" };
    }
    return null;
  }

  function menu(root) {
    let box = root.querySelector(".video-check-menu");
    if (!box) {
      box = document.createElement("div");
      box.className = "video-check-menu hidden";
      root.appendChild(box);
    }
    return box;
  }

  function show(root, wall, found, e) {
    const L = wall.cfg.labels;
    const box = menu(root);
    const title = document.createElement("div");
    title.className = "vc-title";
    title.textContent = found.title;
    const link = document.createElement("a");
    link.className = "vc-link";
    link.dataset.kind = found.kind;
    link.href = "/video?" + found.query + "&lang=" + encodeURIComponent(wall.cfg.lang);
    link.target = "_blank";
    link.rel = "noopener";
    link.textContent = "▶ " + L["video.check"];
    box.replaceChildren(title, link);
    const r = root.getBoundingClientRect();
    box.style.left = Math.min(e.clientX - r.left + 8, r.width - 260) + "px";
    box.style.top = Math.min(e.clientY - r.top + 8, r.height - 110) + "px";
    box.classList.remove("hidden");
    clearTimeout(box.hideTimer);
    box.hideTimer = setTimeout(() => box.classList.add("hidden"), HIDE_AFTER_MS);
  }

  document.addEventListener("click", (e) => {
    const wall = W.current;
    const root = document.getElementById("wall");
    if (!wall || !root || !wall.cfg.canVideo || !root.contains(e.target)) return;
    if (e.target.closest(".video-check-menu")) return; // the link itself
    const found = target(e, wall);
    if (found) show(root, wall, found, e);
    else menu(root).classList.add("hidden");
  });
  document.addEventListener("keydown", (e) => {
    const root = document.getElementById("wall");
    if (e.key === "Escape" && root) menu(root).classList.add("hidden");
  });
})();
