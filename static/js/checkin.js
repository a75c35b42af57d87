/* The door: camera scanning (qr-scanner), a handheld scanner typing into a field, and a
 * name search, all posting to the check-in JSON endpoints. Each answer is shown as a big
 * banner (colour + icon + words), announced to screen readers, with a beep/vibration.
 * No inline script: the page's words and URLs come from <script type="application/json">.
 */
(function () {
  "use strict";

  var configNode = document.getElementById("checkin-config");
  if (!configNode) { return; }
  var cfg = JSON.parse(configNode.textContent);
  var T = cfg.text;
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrfToken = csrfMeta ? csrfMeta.content : "";
  var ICONS = { ok: "\u2713", warn: "!", error: "\u2715" };
  var SHOW_MS = { ok: 1200, warn: 2500, error: 2500 };
  var finePointer = window.matchMedia && window.matchMedia("(pointer: fine)").matches;

  function $(id) { return document.getElementById(id); }
  function fill(text, values) {
    return String(text).replace(/\{(\w+)\}/g, function (m, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? values[key] : m;
    });
  }
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }
  function storage(key, value) {
    try {
      if (value === undefined) { return window.localStorage.getItem(key); }
      window.localStorage.setItem(key, value);
    } catch (e) { /* private mode: no memory between visits */ }
    return null;
  }

  /* --- talking to the server ------------------------------------------------------- */

  function newNonce() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);  // available over plain http too
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function Problem(message) { this.message = message; }

  function readJson(response) {
    return response.json().catch(function () { return null; }).then(function (body) {
      if (!response.ok || body === null) {
        throw new Problem((body && body.message) || T.serverError);
      }
      return body;
    });
  }

  function wait(ms) { return new Promise(function (resolve) { window.setTimeout(resolve, ms); }); }

  /* A POST with the CSRF header and a nonce; a network failure is retried with the same
   * nonce, so the server counts the check-in once however many attempts reach it. */
  function postJson(url, body, attempt) {
    attempt = attempt || 0;
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json",
                 "X-CSRFToken": csrfToken },
      body: JSON.stringify(body)
    }).then(readJson, function () {
      if (attempt >= 2) { throw new Problem(T.network); }
      return wait(400 * (attempt + 1)).then(function () { return postJson(url, body, attempt + 1); });
    });
  }

  function getJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(readJson, function () { throw new Problem(T.network); });
  }

  /* --- feedback: banner, announcement, sound, vibration ------------------------------- */

  var banner = $("scan-result");
  var announce = $("scan-announce");
  var lastResult = $("last-result");
  var bannerTimer = null;
  var soundOn = storage("checkin.sound") !== "off";
  var audio = null;

  function unlockAudio() {
    if (!soundOn) { return; }
    try {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (!audio && Ctx) { audio = new Ctx(); }
      if (audio && audio.state === "suspended") { audio.resume(); }
    } catch (e) { audio = null; }
  }
  document.addEventListener("pointerdown", unlockAudio);
  document.addEventListener("keydown", unlockAudio);

  function beep(tone) {
    if (!soundOn || !audio) { return; }
    var notes = { ok: [[1046, 0, 0.12]], warn: [[587, 0, 0.12], [587, 0.2, 0.12]],
                  error: [[220, 0, 0.4]] }[tone];
    try {
      var t0 = audio.currentTime + 0.01;
      notes.forEach(function (n) {
        var osc = audio.createOscillator();
        var gain = audio.createGain();
        osc.type = tone === "error" ? "square" : "sine";
        osc.frequency.value = n[0];
        gain.gain.setValueAtTime(0.0001, t0 + n[1]);
        gain.gain.exponentialRampToValueAtTime(0.25, t0 + n[1] + 0.01);
        gain.gain.exponentialRampToValueAtTime(0.0001, t0 + n[1] + n[2]);
        osc.connect(gain).connect(audio.destination);
        osc.start(t0 + n[1]);
        osc.stop(t0 + n[1] + n[2] + 0.02);
      });
    } catch (e) { /* no sound on this device */ }
  }

  function vibrate(tone) {
    if (navigator.vibrate) {
      try { navigator.vibrate(tone === "ok" ? 80 : tone === "warn" ? [80, 60, 80] : [250]); }
      catch (e) { /* not allowed */ }
    }
  }

  function hideBanner() {
    window.clearTimeout(bannerTimer);
    banner.hidden = true;
  }
  banner.addEventListener("click", hideBanner);
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !banner.hidden) { hideBanner(); }
  });

  function say(text) {
    // Clear first so that the same words twice in a row are announced twice.
    announce.textContent = "";
    window.setTimeout(function () { announce.textContent = text; }, 50);
  }

  /* data: {tone, message, detail, registration:{name, unit, role_label}} */
  function showResult(data, fresh) {
    var tone = data.tone || "error";
    var reg = data.registration;
    var meta = reg ? [reg.unit, reg.role_label].filter(Boolean).join(" \u00b7 ") : "";
    banner.className = "scan-result scan-result-" + tone;
    banner.setAttribute("data-result", data.result || "");
    banner.querySelector(".scan-result-icon").textContent = ICONS[tone];
    banner.querySelector(".scan-result-label").textContent = T[tone];
    banner.querySelector(".scan-result-message").textContent = data.message || "";
    banner.querySelector(".scan-result-name").textContent = reg ? reg.name : "";
    banner.querySelector(".scan-result-meta").textContent = meta;
    banner.querySelector(".scan-result-detail").textContent = data.detail || "";
    banner.hidden = false;
    window.clearTimeout(bannerTimer);
    bannerTimer = window.setTimeout(hideBanner, SHOW_MS[tone]);

    lastResult.hidden = false;
    lastResult.className = "last-result mt-2 last-result-" + tone;
    lastResult.setAttribute("data-result", data.result || "");
    lastResult.querySelector(".last-result-icon").textContent = ICONS[tone];
    lastResult.querySelector(".last-result-text").textContent =
      [data.message, reg ? reg.name : "", data.detail].filter(Boolean).join(" \u2014 ");

    say([T[tone] + ":", data.message + ".", reg ? reg.name + "." : "", meta, data.detail]
      .filter(Boolean).join(" "));
    if (fresh !== false) {
      beep(tone);
      vibrate(tone);
    }
  }

  function showProblem(problem) {
    var message = problem && problem.message ? problem.message : T.serverError;
    showResult({ tone: "error", result: "problem", message: message, detail: "" });
  }

  /* --- scanning: one code, one post; the same code is held for a moment ---------------- */

  var held = {};  // code -> {seen: ms, data: answer or null}

  function forgetOld(now) {
    Object.keys(held).forEach(function (code) {
      if (now - held[code].seen > cfg.holdMs) { delete held[code]; }
    });
  }

  function handleCode(raw, method) {
    var code = String(raw || "").trim();
    if (!code) { return; }
    var now = Date.now();
    forgetOld(now);
    var entry = held[code];
    if (entry) {
      // The camera sees the same QR many times a second: keep holding while it is in view.
      // A handheld scanner re-reading the same ticket just shows the answer again.
      entry.seen = now;
      if (method !== "camera" && entry.data) { showResult(entry.data, false); }
      return;
    }
    entry = held[code] = { seen: now, data: null };
    postJson(cfg.scanUrl, { code: code, nonce: newNonce(), method: method })
      .then(function (data) {
        entry.data = data;
        showResult(data);
        refreshStats();
      }, function (problem) {
        delete held[code];  // let the next read of this code try again
        showProblem(problem);
      })
      .then(function () { refocusScanner(); });
  }

  /* --- the handheld scanner field ------------------------------------------------------ */

  var scanForm = $("scan-form");
  var scanInput = scanForm.querySelector('input[name="code"]');
  var searchInput = $("search-form").querySelector('input[name="q"]');

  scanForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var value = scanInput.value;
    scanInput.value = "";
    handleCode(value, "scanner");
  });

  function typingElsewhere() {
    var active = document.activeElement;
    if (!active || active === document.body || active === scanInput) { return false; }
    return active.matches("input, select, textarea, [contenteditable]");
  }

  /* Keep the scanner field focused on a laptop (a phone would open its keyboard over the
   * camera), unless the user is typing in the search box or choosing a camera. */
  function refocusScanner() {
    if (!finePointer || typingElsewhere()) { return; }
    scanInput.focus({ preventScroll: true });
  }
  scanInput.addEventListener("blur", function () {
    window.setTimeout(function () {
      var active = document.activeElement;
      if (!active || active === document.body) { refocusScanner(); }
    }, 0);
  });

  /* --- the camera ------------------------------------------------------------------------- */

  var video = $("camera-video");
  var toggle = $("camera-toggle");
  var status = $("camera-status");
  var choice = $("camera-choice");
  var select = $("camera-select");
  var placeholder = $("camera-placeholder");
  var frame = document.querySelector(".camera-frame");
  var scanner = null;
  var running = false;

  function cameraStatus(text, isError) {
    status.textContent = text || "";
    status.classList.toggle("text-danger", !!isError);
    status.classList.toggle("fw-semibold", !!isError);
  }

  function setRunning(on) {
    running = on;
    toggle.textContent = on ? T.stopCamera : T.startCamera;
    toggle.classList.toggle("btn-primary", !on);
    toggle.classList.toggle("btn-outline-dark", on);
    toggle.setAttribute("aria-pressed", on ? "true" : "false");
    frame.hidden = !on;
    $("camera-box").classList.toggle("is-on", on);
    placeholder.hidden = on;
  }

  function cameraProblem() {
    if (!window.isSecureContext) { return T.insecure; }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { return T.noMediaDevices; }
    if (typeof window.QrScanner === "undefined") { return T.libraryMissing; }
    return null;
  }

  function explain(error) {
    var name = error && error.name;
    var text = String((error && error.message) || error || "");
    if (name === "NotAllowedError" || name === "SecurityError" || /permission|denied/i.test(text)) {
      return T.denied;
    }
    if (name === "NotReadableError" || name === "AbortError") { return T.busy; }
    if (name === "NotFoundError" || name === "OverconstrainedError" || /not found/i.test(text)) {
      return T.noCamera;
    }
    return T.cameraFailed + (text ? " (" + text + ")" : "");
  }

  function listCameras() {
    window.QrScanner.listCameras(true).then(function (cameras) {
      select.replaceChildren();
      cameras.forEach(function (camera, i) {
        var option = el("option", null, camera.label || T.camera + " " + (i + 1));
        option.value = camera.id;
        select.appendChild(option);
      });
      var chosen = storage("checkin.cameraId");
      if (chosen && cameras.some(function (c) { return c.id === chosen; })) { select.value = chosen; }
      choice.hidden = cameras.length < 2;
    }).catch(function () { choice.hidden = true; });
  }

  function startCamera() {
    var problem = cameraProblem();
    if (problem) { cameraStatus(problem, true); return; }
    cameraStatus(T.cameraStarting);
    toggle.disabled = true;
    if (!scanner) {
      scanner = new window.QrScanner(video, function (result) {
        handleCode(result.data, "camera");
      }, {
        returnDetailedScanResult: true,
        preferredCamera: storage("checkin.cameraId") || "environment",
        maxScansPerSecond: 12,
        onDecodeError: function () { /* no QR in this frame: keep looking */ }
      });
    }
    setRunning(true);
    scanner.start().then(function () {
      cameraStatus(T.cameraOn);
      storage("checkin.camera", "on");
      listCameras();
    }, function (error) {
      setRunning(false);
      cameraStatus(explain(error), true);
    }).then(function () { toggle.disabled = false; });
  }

  function stopCamera() {
    if (scanner) { scanner.stop(); }
    setRunning(false);
    cameraStatus(T.cameraOff);
    storage("checkin.camera", "off");
  }

  toggle.addEventListener("click", function () {
    if (running) { stopCamera(); } else { startCamera(); }
  });
  select.addEventListener("change", function () {
    storage("checkin.cameraId", select.value);
    if (scanner) {
      scanner.setCamera(select.value).catch(function (error) { cameraStatus(explain(error), true); });
    }
  });

  /* --- search ------------------------------------------------------------------------------ */

  var searchForm = $("search-form");
  var searchStatus = $("search-status");
  var searchList = $("search-results");
  var searchTimer = null;
  var searchSeq = 0;

  function resultItem(person, isEventDay) {
    var item = el("li", "list-group-item search-item");
    var info = el("div", "search-info");
    info.appendChild(el("div", "search-name", person.name));
    var bits = [person.unit, person.nip, person.role_label].filter(Boolean);
    info.appendChild(el("div", "search-meta", bits.join(" \u00b7 ")));
    if (person.status !== "confirmed") {
      info.appendChild(el("span", "badge text-bg-secondary", person.status_label));
    }
    item.appendChild(info);
    if (person.checked_in) {
      item.appendChild(el("span", "search-present",
        "\u2713 " + fill(T.present, { time: person.checked_in_at_text })));
    } else if (person.status === "confirmed" && isEventDay) {
      var button = el("button", "btn btn-success btn-lg search-checkin", T.checkIn);
      button.type = "button";
      button.setAttribute("aria-label", fill(T.checkInName, { name: person.name }));
      button.addEventListener("click", function () {
        button.disabled = true;
        postJson(person.checkin_url, { nonce: newNonce() }).then(function (data) {
          showResult(data);
          refreshStats();
        }, showProblem).then(function () {
          runSearch();
          searchInput.focus({ preventScroll: true });
        });
      });
      item.appendChild(button);
    }
    return item;
  }

  function runSearch() {
    window.clearTimeout(searchTimer);
    var query = searchInput.value.trim();
    var seq = ++searchSeq;
    if (query.length < 2) {
      searchList.replaceChildren();
      searchStatus.textContent = query ? T.searchHint : "";
      return;
    }
    searchStatus.textContent = T.searching;
    getJson(cfg.searchUrl + "?q=" + encodeURIComponent(query)).then(function (data) {
      if (seq !== searchSeq) { return; }  // a newer search is under way
      searchList.replaceChildren.apply(searchList, data.results.map(function (person) {
        return resultItem(person, data.is_event_day);
      }));
      searchStatus.textContent = data.results.length ? "" : T.noResults;
    }, function (problem) {
      if (seq === searchSeq) { searchStatus.textContent = problem.message; }
    });
  }

  // A handheld scanner fired while the cursor was still in the search box: a ticket code
  // (long, URL-safe, with letters) is no name or NIP, so treat it as the scan it is.
  var TICKET_CODE = /^(?=.*[A-Za-z])[A-Za-z0-9_-]{32,64}$/;

  searchForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var value = searchInput.value.trim();
    if (TICKET_CODE.test(value)) {
      searchInput.value = "";
      runSearch();
      searchInput.blur();
      handleCode(value, "scanner");
      return;
    }
    runSearch();
  });
  // On a phone the keyboard covers the lower half: bring the search box and its results up.
  searchInput.addEventListener("focus", function () {
    if (finePointer) { return; }
    window.setTimeout(function () {
      $("search-heading").scrollIntoView({ block: "start", behavior: "smooth" });
    }, 250);
  });
  searchInput.addEventListener("input", function () {
    window.clearTimeout(searchTimer);
    searchTimer = window.setTimeout(runSearch, 250);
  });

  /* --- today's counters and the last scans (polled) --------------------------------------- */

  var recentList = $("recent-list");
  var unitsBody = $("stats-units");
  var progress = $("stats-progress");
  var bar = $("stats-bar");
  var notEventDay = $("not-event-day");
  var statsBusy = false;

  function recentItem(row) {
    var item = el("li", "recent-item");
    var when = row.at_text + (row.date_text ? " \u00b7 " + row.date_text : "");
    item.appendChild(el("span", "recent-time", when));
    item.appendChild(el("span", "recent-name", row.name));
    var meta = [row.unit, row.by ? fill(T.by, { name: row.by }) : "", row.method_label];
    item.appendChild(el("span", "recent-meta", meta.filter(Boolean).join(" \u00b7 ")));
    if (row.undo_url) {
      var undo = el("button", "btn btn-outline-danger btn-sm recent-undo", T.undo);
      undo.type = "button";
      undo.setAttribute("aria-label", fill(T.undoName, { name: row.name }));
      undo.addEventListener("click", function () {
        if (!window.confirm(fill(T.undoConfirm, { name: row.name }))) { return; }
        undo.disabled = true;
        postJson(row.undo_url, { nonce: newNonce() }).then(function (data) {
          say(data.message);
          cameraStatus(data.message);
          refreshStats();
        }, function (problem) {
          undo.disabled = false;
          showProblem(problem);
        });
      });
      item.appendChild(undo);
    }
    return item;
  }

  function renderStats(stats) {
    document.querySelectorAll('[data-stat="checked_in"]').forEach(function (node) {
      node.textContent = stats.checked_in;
    });
    document.querySelectorAll('[data-stat="confirmed"]').forEach(function (node) {
      node.textContent = stats.confirmed;
    });
    var percent = stats.confirmed ? Math.min(100, Math.round(100 * stats.checked_in / stats.confirmed)) : 0;
    bar.style.width = percent + "%";
    progress.setAttribute("aria-valuenow", stats.checked_in);
    progress.setAttribute("aria-valuemax", stats.confirmed);
    progress.setAttribute("aria-valuetext", stats.checked_in + " / " + stats.confirmed);
    notEventDay.hidden = stats.is_event_day;

    unitsBody.replaceChildren.apply(unitsBody, stats.units.map(function (row) {
      var tr = el("tr");
      tr.appendChild(el("td", null, row.unit));
      tr.appendChild(el("td", "text-end", String(row.checked_in)));
      tr.appendChild(el("td", "text-end", String(row.confirmed)));
      return tr;
    }));
    if (stats.recent.length) {
      recentList.replaceChildren.apply(recentList, stats.recent.map(recentItem));
    } else {
      recentList.replaceChildren(el("li", "text-body-secondary", T.noRecent));
    }
  }

  function refreshStats() {
    if (statsBusy) { return; }
    statsBusy = true;
    getJson(cfg.statsUrl).then(renderStats, function () { /* keep the last numbers */ })
      .then(function () { statsBusy = false; });
  }

  function poll() {
    if (!document.hidden) { refreshStats(); }
    window.setTimeout(poll, cfg.pollSeconds * 1000);
  }

  /* --- sound toggle and start-up ----------------------------------------------------------- */

  var soundToggle = $("sound-toggle");
  function renderSound() {
    soundToggle.setAttribute("aria-pressed", soundOn ? "true" : "false");
    soundToggle.textContent = soundOn ? T.soundOn : T.soundOff;
  }
  soundToggle.addEventListener("click", function () {
    soundOn = !soundOn;
    storage("checkin.sound", soundOn ? "on" : "off");
    renderSound();
    if (soundOn) { unlockAudio(); beep("ok"); }
  });
  renderSound();

  renderStats(cfg.stats);
  window.setTimeout(poll, cfg.pollSeconds * 1000);
  var problem = cameraProblem();
  if (problem) {
    cameraStatus(problem, true);
  } else if (storage("checkin.camera") === "on") {
    startCamera();  // the door phone used the camera last time: no extra tap
  }
  if (finePointer) { scanInput.focus({ preventScroll: true }); }
}());
