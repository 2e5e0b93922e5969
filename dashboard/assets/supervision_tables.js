/* The supervisors' page draws its four tables here, from the JSON its data stores hold
   (layouts/supervision_tables.py: texts already in the page's language and zone). Dash calls
   these as clientside callbacks whenever a store changes; a table is rebuilt with plain DOM and
   textContent, so hundreds of rows cost milliseconds (as Dash components they cost the Dash 4
   renderer seconds per update). Clicks go back to the server through stores
   (dash_clientside.set_props): a header sorts (sup-sort), "log" picks an entry
   (sup-call-selected), "close" asks to close an order (sup-order-close). */
(function () {
  "use strict";
  let clicks = 0;

  const el = (tag, cls, text) => window.GccDom.el(tag, cls, text); // assets/dom.js

  function fill(text, n) {
    return String(text || "").replace("{n}", String(n));
  }

  function td(cls, ...children) {
    const cell = el("td", cls);
    children.forEach((c) => cell.append(typeof c === "string" ? document.createTextNode(c) : c));
    return cell;
  }

  function set(id, data) {
    const props = window.dash_clientside && window.dash_clientside.set_props;
    if (props) props(id, { data });
  }

  /* Rebuild the table inside the container; keep its scroll position. */
  function draw(containerId, heads, rows, empty, extra) {
    const box = document.getElementById(containerId);
    if (!box) return null;
    const table = el("table", "sup-table");
    const head = el("tr");
    heads.forEach((h) => head.append(h));
    const body = el("tbody");
    rows.forEach((r) => body.append(r));
    if (!rows.length) {
      const cell = el("td", "empty", empty);
      cell.colSpan = heads.length;
      const tr = el("tr");
      tr.append(cell);
      body.append(tr);
    }
    const thead = el("thead");
    thead.append(head);
    table.append(thead, body);
    if (extra) extra(table);
    const top = box.scrollTop;
    box.replaceChildren(table);
    box.scrollTop = top;
    return table;
  }

  function caseLink(id) {
    const a = el("a", "case-link", id);
    a.href = "/cases/" + encodeURIComponent(id);
    return a;
  }

  function cases(data) {
    if (!data) return;
    const sort = data.sort || {};
    const heads = data.columns.map(([key, label]) => {
      const button = el("button", "sort", label + (sort.key === key ? (sort.desc ? " ▼" : " ▲") : ""));
      button.dataset.key = key;
      button.addEventListener("click", () => {
        set("sup-sort", { key, desc: sort.key === key ? !sort.desc : false });
      });
      const th = el("th");
      th.append(button);
      return th;
    });
    const rows = data.rows.map((r) => {
      const tr = el("tr", r.emergency ? "emergency" : "");
      tr.dataset.case = r.id;
      const chip = r.light ? el("span", "chip " + r.light, r.light_label) : "—";
      tr.append(
        td("", caseLink(r.id)),
        td("", chip),
        td("", r.category),
        td("nowrap", r.village),
        td("", r.department),
        td("", r.status),
        td("num", r.deadline),
        td("num", el("span", r.left_class, r.left)),
      );
      return tr;
    });
    draw("sup-cases", heads, rows, data.empty, (t) => { t.dataset.next = data.next || ""; });
  }

  function orders(data) {
    if (!data) return;
    const heads = data.columns.map((label) => el("th", "", label));
    const rows = data.rows.map((o) => {
      const tr = el("tr");
      tr.dataset.order = o.id;
      const reply = td("", el(o.replied ? "div" : "span", o.replied ? "reply" : "muted", o.reply));
      if (o.reply_meta) reply.append(el("div", "muted small", o.reply_meta));
      let action = "";
      if (o.closable) {
        action = el("button", "sup-plain small", data.close);
        action.addEventListener("click", () => {
          // Closing ends the order for good: ask first (the question names the order).
          if (!window.confirm(fill(data.confirm, o.id))) return;
          clicks += 1;
          set("sup-order-close", { order: o.id, n: clicks });
        });
      }
      tr.append(
        td("num", "#" + o.id),
        td("", caseLink(o.case_id)),
        td("", o.department),
        td("opinion", o.opinion),
        td("num", o.issued),
        reply,
        td("", el("span", "status " + o.status, o.status_label)),
        td("", action),
      );
      return tr;
    });
    draw("sup-orders", heads, rows, data.empty);
  }

  function calls(data) {
    if (!data) return;
    const heads = data.columns.map((label) => el("th", "", label));
    const rows = data.rows.map((e) => {
      const tr = el("tr", e.id === data.selected ? "selected" : "");
      tr.dataset.entry = e.id;
      tr.dataset.village = e.village;
      const contact = td("", el("div", "", e.contact));
      if (e.phone) {
        const tel = el("a", "tel", e.phone);
        tel.href = "tel:" + e.phone;
        contact.append(tel);
      }
      const last = e.last_call.length
        ? td("", el("div", "", e.last_call[0]), el("div", "muted small", e.last_call[1]))
        : td("", el("span", "muted", data.never));
      const pick = el("button", "sup-primary small", data.pick);
      pick.addEventListener("click", () => {
        tr.parentNode.querySelectorAll("tr.selected").forEach((x) => x.classList.remove("selected"));
        tr.classList.add("selected");
        set("sup-call-selected", e.id);
      });
      tr.append(
        td("", el("div", "", e.village_name), el("div", "muted small", e.town_name)),
        contact,
        td("num red-for", el("div", "", e.red_for), el("div", "muted small red-why", e.why || "")),
        td("num", e.counts),
        last,
        td("", pick),
      );
      return tr;
    });
    draw("sup-calls", heads, rows, data.empty);
  }

  function history(data) {
    if (!data) return;
    const heads = data.columns.map((label) => el("th", "", label));
    const rows = data.rows.map((r) => {
      const tr = el("tr", "kind-" + r.kind);
      tr.append(td("num", r.at), td("", r.village), td("", r.caller), td("", r.callee), td("", r.result));
      return tr;
    });
    draw("sup-history", heads, rows, data.empty);
  }

  const noUpdate = () => (window.dash_clientside ? window.dash_clientside.no_update : null);
  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.supervision = {
    cases: (data) => { cases(data); return noUpdate(); },
    orders: (data) => { orders(data); return noUpdate(); },
    calls: (data) => { calls(data); return noUpdate(); },
    history: (data) => { history(data); return noUpdate(); },
  };
})();
