/* The emergency alarm shared by the wall (wall.js) and the supervisors' page (supervision.js):
   the full-width banner (layouts/wall_feed.py alarm_banner, ids wall-alarm*), its looping siren
   (#wall-audio, with the "click to enable sound" hint #wall-sound-hint) and acknowledgement BY
   NAME over the live socket (ack_alarm, streams/protocol.py).

   Alarms are kept newest first, as snapshots list them; the banner shows the oldest one.
   Text is inserted with textContent only. The page owns the list and the socket; these
   functions draw it, bind the form, and keep the list (raise / drop). */
(function () {
  "use strict";
  const A = (window.GccAlarm = window.GccAlarm || {});
  const R = () => window.GccDom; // fill, localTime (assets/dom.js)

  /* The banner shows the oldest unacknowledged alarm. */
  A.render = function (root, alarms, names, cfg) {
    const banner = root.querySelector("#wall-alarm");
    if (!banner) return;
    const first = alarms.length ? alarms[alarms.length - 1] : null;
    banner.classList.toggle("hidden", !first);
    if (!first) {
      banner.dataset.case = "";
      return;
    }
    const L = cfg.labels;
    const fill = R().fill;
    const text = banner.querySelector(".alarm-text");
    const changed = banner.dataset.case !== String(first.case_id);
    banner.dataset.case = String(first.case_id);
    text.querySelector(".alarm-number").textContent = fill(L["wall.case_no"], { n: first.case_id });
    text.querySelector(".alarm-what").textContent = cfg.categories[first.category] || first.category;
    text.querySelector(".alarm-where").textContent =
      (names[first.village] || first.village) + " · " + R().localTime(first.reported_at, cfg, true);
    text.querySelector(".alarm-detail").textContent = first.description || "";
    text.querySelector(".alarm-more").textContent =
      alarms.length > 1 ? fill(L["wall.alarm_more"], { n: alarms.length - 1 }) : "";
    if (changed) {
      const msg = banner.querySelector("#wall-alarm-msg");
      if (msg) msg.textContent = "";
    }
  };

  /* Draw the banner and sound the siren while any alarm is up (or ask for the click that
     browsers need before they play sound). */
  A.sync = function (root, alarms, names, cfg) {
    A.render(root, alarms, names, cfg);
    const audio = root.querySelector("#wall-audio");
    const hint = root.querySelector("#wall-sound-hint");
    if (!audio || !hint) return;
    if (!alarms.length) {
      audio.pause();
      audio.currentTime = 0;
      hint.classList.add("hidden");
      return;
    }
    const played = audio.play();
    if (played && played.catch) {
      played.then(() => hint.classList.add("hidden")).catch(() => hint.classList.remove("hidden"));
    }
  };

  /* Adds an alarm unless it is up already; true when it is new. */
  A.raise = function (alarms, alarm) {
    if (alarms.some((x) => x.case_id === alarm.case_id)) return false;
    alarms.unshift(alarm);
    return true;
  };

  A.drop = function (alarms, caseId) {
    return alarms.filter((a) => a.case_id !== caseId);
  };

  /* Bind the acknowledge form. hooks: alarms() -> the list, socket() -> the live socket,
     acked(caseId) after the server took it, resync() when sound needs a gesture. */
  A.bind = function (root, cfg, hooks) {
    // Browsers play sound only after a user gesture unless the kiosk was started with
    // --autoplay-policy=no-user-gesture-required; any click or key unlocks it.
    const unlock = () => { if (hooks.alarms().length) hooks.unlock(); };
    document.addEventListener("click", unlock);
    document.addEventListener("keydown", unlock);
    const button = root.querySelector("#wall-alarm-ack");
    if (!button) return () => {
      document.removeEventListener("click", unlock);
      document.removeEventListener("keydown", unlock);
    };
    const input = root.querySelector("#wall-alarm-name");
    const msg = root.querySelector("#wall-alarm-msg");
    const L = cfg.labels;
    const submit = () => {
      const banner = root.querySelector("#wall-alarm");
      const caseId = Number(banner.dataset.case);
      const name = input.value.trim();
      if (!caseId) return;
      if (!name) { msg.textContent = L["wall.alarm_name_required"]; input.focus(); return; }
      msg.textContent = "…";
      hooks.socket().emit("ack_alarm", { case_id: caseId, by: name }, (reply) => {
        if (reply && reply.ok === false) {
          msg.textContent = R().fill(L["wall.alarm_refused"], { t: reply.error || reply.message || "" });
        } else {
          msg.textContent = "";
          hooks.acked(caseId);
        }
      });
    };
    button.addEventListener("click", submit);
    input.addEventListener("keydown", (e) => { if (e.key === "Enter") submit(); });
    return () => {
      document.removeEventListener("click", unlock);
      document.removeEventListener("keydown", unlock);
    };
  };
})();
