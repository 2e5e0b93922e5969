/* Forms open where the user looks, and say what they will not keep.
   - A form that appears in the case workspace (#case-ws-form) is scrolled into view, so its
     confirm button is not left below the fold; the department's "report handled" form is a
     dialog in the middle of the window (case_list.css), so it needs no scrolling.
   - A text field with a length limit (maxlength) shows how much is typed, and says before
     saving when the limit is reached: the browser stops typing and cuts pasted text there.
     The words come from the desk frame (layouts/shell.py: data-count, data-count-full). */
(function () {
  "use strict";
  const SCROLL_INTO_VIEW = ["case-ws-form"];

  function words(el, key, n, max) {
    const shell = el.closest(".shell");
    const text = (shell && shell.dataset[key]) || "";
    return text.replace("{n}", String(n)).replace("{max}", String(max));
  }

  function count(field) {
    const max = Number(field.getAttribute("maxlength"));
    if (!max) return;
    let note = field.nextElementSibling;
    if (!note || !note.classList.contains("char-count")) {
      note = document.createElement("div");
      note.className = "char-count";
      field.insertAdjacentElement("afterend", note);
    }
    const n = field.value.length;
    const full = n >= max;
    note.textContent = full ? words(field, "countFull", n, max) : words(field, "count", n, max);
    note.classList.toggle("full", full);
  }

  document.addEventListener("input", (e) => {
    if (e.target.matches && e.target.matches("textarea[maxlength]")) count(e.target);
  });

  /* Bring the form and its confirm button into view when it opens; the form's parts arrive in
     several steps, so keep doing so for a moment after it opened (never later: the user may
     scroll up to read while typing). */
  const SETTLE_MS = 1500;
  function reveal(form) {
    if (!form.children.length) {
      delete form.dataset.openedAt;
      return;
    }
    if (!form.dataset.openedAt) form.dataset.openedAt = String(Date.now());
    if (Date.now() - Number(form.dataset.openedAt) > SETTLE_MS) return;
    requestAnimationFrame(() => {
      form.scrollIntoView({ block: "nearest" });
      (form.querySelector("#case-ws-submit") || form).scrollIntoView({ block: "nearest" });
    });
  }

  // Cheap for pages that redraw often (the wall): a form is looked up by id, and only added
  // nodes are searched for text fields.
  new MutationObserver((changes) => {
    changes.forEach((change) => {
      const node = change.target;
      if (node.nodeType !== 1) return;
      SCROLL_INTO_VIEW.forEach((id) => {
        const form = node.id === id ? node : node.closest("#" + id);
        if (form) reveal(form); // opened (or, emptied, closed)
      });
      change.addedNodes.forEach((added) => {
        if (added.nodeType !== 1) return;
        if (added.matches("textarea[maxlength]")) count(added);
        added.querySelectorAll("textarea[maxlength]").forEach(count);
      });
    });
  }).observe(document.body, { childList: true, subtree: true });
})();
