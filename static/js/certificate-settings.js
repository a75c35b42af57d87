// Certificate settings: the example number follows the format as it is typed, and the
// "minimum days" field shows only for the "at least N days" rule. Without JavaScript the
// server shows the example of the saved settings and every field stays visible.
(function () {
  "use strict";
  var form = document.getElementById("certificate-settings");
  if (!form) { return; }

  var output = document.getElementById("number-example");
  var format = form.querySelector("[name='number_format']");
  var prefix = form.querySelector("[name='number_prefix']");
  var unit = form.querySelector("[name='number_unit']");

  function example() {
    if (!output || !format) { return; }
    var values = {
      seq: output.dataset.seq, prefix: prefix ? prefix.value.trim() : "",
      unit: unit ? unit.value.trim() : "", month: output.dataset.month, year: output.dataset.year
    };
    var bad = false;
    var text = format.value.trim().replace(/\{([^{}]*)\}/g, function (all, name) {
      if (!Object.prototype.hasOwnProperty.call(values, name)) { bad = true; return all; }
      return values[name];
    });
    text = text.replace(/\/{2,}/g, "/").replace(/^\/+|\/+$/g, "");
    output.textContent = bad || format.value.indexOf("{seq}") < 0 ? "—" : text;
  }

  var group = document.getElementById("min-days-group");
  function rule() {
    if (!group) { return; }
    var checked = form.querySelector("input[name='rule']:checked");
    var show = checked && checked.value === "min_days";
    group.hidden = !show;
  }

  [format, prefix, unit].forEach(function (input) {
    if (input) { input.addEventListener("input", example); }
  });
  Array.prototype.forEach.call(form.querySelectorAll("input[name='rule']"), function (radio) {
    radio.addEventListener("change", rule);
  });
  example();
  rule();
}());
