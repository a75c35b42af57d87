// Registration pages.
// Form: the NIP field follows the employment status (hidden for Non-ASN, "NIP" for
// PNS, "NI PPPK" for PPPK) and the institution field appears only for "Instansi lain".
// Manage page: a "Salin" button copies the private link.
// Without JavaScript every field stays visible with help text and the server checks all.
// A hidden field is also disabled, so that a value typed before switching is not sent.
(function () {
  "use strict";

  function toggle(group, input, show) {
    group.hidden = !show;
    input.disabled = !show;
  }

  function setupNip(form) {
    var group = document.getElementById("nip-group");
    var input = document.getElementById("nip");
    if (!group || !input) { return; }
    var label = group.querySelector("label[for='nip']");
    var help = document.getElementById("nip-help");
    var labelText = label ? label.firstChild : null;
    var defaultHelp = help ? help.textContent : "";
    var radios = form.querySelectorAll("input[name='employment_status']");

    function update() {
      var checked = form.querySelector("input[name='employment_status']:checked");
      var status = checked ? checked.value : "";
      toggle(group, input, status !== "non_asn");
      var text = group.dataset["label" + (status === "pns" ? "Pns" : status === "pppk" ? "Pppk" : "Any")];
      if (labelText && text) { labelText.textContent = text; }
      if (help) {
        var helpText = status === "pns" ? group.dataset.helpPns
          : status === "pppk" ? group.dataset.helpPppk : defaultHelp;
        help.textContent = helpText || defaultHelp;
      }
    }

    radios.forEach(function (radio) { radio.addEventListener("change", update); });
    update();
  }

  function setupInstitution(form) {
    var group = document.getElementById("institution-group");
    var input = document.getElementById("institution");
    var select = document.getElementById("unit");
    if (!group || !input || !select) { return; }
    var help = document.getElementById("institution-help");
    if (help) { help.hidden = true; }  // the help explains the no-JS case only

    // Typed an institution but left the unit unchosen (e.g. before JS loaded): "other".
    if (select.value === "" && input.value.trim() !== "") { select.value = "other"; }

    function update(focus) {
      var other = select.value === "other";
      toggle(group, input, other);
      if (other && focus) { input.focus(); }
    }

    select.addEventListener("change", function () { update(true); });
    update(false);
  }

  function setupCopy() {
    document.querySelectorAll("[data-copy-target]").forEach(function (button) {
      var target = document.getElementById(button.dataset.copyTarget);
      var status = button.parentNode.querySelector("[data-copy-status]");
      if (!target) { return; }
      button.hidden = false;

      function say(text) {
        if (status) { status.textContent = text || ""; }
      }

      function selectTarget() {
        var range = document.createRange();
        range.selectNodeContents(target);
        var selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
      }

      function fallback() {
        selectTarget();
        var copied = false;
        try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
        say(copied ? button.dataset.copiedText : button.dataset.failedText);
      }

      button.addEventListener("click", function () {
        var text = target.textContent.trim();
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(function () {
            say(button.dataset.copiedText);
          }, fallback);
        } else {
          fallback();
        }
      });
    });
  }

  var form = document.getElementById("registration-form");
  if (form) {
    setupNip(form);
    setupInstitution(form);
  }
  setupCopy();
})();
