// Rule-set workbench: turn a text selection in the displayed document into character offsets of the
// stored document, so a clause is always a span of that document. No inline script (CSP).
(function () {
  "use strict";
  var doc = document.getElementById("wb-doc");
  if (!doc) { return; }
  var preview = document.getElementById("wb-selection");

  function offsetOf(node, offset) {
    var range = document.createRange();
    range.setStart(doc, 0);
    range.setEnd(node, offset);
    return range.toString().length;
  }

  function setAll(selector, value) {
    var inputs = document.querySelectorAll(selector);
    for (var i = 0; i < inputs.length; i++) { inputs[i].value = value; }
  }

  function update() {
    var sel = window.getSelection();
    if (!sel || sel.rangeCount === 0) { return; }
    var range = sel.getRangeAt(0);
    if (!doc.contains(range.startContainer) || !doc.contains(range.endContainer)) { return; }
    var start = offsetOf(range.startContainer, range.startOffset);
    var end = offsetOf(range.endContainer, range.endOffset);
    setAll("[data-wb-start]", String(start));
    setAll("[data-wb-end]", String(end));
    if (preview) {
      var text = range.toString();
      preview.textContent = text ? "「" + text + "」（第 " + start + "–" + end + " 字）" : "（空）";
      preview.classList.toggle("muted", !text);
    }
  }

  document.addEventListener("selectionchange", update);
  doc.addEventListener("mouseup", update);
  doc.addEventListener("keyup", update);
})();
