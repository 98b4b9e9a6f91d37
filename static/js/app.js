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
  // Findings: save inline and refresh the live evaluation without leaving the page.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches("form.finding-form")) { return; }
    e.preventDefault();
    var panel = document.getElementById("evaluation-panel");
    fetch(form.action, { method: "POST", body: new FormData(form), headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        form.dataset.submitted = ""; form.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
        if (!data.ok) { alert(data.error); return; }
        if (data.revision !== null && data.revision !== undefined) {
          document.querySelectorAll("input[name=revision]").forEach(function (i) { i.value = data.revision; });
        }
        return fetch(panel.dataset.src, { credentials: "same-origin" }).then(function (r) { return r.text(); })
          .then(function (html) { panel.innerHTML = html; });
      });
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
})();
