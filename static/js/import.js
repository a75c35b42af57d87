// Registration import: upload with a progress bar, then go to the row report.
// Without JavaScript the form posts normally and the server redirects to the report.
// The CSRF token travels in the form data (the form's hidden csrf_token field).
(function () {
  "use strict";

  var form = document.getElementById("import-form");
  if (form) {
    var input = form.querySelector("input[type=file]");
    var button = document.getElementById("import-submit");
    var errorBox = document.getElementById("import-error");
    var progressBox = document.getElementById("import-progress");
    var bar = document.getElementById("import-progress-bar");
    var label = document.getElementById("import-progress-label");
    var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10) || 0;

    var showError = function (message) {
      errorBox.textContent = message;
      errorBox.hidden = false;
      input.classList.add("is-invalid");
      input.setAttribute("aria-invalid", "true");
      progressBox.hidden = true;
      button.disabled = false;
      input.focus();
    };

    var setProgress = function (percent, text) {
      bar.value = percent;
      bar.textContent = percent + "%";
      label.textContent = text;
    };

    form.addEventListener("submit", function (event) {
      if (!window.FormData || !window.XMLHttpRequest) { return; }  // plain post
      event.preventDefault();
      var file = input.files && input.files[0];
      if (!file) { showError(form.getAttribute("data-msg-no-file")); return; }
      if (maxBytes && file.size > maxBytes) {
        showError(form.getAttribute("data-msg-too-large"));
        return;
      }
      errorBox.hidden = true;
      input.classList.remove("is-invalid");
      input.removeAttribute("aria-invalid");
      button.disabled = true;
      progressBox.hidden = false;
      setProgress(0, form.getAttribute("data-msg-uploading"));

      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.getAttribute("action") || window.location.href);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          setProgress(Math.round((e.loaded / e.total) * 100),
                      form.getAttribute("data-msg-uploading"));
        }
      });
      xhr.upload.addEventListener("load", function () {
        bar.removeAttribute("value");  // indeterminate while the server checks the rows
        label.textContent = form.getAttribute("data-msg-checking");
      });
      xhr.addEventListener("load", function () {
        var body = null;
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
        if (xhr.status >= 200 && xhr.status < 300 && body && body.redirect) {
          window.location.assign(body.redirect);
          return;
        }
        if (xhr.status === 413 && !(body && body.message)) {
          showError(form.getAttribute("data-msg-too-large"));
          return;
        }
        showError((body && body.message) || form.getAttribute("data-msg-failed"));
      });
      xhr.addEventListener("error", function () {
        showError(form.getAttribute("data-msg-failed"));
      });
      xhr.send(new FormData(form));
    });
  }

  // Confirm buttons that take a few seconds: show it, and prevent a second submit.
  document.querySelectorAll("form[data-busy-form]").forEach(function (busyForm) {
    busyForm.addEventListener("submit", function () {
      var submit = busyForm.querySelector("[data-busy-text]");
      if (submit) {
        window.setTimeout(function () {
          submit.disabled = true;
          submit.textContent = submit.getAttribute("data-busy-text");
        }, 0);
      }
    });
  });
})();
