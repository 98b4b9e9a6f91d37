// Small progressive enhancements; every page works without them.
(function () {
  "use strict";
  // One submission per form: disable submit buttons once a form is sent.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.dataset.submitted === "1") { e.preventDefault(); return; }
    form.dataset.submitted = "1";
    setTimeout(function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    }, 0);
  });
  // Tabs on the case page.
  var tabs = document.querySelectorAll("[data-tab]");
  function show(name) {
    document.querySelectorAll("[data-panel]").forEach(function (p) { p.hidden = p.dataset.panel !== name; });
    tabs.forEach(function (t) { t.setAttribute("aria-current", t.dataset.tab === name ? "page" : "false"); });
  }
  tabs.forEach(function (t) {
    t.addEventListener("click", function (e) {
      e.preventDefault(); show(t.dataset.tab);
      history.replaceState(null, "", "?tab=" + t.dataset.tab);
    });
  });
  // A live character count under each limited textarea; the limit is its maxlength, which the page
  // forms take from workflow/limits.py (the number the server checks).
  var counted = 0;
  function counters(root) {
    root.querySelectorAll("textarea[maxlength], [data-max-chars]").forEach(function (area) {
      if (area.dataset.counted === "1") { return; }
      area.dataset.counted = "1";
      var max = parseInt(area.dataset.maxChars || area.getAttribute("maxlength"), 10);
      var out = document.createElement("div");
      counted += 1;
      out.id = (area.id || "text-" + counted) + "-count";
      out.className = "char-count";
      var described = area.getAttribute("aria-describedby");
      area.setAttribute("aria-describedby", described ? described + " " + out.id : out.id);
      function update() {
        var n = area.value.length;
        out.textContent = "已输入 " + n + " / " + max + " 字";
        out.classList.toggle("char-count-near", n >= max * 0.9);
      }
      area.addEventListener("input", update);
      area.insertAdjacentElement("afterend", out);
      update();
    });
  }
  counters(document);
  // Findings: save one clause inline, then refresh only what a finding changes (the verdict, each
  // clause's status and source). The other clauses' forms are left alone, so unsaved text stays.
  function findingValues(panel, except) {
    var kept = {};
    panel.querySelectorAll("form.finding-form").forEach(function (f) {
      if (f === except) { return; }
      kept[f.getAttribute("action")] = { status: f.elements.status.value, reasoning: f.elements.reasoning.value };
    });
    return kept;
  }
  function refreshEvaluation(panel, html, saved) {
    var fresh = document.createElement("template");
    fresh.innerHTML = html;
    var parts = fresh.content.querySelectorAll("[data-live]");
    var known = Array.prototype.every.call(parts, function (part) {
      return panel.querySelector("[data-live='" + CSS.escape(part.dataset.live) + "']") !== null;
    });
    if (known) {
      parts.forEach(function (part) {
        panel.querySelector("[data-live='" + CSS.escape(part.dataset.live) + "']").replaceWith(part);
      });
      return;
    }
    // The clauses themselves changed: redraw the panel, carrying over what was typed and not saved.
    var kept = findingValues(panel, saved);
    panel.innerHTML = html;
    panel.querySelectorAll("form.finding-form").forEach(function (f) {
      var was = kept[f.getAttribute("action")];
      if (was) { f.elements.status.value = was.status; f.elements.reasoning.value = was.reasoning; }
    });
    counters(panel);
  }
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches("form.finding-form") || e.defaultPrevented) { return; }  // a second click while saving
    e.preventDefault();
    var panel = document.getElementById("evaluation-panel");
    var result = form.querySelector("[data-result]");
    function done(text, failed) {
      form.dataset.submitted = ""; form.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
      if (result) { result.textContent = text; result.classList.toggle("error", failed); }
    }
    fetch(form.action, { method: "POST", body: new FormData(form), headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (!data.ok) { done(data.error, true); return; }
        if (data.revision !== null && data.revision !== undefined) {
          document.querySelectorAll("input[name=revision]").forEach(function (i) { i.value = data.revision; });
        }
        return fetch(panel.dataset.src, { credentials: "same-origin" }).then(function (r) { return r.text(); })
          .then(function (html) { refreshEvaluation(panel, html, form); done("已保存", false); });
      })
      .catch(function () { done("保存失败，请检查网络后重试；已填写的内容仍在页面上。", true); });
  });
  // Drag-and-drop upload.
  var zone = document.querySelector(".dropzone");
  if (zone) {
    var input = zone.querySelector("input[type=file]");
    ["dragenter", "dragover"].forEach(function (ev) { zone.addEventListener(ev, function (e) { e.preventDefault(); zone.classList.add("over"); }); });
    ["dragleave", "drop"].forEach(function (ev) { zone.addEventListener(ev, function (e) { e.preventDefault(); zone.classList.remove("over"); }); });
    zone.addEventListener("drop", function (e) { input.files = e.dataTransfer.files; zone.querySelector(".chosen").textContent = Array.from(input.files).map(function (f) { return f.name; }).join("、"); });
  }
  // Override reason only matters when the outcome differs from the evaluation's options.
  document.querySelectorAll("[data-open-outcomes]").forEach(function (form) {
    var open = form.dataset.openOutcomes.split(",");
    var select = form.querySelector("[name=outcome]");
    var box = form.querySelector("[data-override]");
    function update() { if (box && select) { box.hidden = !select.value || open.indexOf(select.value) !== -1; } }
    if (select) { select.addEventListener("change", update); update(); }
  });
  // Progress of long jobs: poll a JSON endpoint and update a <progress>.
  document.querySelectorAll("[data-poll]").forEach(function (el) {
    function tick() {
      fetch(el.dataset.poll, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (job) {
        var bar = el.querySelector("progress"); if (bar) { bar.value = job.progress; }
        var label = el.querySelector(".status"); if (label) { label.textContent = job.status_label || job.status; }
        if (job.status === "ready" && job.download_url) { var a = el.querySelector("a.download"); a.href = job.download_url; a.hidden = false; return; }
        if (job.status === "failed") { return; }
        setTimeout(tick, 1000);
      });
    }
    tick();
  });
  // --- never surprise, never lose work -------------------------------------------------------------
  // An irreversible action asks once before it is sent: its button carries data-confirm (the text comes
  // from the action table). A native <dialog>; 取消 is focused first. Without script the form just submits.
  var confirmDialog = null;
  function confirmBox() {
    if (confirmDialog) { return confirmDialog; }
    confirmDialog = document.createElement("dialog");
    confirmDialog.className = "confirm-dialog";
    confirmDialog.setAttribute("aria-labelledby", "confirm-title");
    confirmDialog.setAttribute("aria-describedby", "confirm-text confirm-chosen");
    confirmDialog.innerHTML = '<h2 id="confirm-title">请确认</h2><p id="confirm-text"></p><p id="confirm-chosen" class="confirm-chosen"></p>' +
      '<div class="confirm-buttons"><button type="button" class="btn btn-primary" data-answer="yes">确定</button> ' +
      '<button type="button" class="btn" data-answer="no">取消</button></div>';
    document.body.appendChild(confirmDialog);
    return confirmDialog;
  }
  function askThenSubmit(form, button) {
    var box = confirmBox();
    box.querySelector("#confirm-title").textContent = "请确认：" + button.textContent.trim();
    // Name what is being decided, so the question is about this decision, not decisions in general.
    var chosen = [];
    var result = form.querySelector("[name=result]:checked");
    if (result && result.labels && result.labels.length) { chosen.push("复核结果：" + result.labels[0].textContent.trim()); }
    var outcome = form.querySelector("select[name=outcome]");
    if (outcome && outcome.value) { chosen.push("结论：" + outcome.options[outcome.selectedIndex].text.trim()); }
    box.querySelector("#confirm-text").textContent = button.dataset.confirm;
    var details = box.querySelector("#confirm-chosen");
    details.textContent = chosen.join("；");
    details.hidden = chosen.length === 0;
    var yes = box.querySelector("[data-answer=yes]");
    var no = box.querySelector("[data-answer=no]");
    function finish(confirmed) {
      yes.onclick = null; no.onclick = null; box.onclose = null;
      if (box.open) { box.close(); }
      if (confirmed) {
        form.dataset.confirmed = "1";
        if (form.requestSubmit) { form.requestSubmit(button); } else { button.click(); }
      } else {
        button.focus();
      }
    }
    yes.onclick = function () { finish(true); };
    no.onclick = function () { finish(false); };
    box.onclose = function () { finish(false); };  // Escape
    box.showModal();
    no.focus();
  }
  // Capture phase: runs before the one-submission guard above, so a cancelled confirmation leaves the
  // form untouched and its buttons enabled.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var button = e.submitter;
    if (!button || !button.dataset.confirm || form.dataset.confirmed === "1") { return; }
    e.preventDefault();
    e.stopPropagation();
    askThenSubmit(form, button);
  }, true);
  // Error summary: each link moves focus to its field (an anchor alone only scrolls); on a page that
  // comes back with errors the summary takes focus, so a screen reader reads it first.
  document.addEventListener("click", function (e) {
    var link = e.target.closest ? e.target.closest("a[data-focus-field]") : null;
    if (!link) { return; }
    var target = document.getElementById(link.dataset.focusField);
    if (!target) { return; }
    e.preventDefault();
    var panel = target.closest("[data-panel]");
    if (panel && panel.hidden) { show(panel.dataset.panel); }
    target.scrollIntoView({ block: "center" });
    target.focus();
  });
  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    var inPanel = summary.closest("[data-panel]");
    if (!inPanel || !inPanel.hidden) { summary.focus(); }
  }
  // --- end never surprise, never lose work ----------------------------------------------------------
  // --- words: say it in the user's words (error pages, rule comparison) ---
  // "返回上一页" on an error page without a known previous page: the browser's history, else the link.
  document.querySelectorAll("[data-history-back]").forEach(function (a) {
    a.addEventListener("click", function (e) { if (window.history.length > 1) { e.preventDefault(); window.history.back(); } });
  });
  // --- end words ---
})();
// --- Evidence previews and narrow-screen tables (look) ---------------------------------------------
(function () {
  "use strict";
  // A preview loads its file only when the reader opens it: the frame or image carries the address in
  // data-preview-src and gets its src on the first "toggle" to open ("toggle" does not bubble: capture it).
  document.addEventListener("toggle", function (e) {
    var box = e.target;
    if (!(box instanceof HTMLDetailsElement) || !box.open) { return; }
    box.querySelectorAll("[data-preview-src]").forEach(function (el) {
      if (!el.getAttribute("src")) { el.setAttribute("src", el.dataset.previewSrc); }
    });
  }, true);
})();
