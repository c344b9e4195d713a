// feedd's pages: copy buttons, the filter box and the A-Z order. Everything works
// without this script; it only adds conveniences.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    if (!navigator.clipboard) return;
    button.hidden = false;
    var label = button.textContent;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(button.dataset.copy).then(function () {
        button.textContent = button.dataset.done;
        setTimeout(function () { button.textContent = label; }, 1500);
      });
    });
  });
  document.querySelectorAll("div.controls").forEach(function (controls) {
    controls.hidden = false;
  });
  document.querySelectorAll("input[data-filter]").forEach(function (input) {
    var table = document.getElementById(input.dataset.filter);
    if (!table) return;
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    var pending = 0;
    input.addEventListener("input", function () {
      cancelAnimationFrame(pending);
      pending = requestAnimationFrame(function () {
        var q = input.value.trim().toLowerCase();
        rows.forEach(function (row) {
          row.hidden = q !== "" && row.dataset.name.indexOf(q) < 0;
        });
      });
    });
  });
  document.querySelectorAll("button[data-sort]").forEach(function (button) {
    var table = document.getElementById("feeds");
    if (!table) return;
    var body = table.tBodies[0];
    var active = Array.prototype.slice.call(body.rows);
    button.addEventListener("click", function () {
      var rows = active.slice();
      if (button.dataset.sort === "name") {
        var collator = new Intl.Collator(document.documentElement.lang);
        rows.sort(function (a, b) { return collator.compare(a.dataset.name, b.dataset.name); });
      }
      var fragment = document.createDocumentFragment();
      rows.forEach(function (row) { fragment.appendChild(row); });
      body.appendChild(fragment);
      document.querySelectorAll("button[data-sort]").forEach(function (other) {
        other.setAttribute("aria-pressed", String(other === button));
      });
    });
  });
});
