/* The wall's DOM renderers: the only ones. They draw the first paint from the live snapshot and
   every update after it (layouts/wall.py draws the frame: header, panel heads, the alarm form).
   Every piece of data is inserted with textContent, never as HTML. */
(function () {
  "use strict";
  const W = (window.GccWall = window.GccWall || {});
  const D = () => window.GccDom; // assets/dom.js
  const el = (tag, cls, text) => D().el(tag, cls, text);
  const fill = (template, values) => D().fill(template, values);
  const dtf = (locale, opts) => D().dtf(locale, opts);
  const localTime = (iso, cfg, withSeconds) => D().localTime(iso, cfg, withSeconds);

  const LONG_VALUE = 6; // characters from which a KPI figure is set smaller (a city's 12,345)
  const FEED_VISIBLE = 8; // what the feed shows (the last one fading out); the state keeps more

  function formatKpi(key, value, rates) {
    if (value === null || value === undefined) return "—";
    if (rates.includes(key)) return value >= 100 ? "100%" : Number(value).toFixed(1) + "%";
    return Math.round(value).toLocaleString("en-US");
  }

  function kpiTone(key, value) {
    if (key === "red_villages" && value) return "alarm";
    if (key === "overdue_now" && value) return "warn";
    return { closed_today: "good", reported_today: "accent" }[key] || "";
  }

  /* The tiles (cfg.kpis: key, label, period; layouts/wall_panels.py), built once. */
  function kpiTiles(box, cfg) {
    const grid = el("div", "kpi-grid");
    cfg.kpis.forEach(([key, label, sub]) => {
      const tile = el("div", "kpi");
      tile.dataset.kpi = key;
      const head = el("div", "kpi-label");
      head.append(el("span", "kpi-name", cfg.labels[label]), el("span", "kpi-sub", cfg.labels[sub]));
      tile.append(head, el("div", "kpi-value", ""));
      grid.appendChild(tile);
    });
    box.replaceChildren(grid);
  }

  /* Update the tiles in place; a changed value gets a short "bump" (not the first time). */
  function kpis(root, values, cfg) {
    const box = root.querySelector("#wall-kpis");
    if (!box.querySelector(".kpi")) kpiTiles(box, cfg);
    root.querySelectorAll(".kpi[data-kpi]").forEach((tile) => {
      const key = tile.dataset.kpi;
      const text = formatKpi(key, values[key], cfg.rateKpis);
      const valueEl = tile.querySelector(".kpi-value");
      const cls = ("kpi " + kpiTone(key, values[key])).trim();
      if (tile.className !== cls && !tile.classList.contains("bump")) tile.className = cls;
      if (valueEl.textContent !== text) {
        const first = valueEl.textContent === "";
        valueEl.textContent = text;
        valueEl.className = text.length >= LONG_VALUE ? "kpi-value long" : "kpi-value";
        if (first) return;
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

  /* The red list over the map names every red unit at the wall's level, a page at a time
     (cfg.redRows rows; the wall turns the pages): at a town, its red villages, longest red
     first (the supervisors' call order); above it, the towns with red villages, the most red
     first, each with its share. Returns the number of pages. */
  function redList(box, rows, cfg, page, title) {
    const pages = Math.max(1, Math.ceil(rows.length / cfg.redRows));
    const at = ((page % pages) + pages) % pages;
    const head = el("div", "red-title", title);
    if (pages > 1) head.appendChild(el("span", "red-page", fill(cfg.labels["wall.red_page"], { n: at + 1, m: pages })));
    const out = [head];
    rows.slice(at * cfg.redRows, (at + 1) * cfg.redRows).forEach((r) => {
      const row = el("div", "red-row" + (r.unit ? " unit" : ""));
      row.dataset.key = r.code;
      row.append(el("span", "red-name", r.name), el("span", "red-ratio", r.ratio),
        el("span", "red-since", r.since), el("span", "red-why", r.why));
      out.push(row);
    });
    box.replaceChildren(...out);
    box.classList.toggle("hidden", !rows.length);
    box.dataset.count = String(rows.length);
    return pages;
  }

  /* The rows of the red list at a town: its red villages, longest red first. */
  function redVillageRows(villages, cfg) {
    return villages.filter((v) => v.status === "red").sort((a, b) =>
      (a.red_since || "").localeCompare(b.red_since || "") || a.code.localeCompare(b.code))
      .map((v) => ({
        code: v.code, name: v.name, unit: false,
        ratio: v.open_ratio === null || v.open_ratio === undefined ? "—" : Math.round(100 * v.open_ratio) + "%",
        since: redFor(v.red_since, cfg), why: redWhy(v.reasons || [], cfg),
      }));
  }

  /* Above a town: the towns with red villages, the largest share first. */
  function redUnitRows(units, cfg) {
    return units.filter((u) => u.red > 0)
      .sort((a, b) => b.red / b.villages - a.red / a.villages || b.red - a.red || a.code.localeCompare(b.code))
      .map((u) => ({
        code: u.code, name: u.name, unit: true,
        ratio: Math.round((100 * u.red) / u.villages) + "%",
        since: fill(cfg.labels["wall.unit_red"], { r: u.red, n: u.villages }), why: "",
      }));
  }

  /* The alarm banner is drawn by assets/alarm.js (shared with the supervisors' page). */
  function alarm(root, alarms, names, cfg) {
    window.GccAlarm.render(root, alarms, names, cfg);
  }

  W.render = {
    el, fill, dtf, kpis, bars, trend, feed, departments, alarm, redList, redVillageRows, redUnitRows,
    localTime,
  };
})();
