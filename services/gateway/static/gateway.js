// Progressive enhancements only: every page works without this file.
(function () {
  "use strict";
  function countSelection(root) {
    var table = root.querySelector("[data-selection]");
    if (!table) { return; }
    var boxes = table.querySelectorAll("input[type=checkbox][name=compte]");
    var checked = 0;
    boxes.forEach(function (b) { if (b.checked) { checked += 1; } });
    var out = document.querySelector("[data-compteur]");
    if (out) { out.textContent = checked + " compte(s) sélectionné(s) sur " + out.getAttribute("data-total"); }
  }
  document.addEventListener("change", function (event) {
    var t = event.target;
    if (t.matches && t.matches("input[data-tout-cocher]")) {
      document.querySelectorAll("[data-selection] input[type=checkbox][name=compte]").forEach(function (b) { b.checked = t.checked; });
    }
    countSelection(document);
  });
  document.addEventListener("click", function (event) {
    var t = event.target;
    if (t.matches && t.matches("[data-inserer]")) {
      event.preventDefault();
      var area = document.getElementById(t.getAttribute("data-cible"));
      var text = "[" + t.getAttribute("data-inserer") + "]";
      var start = area.selectionStart, end = area.selectionEnd;
      area.value = area.value.slice(0, start) + text + area.value.slice(end);
      area.focus();
      area.selectionStart = area.selectionEnd = start + text.length;
    }
    if (t.matches && t.matches("[data-imprimer]")) { event.preventDefault(); window.print(); }
  });
  document.addEventListener("htmx:afterSwap", function () { countSelection(document); });
})();
