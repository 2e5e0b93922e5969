/* DOM helpers shared by every page's scripts (the wall, the alarm banner, the supervisors'
   tables, the video wall): one place that builds nodes, fills label templates and formats times.
   Data always goes in with textContent, never as HTML. Loaded on every page (Dash loads assets/
   alphabetically; the pages' scripts read window.GccDom only when they run, so order is free). */
(function () {
  "use strict";

  /* A node with a class and text (text as text: never markup). */
  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  /* "{n} 个" + {n: 3} → "3 个"; unknown keys stay as they are. */
  function fill(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, (m, k) => (k in values ? String(values[k]) : m));
  }

  /* Intl.DateTimeFormat objects are slow to build: one per locale and options, kept. */
  const formats = new Map();
  function dtf(locale, opts) {
    const key = locale + JSON.stringify(opts);
    let f = formats.get(key);
    if (!f) formats.set(key, (f = new Intl.DateTimeFormat(locale, opts)));
    return f;
  }

  /* HH:MM (or HH:MM:SS) for today in cfg.tz, "MM-DD HH:MM" for other days; "—" for none. */
  function localTime(iso, cfg, withSeconds) {
    if (!iso) return "—";
    const when = new Date(iso);
    const opts = { timeZone: cfg.tz, hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
    if (withSeconds) opts.second = "2-digit";
    const clock = dtf("en-GB", opts).format(when);
    const day = (d) => dtf("en-CA", { timeZone: cfg.tz }).format(d);
    if (day(when) === day(new Date())) return clock;
    const md = dtf("en-GB", { timeZone: cfg.tz, month: "2-digit", day: "2-digit" }).formatToParts(when);
    const part = (type) => md.find((p) => p.type === type).value;
    return part("month") + "-" + part("day") + " " + clock;
  }

  /* 1234 → "1,234" (the same figures in both languages). */
  function num(n) {
    return Number(n || 0).toLocaleString("en-US");
  }

  window.GccDom = { el, fill, dtf, localTime, num };
})();
