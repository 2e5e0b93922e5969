/* 随手拍 (report a case) and 一键上报 (one-click emergency).

   A report: photos (resized on the phone), a category (大类 → 小类, a search over both, the
   worker's recent ones first), a description, the position from GPS (the marker can be dragged),
   an address, and "I fixed it myself" (自处理) with an after-photo. It goes into the queue
   (queue.js) and is sent from there, so a report made in a dead zone is not lost.
   An emergency: one press, a confirm, the position attached; source "emergency" (the wall and
   the supervisors' page raise their alarm on it). */
(function () {
  "use strict";
  const F = (window.GccField = window.GccField || {});
  const RECENT = "gcc-field-recent";
  let categories = [];
  let chosen = null;
  let marker = null, map = null;
  let photos = null, after = null;

  function recent() {
    try { return JSON.parse(localStorage.getItem(RECENT) || "[]"); } catch (e) { return []; }
  }
  function remember(code) {
    const list = [code, ...recent().filter((c) => c !== code)].slice(0, 5);
    localStorage.setItem(RECENT, JSON.stringify(list));
  }
  const nameOf = (o) => o.name[F.config.lang] || o.name.zh;
  function sub(code) {
    for (const major of categories) for (const s of major.subs) if (s.code === code) return [major, s];
    return [null, null];
  }

  function choose(code) {
    chosen = code;
    const [major, s] = sub(code);
    document.getElementById("m-cat-chosen").textContent = s ? `${nameOf(major)} › ${nameOf(s)}` : F.t("m.report.choose");
    if (major) {
      document.getElementById("m-cat-major").value = major.code;
      fillSubs(major.code);
      document.getElementById("m-cat-sub").value = code;
    }
  }

  function fillSubs(majorCode) {
    const select = F.clear(document.getElementById("m-cat-sub"));
    select.appendChild(F.el("option", { value: "", text: F.t("m.report.choose") }));
    const major = categories.find((m) => m.code === majorCode);
    (major ? major.subs : []).forEach((s) => select.appendChild(F.el("option", { value: s.code, text: nameOf(s) })));
  }

  function drawRecent() {
    const box = F.clear(document.getElementById("m-cat-recent"));
    const codes = recent().filter((c) => sub(c)[1]);
    if (!codes.length) return;
    box.appendChild(F.el("span", { class: "m-label-inline", text: F.t("m.report.recent") }));
    codes.forEach((c) => box.appendChild(F.el("button", {
      type: "button", class: "m-chip", dataset: { code: c }, text: nameOf(sub(c)[1]), onclick: () => choose(c),
    })));
  }

  function search(text) {
    const box = F.clear(document.getElementById("m-cat-results"));
    const q = text.trim().toLowerCase();
    if (!q) return;
    categories.forEach((major) => major.subs.forEach((s) => {
      const hay = [nameOf(major), nameOf(s), s.name.zh, s.name.en, s.code].join(" ").toLowerCase();
      if (hay.includes(q)) {
        box.appendChild(F.el("button", { type: "button", class: "m-chip", dataset: { code: s.code },
          text: `${nameOf(major)} › ${nameOf(s)}`, onclick: () => { choose(s.code); box.textContent = ""; } }));
      }
    }));
  }

  async function locate() {
    try {
      const pos = await F.position();
      setPoint(pos.coords.latitude, pos.coords.longitude);
    } catch (e) {
      if (F.lastPosition) setPoint(F.lastPosition.lat, F.lastPosition.lon);
      else F.toast(F.t("m.patrol.no_gps"), "bad");
    }
  }

  function setPoint(lat, lon) {
    if (!marker) {
      const icon = L.divIcon({ className: "m-pin", iconSize: [28, 28], iconAnchor: [14, 28] });
      marker = L.marker([lat, lon], { draggable: true, icon }).addTo(map);
    } else marker.setLatLng([lat, lon]);
    map.setView([lat, lon], Math.max(map.getZoom(), 16));
  }

  function field(label, input) {
    return F.el("label", { class: "m-field" }, [F.el("span", { class: "m-label", text: label }), input]);
  }

  async function submit() {
    const desc = document.getElementById("m-desc").value.trim();
    const self = document.getElementById("m-self").checked;
    if (!chosen) { F.toast(F.t("m.report.need_category"), "bad"); return; }
    if (!desc) { F.toast(F.t("m.report.need_description"), "bad"); return; }
    if (!marker) { F.toast(F.t("m.report.need_position"), "bad"); return; }
    if (self && !after.blobs().length) { F.toast(F.t("m.report.need_after"), "bad"); return; }
    const p = marker.getLatLng();
    const fields = {
      category: chosen, description: desc, source: "grid_worker",
      lat: p.lat.toFixed(6), lon: p.lng.toFixed(6),
      address: document.getElementById("m-address").value.trim(),
      occurred_at: new Date().toISOString(),
    };
    remember(chosen);
    await F.queue.add("report", { fields, photos: photos.blobs(), self_handled: self, after: self ? after.blobs() : [] });
    F.toast(F.t("m.report.queued"), "ok");
    photos.reset(); after.reset();
    document.getElementById("m-desc").value = "";
    document.getElementById("m-address").value = "";
    document.getElementById("m-cat-search").value = "";
    F.clear(document.getElementById("m-cat-results"));
    document.getElementById("m-self").checked = false;
    document.getElementById("m-after").classList.add("hidden");
    drawRecent();
  }

  F.reportPage = function (root) {
    F.clear(root);
    photos = F.photoPicker("m-photo-input", F.t("m.report.add_photo"));
    after = F.photoPicker("m-after-input", F.t("m.report.after_photo"));
    const major = F.el("select", { id: "m-cat-major", class: "m-input", onchange: (e) => fillSubs(e.target.value) });
    const subSel = F.el("select", { id: "m-cat-sub", class: "m-input", onchange: (e) => e.target.value && choose(e.target.value) });
    const mapNode = F.el("div", { id: "m-report-map", class: "m-map m-map-small" });
    const selfBox = F.el("input", { type: "checkbox", id: "m-self", onchange: (e) => document.getElementById("m-after").classList.toggle("hidden", !e.target.checked) });
    root.appendChild(F.el("form", { class: "m-card m-form", id: "m-report-form", onsubmit: (e) => { e.preventDefault(); submit(); } }, [
      F.el("h2", { text: F.t("m.report.title") }),
      F.el("span", { class: "m-label", text: F.t("m.report.photos") }), photos.node,
      F.el("span", { class: "m-label", text: F.t("m.report.category") }),
      F.el("div", { id: "m-cat-chosen", class: "m-chosen", text: F.t("m.report.choose") }),
      F.el("div", { id: "m-cat-recent", class: "m-chips" }),
      F.el("input", { type: "search", id: "m-cat-search", class: "m-input", placeholder: F.t("m.report.search"), maxlength: 20, oninput: (e) => search(e.target.value) }),
      F.el("div", { id: "m-cat-results", class: "m-chips" }),
      major, subSel,
      field(F.t("m.report.description"), F.el("textarea", { id: "m-desc", class: "m-input", rows: 3, maxlength: 2000 })),
      F.el("span", { class: "m-label", text: F.t("m.report.position") }),
      mapNode,
      F.el("div", { class: "m-row" }, [
        F.el("span", { class: "m-note", text: F.t("m.report.position_hint") }),
        F.el("button", { type: "button", class: "m-btn m-secondary", text: F.t("m.report.locate"), onclick: locate }),
      ]),
      field(F.t("m.report.address"), F.el("input", { type: "text", id: "m-address", class: "m-input", maxlength: 200 })),
      F.el("label", { class: "m-check" }, [selfBox, F.el("span", { text: F.t("m.report.self") })]),
      F.el("div", { id: "m-after", class: "hidden" }, [after.node]),
      F.el("button", { type: "submit", id: "m-report-submit", class: "m-btn m-big", text: F.t("m.report.submit") }),
    ]));
    F.request("GET", "/api/v1/categories").then((r) => {
      if (r.status !== 200) return;
      categories = r.body;
      F.clear(major).appendChild(F.el("option", { value: "", text: F.t("m.report.major") }));
      categories.forEach((m) => major.appendChild(F.el("option", { value: m.code, text: nameOf(m) })));
      fillSubs("");
      drawRecent();
    }).catch(() => {});
  };
  /* The map is made when the page is first shown: Leaflet cannot fit a hidden (0×0) map. */
  F.reportShown = function () {
    setTimeout(() => {
      if (!map) {
        [map] = F.makeMap(document.getElementById("m-report-map"), F.me);
        map.on("click", (e) => setPoint(e.latlng.lat, e.latlng.lng));
      }
      map.invalidateSize();
      if (!marker) locate();
    }, 30);
  };

  // --- one-click emergency ---------------------------------------------------------------

  async function raise(kind, category) {
    let pos = null;
    try {
      const p = await F.position();
      pos = { lat: p.coords.latitude, lon: p.coords.longitude };
    } catch (e) {
      pos = F.lastPosition || (F.me && { lat: F.me.home[1], lon: F.me.home[0] });
    }
    const fields = {
      category, description: F.t("m.sos.text." + kind), source: "emergency", emergency: "true",
      lat: pos.lat.toFixed(6), lon: pos.lon.toFixed(6), occurred_at: new Date().toISOString(),
    };
    await F.queue.add("report", { fields, photos: [], self_handled: false, after: [], emergency: true });
    F.toast(F.t(navigator.onLine ? "m.report.queued" : "m.sos.queued"), "ok");
  }

  F.sosPage = function (root) {
    F.clear(root);
    const confirmBox = F.el("div", { id: "m-sos-confirm", class: "m-confirm hidden" });
    root.appendChild(F.el("div", { class: "m-card" }, [
      F.el("h2", { text: F.t("m.sos.title") }),
      F.el("p", { class: "m-note", text: F.t("m.sos.hint") }),
      ...F.config.emergencies.map((e) => F.el("button", {
        type: "button", class: "m-btn m-sos", id: "m-sos-" + e.kind, text: F.t("m.sos." + e.kind),
        onclick: () => {
          F.clear(confirmBox).classList.remove("hidden");
          confirmBox.appendChild(F.el("button", { type: "button", class: "m-btn m-sos m-big", id: "m-sos-go",
            text: F.t("m.sos.confirm", { kind: F.t("m.sos." + e.kind) }),
            onclick: () => { confirmBox.classList.add("hidden"); raise(e.kind, e.category); } }));
          confirmBox.appendChild(F.el("button", { type: "button", class: "m-btn m-secondary", text: F.t("m.sos.cancel"),
            onclick: () => confirmBox.classList.add("hidden") }));
        },
      })),
      confirmBox,
    ]));
  };

  F.queue.sent.push((item, caseId) => {
    if (item.kind !== "report") return;
    F.toast(F.t(item.data.emergency ? "m.sos.sent" : "m.report.sent", { id: caseId }), "ok");
  });
})();
