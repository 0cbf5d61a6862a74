/* Mosaic CRM — customer pages. Progressive enhancement only: every form works without it.
   - a "select all" checkbox (data-select-all="<name>") for the bulk actions, with a count;
   - forms with data-confirm="<question>" ask before they are sent. */
(function () {
  "use strict";

  function setUpSelectAll(all) {
    var name = all.getAttribute("data-select-all");
    var boxes = function () {
      return document.querySelectorAll('input[type="checkbox"][name="' + name + '"]');
    };
    var counts = document.querySelectorAll("[data-selected-count]");
    var countBoxes = document.querySelectorAll("[data-selected-count-box]");
    function refresh() {
      var total = 0, checked = 0;
      boxes().forEach(function (b) { total += 1; if (b.checked) { checked += 1; } });
      all.checked = total > 0 && checked === total;
      all.indeterminate = checked > 0 && checked < total;
      counts.forEach(function (el) { el.textContent = String(checked); });
    }
    all.hidden = false;
    countBoxes.forEach(function (el) { el.hidden = false; });
    all.addEventListener("change", function () {
      boxes().forEach(function (b) { b.checked = all.checked; });
      refresh();
    });
    boxes().forEach(function (b) { b.addEventListener("change", refresh); });
    refresh();
  }

  function setUpConfirm(form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-select-all]").forEach(setUpSelectAll);
    document.querySelectorAll("form[data-confirm]").forEach(setUpConfirm);
  });
}());
