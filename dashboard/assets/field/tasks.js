/* My tasks (核实 verify public reports of my grid; 核查 check a department's fix on site, pass or
   fail with a photo and a reason) with the deadline light, and my reports with their trail in
   plain words and the reporter's rating once closed. Results go through the queue (queue.js).
   New tasks arrive live over Socket.IO (namespace /field, room of the worker's grid) with a
   sound and a vibration. */
(function () {
  "use strict";
  const F = (window.GccField = window.GccField || {});
  const done = new Set(); // tasks answered on this phone (the answer may still wait to be sent)

  function meta(row) {
    return F.el("div", { class: "m-meta" }, [
      F.el("span", { text: F.t("m.mine.case", { id: row.id }) }),
      F.el("span", { text: F.time(row.reported_at) }),
    ]);
  }

  function taskCard(row) {
    const kind = row.kind;
    const card = F.el("article", { class: "m-card m-task", dataset: { id: row.id, kind } });
    const head = F.el("div", { class: "m-task-head" }, [
      F.el("span", { class: "m-kind " + kind, text: F.t("m.tasks." + kind) }),
      F.el("b", { text: F.catName(row) }),
      F.lightLabel(row.light),
    ]);
    card.append(head, F.el("p", { class: "m-desc", text: row.description }));
    if (row.address) card.appendChild(F.el("p", { class: "m-note", text: row.address }));
    if (row.deadline) card.appendChild(F.el("p", { class: "m-note", text: F.t("m.deadline", { at: F.time(row.deadline) }) }));
    card.appendChild(meta(row));
    if (done.has(row.id + ":" + row.kind)) {
      card.appendChild(F.el("p", { class: "m-status", text: F.t("m.tasks.done") }));
      return card;
    }
    const form = F.el("div", { class: "m-task-form" });
    if (kind === "verify") {
      const note = F.el("textarea", { class: "m-input", rows: 2, maxlength: 500, placeholder: F.t("m.tasks.note") });
      form.append(note, F.el("button", { type: "button", class: "m-btn m-big m-verify", text: F.t("m.tasks.verify_ok"),
        onclick: () => answer(row, "verify", note.value.trim(), null, []) }));
    } else {
      const photo = F.photoPicker("m-check-photo-" + row.id, F.t("m.report.add_photo"));
      const reason = F.el("textarea", { class: "m-input", rows: 2, maxlength: 500, placeholder: F.t("m.tasks.reason") });
      form.append(photo.node, reason, F.el("div", { class: "m-row" }, [
        F.el("button", { type: "button", class: "m-btn m-pass", text: F.t("m.tasks.pass"),
          onclick: () => answer(row, "check_pass", reason.value.trim(), null, photo.blobs()) }),
        F.el("button", { type: "button", class: "m-btn m-fail", text: F.t("m.tasks.fail"),
          onclick: () => {
            if (!reason.value.trim()) { F.toast(F.t("m.tasks.need_reason"), "bad"); return; }
            answer(row, "check_fail", "", reason.value.trim(), photo.blobs());
          } }),
      ]));
    }
    card.appendChild(form);
    return card;
  }

  async function answer(row, action, note, reason, photos) {
    if (action !== "verify" && !photos.length) { F.toast(F.t("m.tasks.need_photo"), "bad"); return; }
    done.add(row.id + ":" + row.kind);
    await F.queue.add("action", { case_id: row.id, action, note, reason, photos });
    F.toast(F.t("m.report.queued"), "ok");
    F.loadTasks();
  }

  F.loadTasks = async function () {
    const root = document.getElementById("page-tasks");
    let r;
    try { r = await F.request("GET", "/m/api/tasks"); } catch (e) { return; }
    if (r.status !== 200 || !r.body) return;
    const rows = r.body.tasks;
    const open = rows.filter((x) => !done.has(x.id + ":" + x.kind)).length;
    const badge = document.getElementById("m-task-count");
    badge.textContent = String(open);
    badge.classList.toggle("hidden", open === 0);
    F.clear(root).appendChild(F.el("h2", { class: "m-h", text: F.t("m.tasks.title") }));
    if (!rows.length) root.appendChild(F.el("p", { class: "m-empty", text: F.t("m.tasks.empty") }));
    rows.forEach((row) => root.appendChild(taskCard(row)));
  };

  function trail(row) {
    return F.el("ol", { class: "m-trail" }, row.trail.map((s) => F.el("li", {}, [
      F.el("span", { class: "m-trail-at", text: F.time(s.at) }),
      F.el("span", { text: F.texts["m.step." + s.action] || F.t("m.step.report") }),
    ])));
  }

  F.loadMine = async function () {
    const root = document.getElementById("page-mine");
    let r;
    try { r = await F.request("GET", "/m/api/reports"); } catch (e) { return; }
    if (r.status !== 200 || !r.body) return;
    F.clear(root).appendChild(F.el("h2", { class: "m-h", text: F.t("m.mine.title") }));
    if (!r.body.reports.length) root.appendChild(F.el("p", { class: "m-empty", text: F.t("m.mine.empty") }));
    r.body.reports.forEach((row) => {
      const last = row.trail.length ? row.trail[row.trail.length - 1] : null;
      const card = F.el("article", { class: "m-card m-report", dataset: { id: row.id } }, [
        F.el("div", { class: "m-task-head" }, [
          row.emergency ? F.el("span", { class: "m-kind sos", text: F.t("m.tab.sos") }) : null,
          F.el("b", { text: F.catName(row) }),
          F.el("span", { class: "m-state-word" + (row.open ? "" : " closed"), text: last ? (F.texts["m.step." + last.action] || "") : "" }),
        ]),
        F.el("p", { class: "m-desc", text: row.description }),
        meta(row),
        trail(row),
      ]);
      if (row.satisfaction) card.appendChild(F.el("p", { class: "m-rating", text: F.t("m.mine.rating", { n: row.satisfaction }) }));
      root.appendChild(card);
    });
  };

  F.queue.sent.push((item) => { if (item.kind === "action") F.loadTasks(); else F.loadMine(); });

  /* The live connection: new tasks in my grid, and the command room's calls (call.js). */
  F.connect = function () {
    if (!window.io) return null;
    const socket = io("/field", { transports: ["websocket"], reconnectionDelayMax: 10000 });
    socket.on("task", (msg) => {
      F.alert(2);
      F.toast(F.t("m.tasks.new", { what: F.t("m.tasks." + msg.kind) }), "ok");
      F.loadTasks();
    });
    socket.on("connect", () => { F.loadTasks(); });
    F.socket = socket;
    return socket;
  };
})();
