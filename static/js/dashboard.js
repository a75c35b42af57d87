/* Event dashboard: refresh the numbers and charts without reloading the page.
 *
 * The server renders every part (numbers, SVG charts, tables); this script only fetches
 * dashboard.json and swaps the parts in. It polls every 15 seconds while the page is
 * visible on an event day (data-live="1"), and on demand with the "refresh" button.
 */
(function () {
  "use strict";

  var INTERVAL = 15000;
  var root = document.getElementById("dashboard");
  if (!root) {
    return;
  }
  var url = root.getAttribute("data-url");
  var live = root.getAttribute("data-live") === "1";
  var updated = root.querySelector("[data-updated]");
  var error = document.getElementById("dashboard-error");
  var button = document.getElementById("dashboard-refresh");
  var timer = null;
  var busy = false;

  function openDetails() {
    var ids = [];
    root.querySelectorAll("details[open]").forEach(function (d) {
      if (d.id) {
        ids.push(d.id);
      }
    });
    return ids;
  }

  function apply(data) {
    var open = openDetails();
    Object.keys(data.fragments || {}).forEach(function (name) {
      var part = root.querySelector('[data-fragment="' + name + '"]');
      if (part) {
        part.innerHTML = data.fragments[name]; // rendered and escaped by the server
      }
    });
    open.forEach(function (id) {
      var d = document.getElementById(id);
      if (d) {
        d.open = true;
      }
    });
    if (updated && data.updated_at) {
      updated.textContent = data.updated_at;
    }
  }

  function refresh() {
    if (busy) {
      return;
    }
    busy = true;
    if (button) {
      button.disabled = true;
    }
    fetch(url, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      cache: "no-store",
    })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (!response.ok || type.indexOf("application/json") === -1) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        apply(data);
        error.hidden = true;
      })
      .catch(function () {
        error.hidden = false;
      })
      .then(function () {
        busy = false;
        if (button) {
          button.disabled = false;
        }
      });
  }

  function start() {
    if (live && timer === null && !document.hidden) {
      timer = window.setInterval(refresh, INTERVAL);
    }
  }

  function stop() {
    if (timer !== null) {
      window.clearInterval(timer);
      timer = null;
    }
  }

  if (button) {
    button.addEventListener("click", refresh);
  }
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      stop();
    } else if (live) {
      refresh();
      start();
    }
  });
  start();
})();
