/* The wall's 本月积分榜 (layouts/wall_points.py): this month's top villages by points, from
   GET /api/v1/points/top-villages, when the wall opens and every ten minutes. Names and points
   only; text only (textContent). Loaded by every Dash page: it does nothing without its box. */
(function () {
  "use strict";
  const EVERY_MS = 10 * 60 * 1000;
  let timer = null;

  async function refresh() {
    const box = document.getElementById("wall-points");
    if (!box) { clearInterval(timer); timer = null; return; }
    let body = null;
    try {
      const resp = await fetch("/api/v1/points/top-villages?limit=5", { credentials: "same-origin" });
      body = resp.ok ? await resp.json() : null;
    } catch (e) { body = null; }
    if (!body) return; // keep what is shown; the next round tries again
    const list = document.getElementById("wall-points-list");
    while (list.firstChild) list.removeChild(list.firstChild);
    const unit = box.dataset.unit || "";
    body.villages.forEach((v) => {
      const li = document.createElement("li");
      li.dataset.village = v.village;
      const name = document.createElement("span");
      name.className = "wp-name";
      name.textContent = v.name;
      const points = document.createElement("span");
      points.className = "wp-points";
      points.textContent = `${v.points} ${unit}`.trim();
      li.append(name, points);
      list.appendChild(li);
    });
    box.classList.toggle("hidden", body.villages.length === 0);
  }

  /* Dash draws the page after this script runs: wait for the box to appear. */
  const watch = new MutationObserver(() => {
    if (document.getElementById("wall-points") && !timer) {
      refresh();
      timer = setInterval(refresh, EVERY_MS);
    }
  });
  watch.observe(document.documentElement, { childList: true, subtree: true });
})();
