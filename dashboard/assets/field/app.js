/* The field app's start: who am I (GET /m/api/me, kept by the service worker for offline
   starts), the six pages behind the tab bar, the network state and what waits to send, the
   service worker, the live connection. */
(function () {
  "use strict";
  const F = (window.GccField = window.GccField || {});
  const PAGES = ["patrol", "report", "sos", "tasks", "mine", "residents", "call"];
  const shown = { patrol: () => F.patrolShown && F.patrolShown(), report: () => F.reportShown && F.reportShown(),
    tasks: () => F.loadTasks(), mine: () => F.loadMine(),
    residents: () => F.residentsShown && F.residentsShown() };

  F.go = function (name) {
    PAGES.forEach((p) => document.getElementById("page-" + p).classList.toggle("hidden", p !== name));
    document.querySelectorAll("#m-tabs button").forEach((b) => b.classList.toggle("active", b.dataset.go === name));
    if (shown[name]) shown[name]();
    window.scrollTo(0, 0);
  };

  function network() {
    const net = document.getElementById("m-net");
    net.textContent = F.t(navigator.onLine ? "m.online" : "m.offline");
    net.className = "m-net " + (navigator.onLine ? "on" : "off");
  }

  function describe(item) {
    if (item.data.label) return `${F.t("m.queue." + item.kind)} · ${item.data.label}`;
    if (item.kind === "positions") return F.t("m.queue.positions", { n: item.data.fixes.length });
    if (item.kind === "action") return `${F.t("m.queue.action")} · ${F.t("m.mine.case", { id: item.data.case_id })}`;
    return `${F.t("m.queue.report")} · ${item.data.fields.description.slice(0, 20)}`;
  }

  function showQueue(items) {
    const button = document.getElementById("m-queue");
    button.textContent = F.t("m.queue", { n: items.length });
    button.classList.toggle("hidden", items.length === 0);
    button.classList.toggle("failed", items.some((i) => i.error));
    const list = document.getElementById("m-queue-list");
    if (!list) return;
    F.clear(list);
    if (!items.length) list.appendChild(F.el("li", { text: F.t("m.queue.empty") }));
    items.forEach((i) => list.appendChild(F.el("li", { class: i.error ? "failed" : "" }, [
      F.el("span", { text: F.time(i.created) + " " + describe(i) }),
      i.error ? F.el("span", { class: "m-err", text: F.t("m.queue.failed") + i.error }) : null,
    ])));
  }

  function queuePanel() {
    const panel = F.el("div", { id: "m-queue-panel", class: "m-card m-queue-panel hidden" }, [
      F.el("h2", { text: F.t("m.queue.title") }),
      F.el("ul", { id: "m-queue-list", class: "m-queue-list" }),
      F.el("button", { type: "button", class: "m-btn", id: "m-queue-retry", text: F.t("m.queue.retry"), onclick: () => F.queue.retryFailed() }),
    ]);
    document.getElementById("m-main").prepend(panel);
    document.getElementById("m-queue").addEventListener("click", () => panel.classList.toggle("hidden"));
  }

  async function start() {
    network();
    window.addEventListener("online", network);
    window.addEventListener("offline", network);
    document.querySelectorAll("#m-tabs button").forEach((b) => b.addEventListener("click", () => F.go(b.dataset.go)));
    queuePanel();
    F.queue.onChange(showQueue);
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register("/m/sw.js", { scope: "/m" }).catch(() => {});
    }
    let r = null;
    try { r = await F.request("GET", "/m/api/me"); } catch (e) { r = null; }
    if (!r || r.status !== 200) {
      const root = F.clear(document.getElementById("page-patrol"));
      root.appendChild(F.el("p", { class: "m-card m-empty", id: "m-no-worker", text: r && r.status === 403 ? F.t("m.no_worker") : F.t("m.offline") }));
      return;
    }
    F.me = r.body;
    document.getElementById("m-grid").textContent = `${F.me.village_name} · ${F.t("m.grid", { code: F.me.grid.slice(-3), households: F.me.households })}`;
    F.patrolPage(document.getElementById("page-patrol"));
    F.reportPage(document.getElementById("page-report"));
    F.sosPage(document.getElementById("page-sos"));
    if (F.residentsPage) F.residentsPage(document.getElementById("page-residents"));
    F.loadTasks();
    F.connect();
    if (F.callSetup) F.callSetup();
    F.queue.flush();
    const start = new URLSearchParams(location.search).get("page");
    if (start && PAGES.includes(start)) F.go(start);
    document.body.dataset.ready = "1";
  }
  start();
})();
