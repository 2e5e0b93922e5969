/* The wall's DOM renderers: the twins of layouts/wall_panels.py and layouts/wall_feed.py (same
   classes and data-* keys). Every piece of data is inserted with textContent, never as HTML. */
(function () {
  "use strict";
  const W = (window.GccWall = window.GccWall || {});

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  /* Intl.DateTimeFormat objects are slow to build: one per locale and options, kept. */
  const formats = new Map();
  function dtf(locale, opts) {
    const key = locale + JSON.stringify(opts);
    let f = formats.get(key);
    if (!f) formats.set(key, (f = new Intl.DateTimeFormat(locale, opts)));
    return f;
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, (m, k) => (k in values ? String(values[k]) : m));
  }

  const RATES = { closure_rate: true, on_time_rate: true };
  const LONG_VALUE = 6; // layouts.wall_panels.LONG_VALUE
  const FEED_VISIBLE = 8; // layouts.wall_feed.FEED_VISIBLE

  function formatKpi(key, value) {
    if (value === null || value === undefined) return "—";
    if (RATES[key]) return value >= 100 ? "100%" : Number(value).toFixed(1) + "%";
    return Math.round(value).toLocaleString("en-US");
  }

  function kpiTone(key, value) {
    if (key === "red_villages" && value) return "alarm";
    if (key === "overdue_now" && value) return "warn";
    return { closed_today: "good", reported_today: "accent" }[key] || "";
  }

  /* Update the tiles in place; a changed value gets a short "bump". */
  function kpis(root, values) {
    root.querySelectorAll(".kpi[data-kpi]").forEach((tile) => {
      const key = tile.dataset.kpi;
      const text = formatKpi(key, values[key]);
      const valueEl = tile.querySelector(".kpi-value");
      tile.className = ("kpi " + kpiTone(key, values[key])).trim();
      if (valueEl.textContent !== text) {
        valueEl.textContent = text;
        valueEl.className = text.length >= LONG_VALUE ? "kpi-value long" : "kpi-value";
        tile.classList.add("bump");
        setTimeout(() => tile.classList.remove("bump"), 700);
      }
    });
  }

  function bars(body, items, emptyText) {
    const rows = [];
    if (!items.length) {
      rows.push(el("div", "empty", emptyText));
    } else {
      const top = Math.max(1, ...items.map((i) => i.count));
      items.forEach((item) => {
        const row = el("div", "bar-row");
        row.dataset.key = item.key;
        const label = el("span", "bar-label", item.label);
        label.title = item.label;
        const track = el("div", "bar-track");
        const barFill = el("div", "bar-fill");
        barFill.style.width = ((100 * item.count) / top).toFixed(1) + "%";
        track.appendChild(barFill);
        row.append(label, track, el("span", "bar-value", item.count.toLocaleString("en-US")));
        rows.push(row);
      });
    }
    body.replaceChildren(...rows);
  }

  /* The twin of layouts.wall_panels.axis: step 1/2/5 × 10^k, at most five intervals. */
  function axis(value) {
    for (let power = 1; ; power *= 10) {
      for (const step of [power, 2 * power, 5 * power]) {
        const intervals = Math.max(1, Math.ceil(value / step));
        if (intervals <= 5) return [step, intervals];
      }
    }
  }

  function hourLabel(startMs, index, cfg) {
    const hour = dtf("en-GB", {
      timeZone: cfg.tz, hour: "2-digit", hourCycle: "h23",
    }).format(new Date(startMs + index * 3600e3));
    return cfg.lang === "zh" ? Number(hour) + "时" : hour + ":00";
  }

  function trend(body, t, cfg) {
    const [step, intervals] = axis(Math.max(0, ...t.reported, ...t.closed));
    const top = step * intervals;
    const old = body.querySelector(".trend-chart");
    if (old && old.dataset.max === String(top) && old.dataset.start === t.start) {
      // Same axis and hours: move the bars, build nothing.
      old.querySelectorAll(".trend-col").forEach((col, i) => {
        const [r, c] = col.querySelectorAll(".trend-bar");
        r.style.height = ((100 * t.reported[i]) / top).toFixed(1) + "%";
        c.style.height = ((100 * (t.closed[i] || 0)) / top).toFixed(1) + "%";
        r.title = String(t.reported[i]);
        c.title = String(t.closed[i] || 0);
      });
      return;
    }
    const grid = el("div", "trend-grid");
    for (let k = intervals; k >= 0; k--) {
      const line = el("div", "trend-gridline");
      line.appendChild(el("span", null, (step * k).toLocaleString("en-US")));
      grid.appendChild(line);
    }
    const cols = el("div", "trend-cols");
    const startMs = Date.parse(t.start);
    t.reported.forEach((r, i) => {
      const col = el("div", "trend-col" + (i === t.reported.length - 1 ? " current" : ""));
      const pair = el("div", "trend-bars");
      [["reported", r], ["closed", t.closed[i] || 0]].forEach(([kind, n]) => {
        const bar = el("div", "trend-bar " + kind);
        bar.style.height = ((100 * n) / top).toFixed(1) + "%";
        bar.title = String(n);
        pair.appendChild(bar);
      });
      col.append(pair, el("div", "trend-label", i % 3 === 0 ? hourLabel(startMs, i, cfg) : ""));
      cols.appendChild(col);
    });
    const chart = el("div", "trend-chart");
    chart.dataset.max = String(top);
    chart.dataset.start = t.start;
    chart.append(grid, cols);
    body.replaceChildren(chart);
  }

  function localTime(iso, cfg, withSeconds) {
    if (!iso) return "—";
    const when = new Date(iso);
    const opts = { timeZone: cfg.tz, hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
    if (withSeconds) opts.second = "2-digit";
    const clock = dtf("en-GB", opts).format(when);
    const day = (d) => dtf("en-CA", { timeZone: cfg.tz }).format(d);
    if (day(when) === day(new Date())) return clock;
    const md = dtf("en-GB", { timeZone: cfg.tz, month: "2-digit", day: "2-digit" })
      .formatToParts(when);
    const part = (type) => md.find((p) => p.type === type).value;
    return part("month") + "-" + part("day") + " " + clock;
  }

  function feedItem(c, names, cfg, isNew) {
    const L = cfg.labels;
    const li = el("li", "feed-item" + (c.emergency ? " emergency" : "") + (isNew ? " new" : ""));
    li.dataset.id = String(c.id);
    const line1 = el("div", "feed-line1");
    const head = el("div", "feed-head");
    if (c.emergency) head.appendChild(el("span", "feed-flag", L["wall.emergency"]));
    head.appendChild(el("span", "feed-cat", cfg.categories[c.category] || c.category));
    line1.append(head, el("span", "feed-time", localTime(c.reported_at, cfg, false)));
    const line2 = el("div", "feed-line2");
    const source = el("span", "feed-source", L["source." + c.source] || c.source);
    source.dataset.source = c.source;
    line2.append(
      el("span", "feed-village", names[c.village] || c.village),
      source,
      el("span", "feed-status", L["case." + c.status] || c.status),
    );
    li.append(line1, line2);
    return li;
  }

  function feed(body, items, names, cfg, freshIds) {
    const list = el("ul", "feed");
    if (!items.length) list.appendChild(el("li", "empty", cfg.labels["empty.none"]));
    items.slice(0, FEED_VISIBLE).forEach((c) => list.appendChild(feedItem(c, names, cfg, freshIds.has(c.id))));
    body.replaceChildren(list);
  }

  function departments(body, rows, cfg, limit) {
    const L = cfg.labels;
    const table = el("table", "dept-table");
    const head = el("tr");
    head.appendChild(el("th", null, L["wall.col_department"]));
    ["wall.col_open", "wall.col_overdue", "wall.col_handled", "wall.col_on_time"].forEach((k) =>
      head.appendChild(el("th", "num", L[k])),
    );
    const thead = el("thead");
    thead.appendChild(head);
    const tbody = el("tbody");
    rows.slice(0, limit).forEach((r) => {
      const tr = el("tr");
      tr.dataset.key = r.code;
      const rate = r.on_time_rate === null || r.on_time_rate === undefined
        ? "—" : Math.round(r.on_time_rate) + "%";
      tr.append(
        el("td", "dept-name", cfg.departments[r.code] || r.code),
        el("td", "num", r.open.toLocaleString("en-US")),
        el("td", r.overdue ? "num warn" : "num", r.overdue.toLocaleString("en-US")),
        el("td", "num", r.handled.toLocaleString("en-US")),
        el("td", "num", rate),
      );
      tbody.appendChild(tr);
    });
    if (!rows.length) {
      const td = el("td", "empty", L["empty.none"]);
      td.colSpan = 5;
      tbody.appendChild(el("tr")).appendChild(td);
    }
    table.append(thead, tbody);
    body.replaceChildren(table);
  }

  /* How long a village has been red (layouts.wall_feed.red_for). */
  function redFor(since, cfg) {
    if (!since) return "—";
    const minutes = Math.max(0, Math.floor((Date.now() - Date.parse(since)) / 60e3));
    const d = Math.floor(minutes / 1440), h = Math.floor((minutes % 1440) / 60), m = minutes % 60;
    if (d) return fill(cfg.labels["wall.dur_dh"], { d, h });
    if (h) return fill(cfg.labels["wall.dur_hm"], { h, m });
    return fill(cfg.labels["wall.dur_m"], { m });
  }

  /* Why a village is red, most pressing first (layouts.village_format.red_why). */
  const REASON_ORDER = ["emergency", "overdue", "open_ratio"];
  function redWhy(reasons, cfg) {
    const words = REASON_ORDER.filter((r) => reasons.includes(r)).map((r) => cfg.labels["red." + r]);
    return words.length ? words.join(" · ") : "—";
  }

  /* Red villages over the map, longest red first (layouts.wall_feed.red_list). */
  const RED_LIST_ROWS = 6;
  function redList(box, villages, cfg) {
    const red = villages.filter((v) => v.status === "red").sort((a, b) =>
      (a.red_since || "").localeCompare(b.red_since || "") || a.code.localeCompare(b.code));
    const rows = [el("div", "red-title", cfg.labels["wall.red_list"])];
    red.slice(0, RED_LIST_ROWS).forEach((v) => {
      const row = el("div", "red-row");
      row.dataset.key = v.code;
      const ratio = v.open_ratio === null || v.open_ratio === undefined
        ? "—" : Math.round(100 * v.open_ratio) + "%";
      row.append(el("span", "red-name", v.name), el("span", "red-ratio", ratio),
        el("span", "red-since", redFor(v.red_since, cfg)),
        el("span", "red-why", redWhy(v.reasons || [], cfg)));
      rows.push(row);
    });
    if (red.length > RED_LIST_ROWS) {
      rows.push(el("div", "red-more", fill(cfg.labels["wall.red_more"], { n: red.length - RED_LIST_ROWS })));
    }
    box.replaceChildren(...rows);
    box.classList.toggle("hidden", !red.length);
  }

  /* The alarm banner is drawn by assets/alarm.js (shared with the supervisors' page). */
  function alarm(root, alarms, names, cfg) {
    window.GccAlarm.render(root, alarms, names, cfg);
  }

  W.render = { el, fill, dtf, kpis, bars, trend, feed, departments, alarm, redList, localTime };
})();
