/* The residents' side on the grid worker's phone (issue 18), one tab with three parts (and
   新增居民, a resident of the worker's village not yet registered, online only):

   - 积分申报 claim a deed for a resident of my village: the item from the points catalogue (only
     the items for that kind of subject), the date, who reported it, what they did and an evidence
     photo (made small on the phone like a case photo, photos.js);
   - 代办申请 open a service request on a resident's behalf: the item from the service catalogue
     (its department and time limit shown), one photo per paper it needs, the situation, and the
     resident's consent (required, with how it was given);
   - 我的代办 my residents' requests: status, deadline light, what is missing when the department
     returned one, and "add the paper and resubmit"; "办理过程" shows the steps.

   Everything goes through the queue (queue.js) with its own Idempotency-Key, so a claim or a
   request made in a dead zone is sent once when the network returns. The lists come from
   /api/v1 (points/balances, points/items, service-items, service-requests); the service worker
   keeps the first three for offline starts, never the requests (they carry the residents' ID
   numbers and phones). User text only ever becomes textContent. */
(function () {
  "use strict";
  const F = (window.GccField = window.GccField || {});
  const REPORTERS = ["worker", "self", "neighbour", "cadre"];
  const CONSENTS = ["signed", "phone", "letter"];
  let residents = [];
  let pointsItems = [];
  let serviceItems = [];
  let part = "claim";
  let evidence = null;
  let papers = []; // [{label, picker}] of the chosen service item
  const resubmitted = new Set(); // requests whose paper waits in the queue

  const lang = () => F.config.lang;
  const itemName = (i) => (lang() === "zh" ? i.name_zh : i.name_en) || i.name_zh;

  function today(daysBack) {
    const d = new Date();
    if (daysBack) d.setDate(d.getDate() - daysBack);
    const p = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
  }

  function field(label, input) {
    return F.el("label", { class: "m-field" }, [F.el("span", { class: "m-label", text: label }), input]);
  }

  async function load(url) {
    try {
      const r = await F.request("GET", url);
      return r.status === 200 ? r.body : null;
    } catch (e) {
      return null;
    }
  }

  /* A refusal as the queue keeps it, in the worker's language when the reason is known. */
  function refusal(r) {
    const err = F.queue.refused(r);
    const code = r.body && r.body.error;
    if (code && F.texts["m.err." + code]) err.message = F.texts["m.err." + code];
    return err;
  }

  // --- residents -------------------------------------------------------------------------------

  function residentPicker(id) {
    const select = F.el("select", { id, class: "m-input" });
    const search = F.el("input", {
      type: "search", class: "m-input", id: id + "-search", maxlength: 20,
      placeholder: F.t("m.res.search_resident"), oninput: () => fill(search.value.trim()),
    });
    function fill(text) {
      const keep = select.value;
      F.clear(select).appendChild(F.el("option", { value: "", text: F.t("m.res.pick_resident") }));
      residents.filter((r) => !text || r.name.includes(text)).forEach((r) => select.appendChild(F.el("option", {
        value: String(r.resident),
        text: F.t("m.res.balance", { name: r.name, kind: F.t("m.res.kind." + r.kind), n: r.balance }),
      })));
      select.value = keep;
    }
    return { node: F.el("div", { class: "m-field" }, [F.el("span", { class: "m-label", text: F.t("m.res.resident") }), search, select]), select, fill };
  }

  function residentOf(id) { return residents.find((r) => String(r.resident) === String(id)); }

  /* 新增居民: a resident not yet registered, in the worker's own village (POST /residents).
     Online only: the claim or request made next needs the new resident's number. */
  const KINDS = ["resident", "household", "party_member", "cadre", "organisation"];
  const pickers = [];

  function newResidentCard() {
    const box = F.el("div", { id: "m-new-resident", class: "m-card m-form hidden" }, [
      F.el("h2", { text: F.t("m.res.new") }),
      field(F.t("m.res.new_name"), F.el("input", { type: "text", id: "m-new-name", class: "m-input", maxlength: 100 })),
      field(F.t("m.res.new_kind"), F.el("select", { id: "m-new-kind", class: "m-input" },
        KINDS.map((k) => F.el("option", { value: k, text: F.t("m.res.kind." + k) })))),
      field(F.t("m.res.new_id"), F.el("input", { type: "text", id: "m-new-id", class: "m-input", maxlength: 18, autocomplete: "off" })),
      field(F.t("m.res.new_phone"), F.el("input", { type: "tel", id: "m-new-phone", class: "m-input", maxlength: 20, autocomplete: "off" })),
      F.el("button", { type: "button", id: "m-new-save", class: "m-btn m-big", text: F.t("m.res.new_save"), onclick: saveResident }),
    ]);
    const open = F.el("button", { type: "button", id: "m-new-open", class: "m-btn m-secondary m-new-open", text: F.t("m.res.new_open"),
      onclick: () => box.classList.toggle("hidden") });
    return [open, box];
  }

  async function saveResident() {
    const name = document.getElementById("m-new-name").value.trim();
    if (!name) { F.toast(F.t("m.res.need_name"), "bad"); return; }
    if (!navigator.onLine) { F.toast(F.t("m.res.new_online"), "bad"); return; }
    const body = { kind: document.getElementById("m-new-kind").value, name, village: F.me.village };
    const id = document.getElementById("m-new-id").value.trim().toUpperCase();
    const phone = document.getElementById("m-new-phone").value.trim();
    if (id) body.id_number = id;
    if (phone) body.phone = phone;
    let r;
    try { r = await F.request("POST", "/api/v1/residents", body); } catch (e) { F.toast(F.t("m.res.new_online"), "bad"); return; }
    if (r.status !== 201) {
      const code = r.body && r.body.error;
      F.toast(F.texts["m.err." + code] || F.t("m.res.new_bad"), "bad");
      return;
    }
    residents.push({ resident: r.body.id, name, kind: body.kind, balance: 0 });
    pickers.forEach((p) => { p.fill(""); p.select.value = String(r.body.id); p.select.dispatchEvent(new Event("change")); });
    ["m-new-name", "m-new-id", "m-new-phone"].forEach((i) => { document.getElementById(i).value = ""; });
    document.getElementById("m-new-resident").classList.add("hidden");
    F.toast(F.t("m.res.new_done", { name }), "ok");
  }

  // --- claim a deed --------------------------------------------------------------------------

  let claimResident = null;

  function fillPointsItems() {
    const select = document.getElementById("m-claim-item");
    if (!select) return;
    const who = residentOf(claimResident.select.value);
    const keep = select.value;
    F.clear(select).appendChild(F.el("option", { value: "", text: F.t("m.res.pick_item") }));
    ["safety", "morality", "beauty"].forEach((area) => {
      const items = pointsItems.filter((i) => i.area === area && (!who || i.subjects.includes(who.kind)));
      if (!items.length) return;
      select.appendChild(F.el("optgroup", { label: F.t("m.res.area." + area) }, items.map((i) =>
        F.el("option", { value: i.code, text: F.t("m.res.item_points", { name: itemName(i), n: i.points > 0 ? "+" + i.points : i.points }) }))));
    });
    select.value = Array.from(select.options).some((o) => o.value === keep) ? keep : "";
  }

  function claimForm() {
    claimResident = residentPicker("m-claim-resident");
    pickers.push(claimResident);
    claimResident.select.addEventListener("change", fillPointsItems);
    evidence = F.photoPicker("m-claim-photo-input", F.t("m.res.add_evidence"));
    const reporter = F.el("select", { id: "m-claim-reporter", class: "m-input" },
      REPORTERS.map((r) => F.el("option", { value: r, text: F.t("m.res.reporter." + r) })));
    return F.el("form", { class: "m-card m-form", id: "m-claim-form", onsubmit: (e) => { e.preventDefault(); sendClaim(); } }, [
      F.el("h2", { text: F.t("m.res.claim") }),
      claimResident.node,
      field(F.t("m.res.item"), F.el("select", { id: "m-claim-item", class: "m-input" })),
      field(F.t("m.res.deed_date"), F.el("input", { type: "date", id: "m-claim-date", class: "m-input", value: today(), max: today(), min: today(90) })),
      field(F.t("m.res.reporter"), reporter),
      field(F.t("m.res.deed"), F.el("textarea", { id: "m-claim-desc", class: "m-input", rows: 3, maxlength: 500 })),
      F.el("span", { class: "m-label", text: F.t("m.res.evidence") }), evidence.node,
      F.el("button", { type: "submit", id: "m-claim-submit", class: "m-btn m-big", text: F.t("m.res.claim_submit") }),
    ]);
  }

  async function sendClaim() {
    const resident = residentOf(claimResident.select.value);
    const item = pointsItems.find((i) => i.code === document.getElementById("m-claim-item").value);
    const date = document.getElementById("m-claim-date").value;
    if (!resident) { F.toast(F.t("m.res.need_resident"), "bad"); return; }
    if (!item) { F.toast(F.t("m.res.need_item"), "bad"); return; }
    if (!date || date > today()) { F.toast(F.t("m.res.need_date"), "bad"); return; }
    if (!evidence.blobs().length) { F.toast(F.t("m.res.need_evidence"), "bad"); return; }
    const fields = {
      resident: String(resident.resident), item: item.code, deed_date: date,
      reporter: document.getElementById("m-claim-reporter").value,
      description: document.getElementById("m-claim-desc").value.trim(),
    };
    await F.queue.add("claim", { fields, photos: evidence.blobs(), label: `${resident.name} · ${itemName(item)}` });
    F.toast(F.t("m.report.queued"), "ok");
    evidence.reset();
    document.getElementById("m-claim-desc").value = "";
    document.getElementById("m-claim-item").value = "";
  }

  F.queue.senders.claim = async function (item) {
    const form = new FormData();
    Object.entries(item.data.fields).forEach(([k, v]) => form.append(k, v));
    item.data.photos.forEach((b, i) => form.append("evidence", b, `evidence-${i + 1}.jpg`));
    const r = await F.queue.call("POST", "/api/v1/points/claims", form, { "Idempotency-Key": item.key });
    if (r.status !== 200 && r.status !== 201) throw refusal(r);
    return r.body.id;
  };

  // --- open a service request --------------------------------------------------------------

  let serviceResident = null;

  function showPapers() {
    const box = F.clear(document.getElementById("m-svc-papers"));
    const code = document.getElementById("m-svc-item").value;
    const item = serviceItems.find((i) => i.code === code);
    const info = document.getElementById("m-svc-limit");
    papers = [];
    if (!item) { info.textContent = ""; return; }
    const dept = F.config.departments[item.department] || item.department;
    info.textContent = F.t("m.res.service_limit", { dept, n: item.limit_days });
    const names = lang() === "zh" ? item.documents_zh : item.documents_en;
    box.appendChild(F.el("span", { class: "m-label", text: F.t("m.res.papers") }));
    names.forEach((name, i) => {
      const picker = F.photoPicker(`m-svc-paper-${i}`, F.t("m.res.paper_photo", { name }));
      papers.push({ label: item.documents_zh[i] || name, picker });
      box.appendChild(picker.node);
    });
  }

  function serviceForm() {
    serviceResident = residentPicker("m-svc-resident");
    pickers.push(serviceResident);
    const select = F.el("select", { id: "m-svc-item", class: "m-input", onchange: showPapers });
    select.appendChild(F.el("option", { value: "", text: F.t("m.res.pick_service") }));
    ["public", "approval", "social_security"].forEach((group) => {
      const items = serviceItems.filter((i) => i.group === group);
      if (items.length) {
        select.appendChild(F.el("optgroup", { label: F.t("m.res.group." + group) },
          items.map((i) => F.el("option", { value: i.code, text: itemName(i) }))));
      }
    });
    const how = F.el("select", { id: "m-svc-consent-how", class: "m-input" },
      CONSENTS.map((c) => F.el("option", { value: c, text: F.t("m.res.consent." + c) })));
    return F.el("form", { class: "m-card m-form", id: "m-svc-form", onsubmit: (e) => { e.preventDefault(); sendService(); } }, [
      F.el("h2", { text: F.t("m.res.service") }),
      serviceResident.node,
      field(F.t("m.res.service_item"), select),
      F.el("p", { class: "m-note", id: "m-svc-limit" }),
      F.el("div", { id: "m-svc-papers", class: "m-form" }),
      field(F.t("m.res.situation"), F.el("textarea", { id: "m-svc-desc", class: "m-input", rows: 3, maxlength: 1000 })),
      F.el("label", { class: "m-check" }, [F.el("input", { type: "checkbox", id: "m-svc-consent" }), F.el("span", { text: F.t("m.res.consent") })]),
      field(F.t("m.res.consent_how"), how),
      F.el("button", { type: "submit", id: "m-svc-submit", class: "m-btn m-big", text: F.t("m.res.service_submit") }),
    ]);
  }

  async function sendService() {
    const resident = residentOf(serviceResident.select.value);
    const item = serviceItems.find((i) => i.code === document.getElementById("m-svc-item").value);
    if (!resident) { F.toast(F.t("m.res.need_resident"), "bad"); return; }
    if (!item) { F.toast(F.t("m.res.need_service"), "bad"); return; }
    if (!document.getElementById("m-svc-consent").checked) { F.toast(F.t("m.res.need_consent"), "bad"); return; }
    const how = document.getElementById("m-svc-consent-how").value;
    const fields = {
      item: item.code, resident: String(resident.resident),
      consent_note: F.t("m.res.consent." + how),
      description: document.getElementById("m-svc-desc").value.trim(),
    };
    const sheets = [];
    papers.forEach((p) => p.picker.blobs().forEach((blob, n) => sheets.push({ label: n ? `${p.label} (${n + 1})` : p.label, blob })));
    await F.queue.add("service", { fields, papers: sheets, label: `${resident.name} · ${itemName(item)}` });
    F.toast(F.t("m.report.queued"), "ok");
    papers.forEach((p) => p.picker.reset());
    document.getElementById("m-svc-desc").value = "";
    document.getElementById("m-svc-consent").checked = false;
  }

  F.queue.senders.service = async function (item) {
    const form = new FormData();
    Object.entries(item.data.fields).forEach(([k, v]) => form.append(k, v));
    item.data.papers.forEach((p, i) => {
      form.append("paper", p.blob, `paper-${i + 1}.jpg`);
      form.append("paper_label", p.label);
    });
    const r = await F.queue.call("POST", "/api/v1/service-requests", form, { "Idempotency-Key": item.key });
    if (r.status !== 200 && r.status !== 201) throw refusal(r);
    return r.body.id;
  };

  /* The missing paper, then "resubmit". The server keeps the same picture under the same label
     once, and a 409 on a resubmit sent before means it went through (its answer was lost). */
  F.queue.senders.resubmit = async function (item) {
    const d = item.data;
    const id = d.request_id;
    for (let n = item.state.papers || 0; n < d.photos.length; n++) {
      const form = new FormData();
      form.append("label", n ? `${d.paper_label} (${n + 1})` : d.paper_label);
      form.append("paper", d.photos[n], `paper-${n + 1}.jpg`);
      const r = await F.queue.call("POST", `/api/v1/service-requests/${id}/papers`, form);
      if (r.status !== 201) throw refusal(r);
      item.state.papers = n + 1;
      await F.queue.save(item);
    }
    // Marked before it goes: if its answer is lost, the retry's 409 means it went through.
    const retry = Boolean(item.state.resubmitted);
    item.state.resubmitted = true;
    await F.queue.save(item);
    const r = await F.queue.call("POST", `/api/v1/service-requests/${id}/actions`, { action: "resubmit" });
    if (r.status === 409 && retry) return id;
    if (r.status !== 200) throw refusal(r);
    return id;
  };

  // --- my residents' requests ----------------------------------------------------------------

  function requestCard(row) {
    const name = lang() === "zh" ? row.item_zh : row.item_en;
    const card = F.el("article", { class: "m-card m-request", dataset: { id: row.id, status: row.status } }, [
      F.el("div", { class: "m-task-head" }, [
        F.el("b", { text: name }),
        row.status === "accepted" || row.status === "submitted" ? F.lightLabel(row.light) : null,
      ]),
      F.el("div", { class: "m-sub-row" }, [
        F.el("span", { text: `${F.t("m.res.request", { id: row.id })} · ${row.resident.name}` }),
        F.el("span", { class: "m-state-word" + (row.status === "done" ? " closed" : ""), text: F.t("m.res.status." + row.status) }),
      ]),
      F.el("p", { class: "m-note", text: F.config.departments[row.department] || row.department }),
      row.deadline ? F.el("p", { class: "m-note", text: F.t("m.res.deadline", { at: F.time(row.deadline) }) }) : null,
      F.el("p", { class: "m-note", text: F.t("m.res.papers_count", { n: row.papers }) }),
    ]);
    const trail = F.el("ol", { class: "m-trail hidden", id: `m-res-trail-${row.id}` });
    card.appendChild(F.el("button", { type: "button", class: "m-btn m-secondary", id: `m-res-trail-go-${row.id}`, text: F.t("m.res.trail"),
      onclick: () => showTrail(row.id, trail) }));
    card.appendChild(trail);
    if (row.status !== "returned") return card;
    card.appendChild(F.el("p", { class: "m-missing", text: F.t("m.res.missing", { what: row.missing }) }));
    if (resubmitted.has(row.id)) {
      card.appendChild(F.el("p", { class: "m-status", text: F.t("m.res.waiting") }));
      return card;
    }
    const photo = F.photoPicker(`m-resubmit-photo-${row.id}`, F.t("m.res.add_paper"));
    const label = F.el("input", { type: "text", class: "m-input", id: `m-resubmit-label-${row.id}`, maxlength: 90, value: row.missing.slice(0, 90), placeholder: F.t("m.res.paper_label") });
    card.appendChild(F.el("div", { class: "m-task-form" }, [
      field(F.t("m.res.paper_label"), label),
      photo.node,
      F.el("button", { type: "button", class: "m-btn m-big", id: `m-resubmit-${row.id}`, text: F.t("m.res.resubmit"),
        onclick: async () => {
          if (!photo.blobs().length) { F.toast(F.t("m.res.need_paper"), "bad"); return; }
          if (!label.value.trim()) { F.toast(F.t("m.res.need_label"), "bad"); return; }
          resubmitted.add(row.id);
          await F.queue.add("resubmit", { request_id: row.id, paper_label: label.value.trim(), photos: photo.blobs(), label: F.t("m.res.request", { id: row.id }) });
          F.toast(F.t("m.report.queued"), "ok");
          loadMine();
        } }),
    ]));
    return card;
  }

  /* The request's steps in plain words, with the note (what is missing, the paper's name). */
  async function showTrail(id, box) {
    if (!box.classList.contains("hidden")) { box.classList.add("hidden"); return; }
    const body = await load(`/api/v1/service-requests/${id}`);
    if (!body) { F.toast(F.t("m.offline"), "bad"); return; }
    F.clear(box).classList.remove("hidden");
    body.trail.forEach((s) => box.appendChild(F.el("li", { dataset: { action: s.action } }, [
      F.el("span", { class: "m-trail-at", text: F.time(s.at) }),
      F.el("span", { text: F.texts["m.res.step." + s.action] || s.action }),
      s.note && s.action !== "open" ? F.el("span", { class: "m-trail-note", text: " · " + s.note }) : null,
    ])));
  }

  async function loadMine() {
    const box = document.getElementById("m-res-mine");
    const body = await load("/api/v1/service-requests");
    if (!box || !body) return;
    const rows = body.requests;
    const returned = rows.filter((r) => r.status === "returned" && !resubmitted.has(r.id)).length;
    const badge = document.getElementById("m-res-count");
    badge.textContent = String(returned);
    badge.classList.toggle("hidden", returned === 0);
    F.clear(box);
    if (!rows.length) box.appendChild(F.el("p", { class: "m-empty", text: F.t("m.res.mine_empty") }));
    rows.forEach((row) => box.appendChild(requestCard(row)));
  }

  // --- the tab -------------------------------------------------------------------------------

  function show(name) {
    part = name;
    ["claim", "service", "mine"].forEach((p) => {
      document.getElementById("m-res-" + p).classList.toggle("hidden", p !== name);
      document.getElementById("m-res-go-" + p).classList.toggle("active", p === name);
    });
    const adding = document.getElementById("m-res-new");
    if (adding) adding.classList.toggle("hidden", name === "mine");
    if (name === "mine") loadMine();
    window.scrollTo(0, 0);
  }

  F.residentsPage = function (root) {
    F.clear(root);
    root.appendChild(F.el("div", { class: "m-seg", id: "m-res-parts" }, ["claim", "service", "mine"].map((p) =>
      F.el("button", { type: "button", id: "m-res-go-" + p, class: p === part ? "active" : "", text: F.t("m.res." + p), onclick: () => show(p) }))));
    root.appendChild(F.el("div", { id: "m-res-claim" }));
    root.appendChild(F.el("div", { id: "m-res-service", class: "hidden" }));
    root.appendChild(F.el("div", { id: "m-res-mine", class: "hidden" }));
    Promise.all([load("/api/v1/points/balances"), load("/api/v1/points/items"), load("/api/v1/service-items")])
      .then(([balances, items, services]) => {
        residents = (balances && balances.balances) || [];
        pointsItems = (items && items.items) || [];
        serviceItems = (services && services.items) || [];
        const claim = F.clear(document.getElementById("m-res-claim"));
        const service = F.clear(document.getElementById("m-res-service"));
        const adding = F.el("div", { id: "m-res-new" }, newResidentCard());
        root.insertBefore(adding, claim);
        if (!residents.length) {
          root.insertBefore(F.el("p", { class: "m-card m-empty", text: F.t("m.res.no_residents") }), claim);
        }
        claim.appendChild(claimForm());
        service.appendChild(serviceForm());
        claimResident.fill("");
        serviceResident.fill("");
        fillPointsItems();
        root.dataset.ready = "1";
        loadMine();
      });
  };

  F.residentsShown = function () { if (part === "mine") loadMine(); };

  F.queue.sent.push((item, id) => {
    if (item.kind === "claim") F.toast(F.t("m.res.claim_sent", { id }), "ok");
    else if (item.kind === "service") F.toast(F.t("m.res.service_sent", { id }), "ok");
    else if (item.kind === "resubmit") {
      resubmitted.delete(id);
      F.toast(F.t("m.res.resubmitted", { id }), "ok");
    } else return;
    loadMine();
  });
})();
