// Bulk certificate downloads with progress: fetch() the file, count the bytes as they
// arrive against the server's estimate (X-Estimated-Size, X-Certificate-Count), then
// offer the finished file through a Blob link. Without JavaScript (or without streams)
// the link is an ordinary download.
(function () {
  "use strict";
  if (!window.fetch || !window.ReadableStream || !window.URL || !URL.createObjectURL) { return; }

  function size(bytes) {
    if (bytes >= 1048576) { return (bytes / 1048576).toFixed(1) + " MB"; }
    return Math.max(1, Math.round(bytes / 1024)) + " KB";
  }

  function filename(response, fallback) {
    var header = response.headers.get("Content-Disposition") || "";
    var match = /filename="([^"]+)"/.exec(header);
    return match ? match[1] : fallback;
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, key) { return values[key]; });
  }

  function start(link) {
    var card = link.closest("[data-download]");
    var box = card.querySelector("[data-progress]");
    var bar = card.querySelector("[data-bar]");
    var meter = card.querySelector("[role=progressbar]");
    var status = card.querySelector("[data-status]");
    var slot = card.querySelector("[data-save-slot]");
    var data = link.dataset;
    box.hidden = false;
    slot.textContent = "";
    status.textContent = data.preparing;
    link.classList.add("disabled");
    link.setAttribute("aria-disabled", "true");

    function show(percent) {
      bar.style.width = percent + "%";
      meter.setAttribute("aria-valuenow", String(percent));
    }

    function finish() {
      link.classList.remove("disabled");
      link.removeAttribute("aria-disabled");
    }

    fetch(link.href, { credentials: "same-origin" }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (!response.ok || type.indexOf("text/html") === 0 || !response.body) {
        throw new Error("bad response");
      }
      var estimate = parseInt(response.headers.get("X-Estimated-Size") || "0", 10);
      var total = parseInt(response.headers.get("Content-Length") || "0", 10) || estimate;
      var reader = response.body.getReader();
      var parts = [];
      var received = 0;
      function pump() {
        return reader.read().then(function (step) {
          if (step.done) { return; }
          parts.push(step.value);
          received += step.value.length;
          var percent = total ? Math.min(99, Math.floor(received * 100 / total)) : 0;
          show(percent);
          status.textContent = fill(data.received, { done: size(received), total: size(total), percent: percent });
          return pump();
        });
      }
      return pump().then(function () {
        var blob = new Blob(parts, { type: type });
        var save = document.createElement("a");
        save.href = URL.createObjectURL(blob);
        save.download = filename(response, "sertifikat");
        save.className = "btn btn-success";
        save.textContent = data.save + " (" + size(received) + ")";
        slot.appendChild(save);
        show(100);
        bar.classList.remove("progress-bar-animated", "progress-bar-striped");
        status.textContent = data.done;
        save.click();
      });
    }).catch(function () {
      status.textContent = data.failed;
    }).then(finish);
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-download-link]"), function (link) {
    link.addEventListener("click", function (event) {
      if (link.classList.contains("disabled")) { event.preventDefault(); return; }
      event.preventDefault();
      start(link);
    });
  });
}());
