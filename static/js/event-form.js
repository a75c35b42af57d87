// Event form: "Tambah baris" and "Hapus baris" for the speaker and agenda lists.
// Without JavaScript the form still works: the server always renders blank rows,
// and clearing a row removes it on save.
(function () {
  "use strict";

  var INDEX = /^([a-z_]+)-(\d+)-/;

  function rowsOf(list) {
    return Array.prototype.slice.call(list.querySelectorAll("[data-row]"));
  }

  function nextIndex(list) {
    var max = -1;
    list.querySelectorAll("[name]").forEach(function (input) {
      var m = INDEX.exec(input.name);
      if (m) { max = Math.max(max, parseInt(m[2], 10)); }
    });
    return max + 1;
  }

  function renumber(row, name, index) {
    var pattern = new RegExp("^" + name + "-\\d+-");
    var replacement = name + "-" + index + "-";
    ["name", "id", "for", "aria-describedby"].forEach(function (attr) {
      row.querySelectorAll("[" + attr + "]").forEach(function (el) {
        var parts = el.getAttribute(attr).split(" ").map(function (part) {
          return part.replace(pattern, replacement);
        });
        el.setAttribute(attr, parts.join(" "));
      });
    });
  }

  function clearRow(row) {
    row.querySelectorAll("input, textarea, select").forEach(function (input) {
      if (input.type === "checkbox" || input.type === "radio") {
        input.checked = false;
      } else {
        input.value = "";
      }
      input.classList.remove("is-invalid");
      input.removeAttribute("aria-invalid");
    });
    // Error messages belong to the row that was copied, not to the new one.
    row.querySelectorAll(".invalid-feedback").forEach(function (el) { el.remove(); });
    row.querySelectorAll("[aria-describedby]").forEach(function (el) {
      var ids = el.getAttribute("aria-describedby").split(" ").filter(function (id) {
        return id && !/-error$/.test(id);
      });
      if (ids.length) { el.setAttribute("aria-describedby", ids.join(" ")); }
      else { el.removeAttribute("aria-describedby"); }
    });
  }

  function firstInput(row) {
    return row.querySelector("input, textarea, select");
  }

  function addRow(list) {
    var rows = rowsOf(list);
    var template = rows[rows.length - 1];
    var row = template.cloneNode(true);
    renumber(row, list.dataset.list, nextIndex(list));
    clearRow(row);
    list.appendChild(row);
    var input = firstInput(row);
    if (input) { input.focus(); }
  }

  function removeRow(list, row) {
    var rows = rowsOf(list);
    if (rows.length <= 1) {
      // Keep one row to copy from; clearing it is what removing means on save.
      clearRow(row);
      var only = firstInput(row);
      if (only) { only.focus(); }
      return;
    }
    var position = rows.indexOf(row);
    row.remove();
    var remaining = rowsOf(list);
    var target = remaining[Math.min(position, remaining.length - 1)];
    var input = target && firstInput(target);
    if (input) { input.focus(); }
  }

  document.querySelectorAll("[data-list]").forEach(function (list) {
    var fieldset = list.closest("fieldset");
    var add = fieldset.querySelector("[data-add-row]");
    if (add) {
      add.hidden = false;
      add.addEventListener("click", function () { addRow(list); });
    }
    list.querySelectorAll("[data-remove-row]").forEach(function (btn) { btn.hidden = false; });
    list.addEventListener("click", function (event) {
      var btn = event.target.closest("[data-remove-row]");
      if (btn) { removeRow(list, btn.closest("[data-row]")); }
    });
  });
})();
