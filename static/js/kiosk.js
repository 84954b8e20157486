// The only script besides htmx: read-aloud (phone and screen), and on the lobby screen the slide loop,
// idle return, offline badge, careful reload after an upgrade, and night mode.
(function () {
  "use strict";

  // ---- Read aloud: shown only where the browser has a Chinese voice. ----
  function chineseVoice() {
    if (!("speechSynthesis" in window)) return null;
    var voices = window.speechSynthesis.getVoices();
    for (var i = 0; i < voices.length; i++) {
      if (/^zh(-|_)?(CN|Hans)?/i.test(voices[i].lang)) return voices[i];
    }
    return null;
  }

  function refreshSpeakButtons() {
    var voice = chineseVoice();
    document.querySelectorAll("[data-speak]").forEach(function (button) {
      button.hidden = !voice;
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-speak]");
    if (!button) return;
    event.preventDefault();
    var synth = window.speechSynthesis;
    if (synth.speaking) { synth.cancel(); return; }
    var source = document.querySelector(button.getAttribute("data-speak"));
    if (!source) return;
    var utterance = new SpeechSynthesisUtterance(source.innerText);
    utterance.lang = "zh-CN";
    utterance.rate = 0.9;
    utterance.voice = chineseVoice();
    synth.speak(utterance);
  });

  if ("speechSynthesis" in window) {
    window.speechSynthesis.addEventListener("voiceschanged", refreshSpeakButtons);
  }
  document.addEventListener("DOMContentLoaded", refreshSpeakButtons);
  document.addEventListener("htmx:afterSettle", refreshSpeakButtons);

  // ---- The lobby screen. ----
  var body = document.body || document.documentElement;
  document.addEventListener("DOMContentLoaded", function () {
    body = document.body;
    if (body.classList.contains("screen")) startScreen();
  });

  function startScreen() {
    var dwell = Math.max(3, Number(body.dataset.dwell) || 12) * 1000;
    var idleLimit = Math.max(5, Number(body.dataset.idle) || 60) * 1000;
    var tz = body.dataset.tz || "Asia/Shanghai";
    var lastTouch = Date.now();
    // The offline badge's "data as of": when the server rendered this page (a page the service worker kept
    // through a power cut is as old as that).
    var lastSuccess = new Date(Number(body.dataset.served) || Date.now());
    var currentId = null;
    var currentPos = 0;
    var wokenUntil = 0;
    var reloadWanted = false;
    var clockFormat = new Intl.DateTimeFormat("zh-CN", { timeZone: tz, hour: "2-digit", minute: "2-digit", hour12: false });

    function hhmm(date) { return clockFormat.format(date); }
    function setText(selector, text) {
      var element = document.querySelector(selector);
      if (element) element.textContent = text;
    }
    function detailOpen() { return body.classList.contains("detail-open"); }

    // An area with a time slot (data-from/data-to, e.g. the vote only 07:00-22:00) is left out of the loop
    // outside it; the order puts open votes and urgent slides round at least once a minute (screen-loop.js).
    function inSlot(group) {
      var from = group.dataset.from, to = group.dataset.to;
      if (!from || !to || from === to) return true;
      var now = minutes(hhmm(new Date())), a = minutes(from), b = minutes(to);
      return a < b ? (now >= a && now < b) : (now >= a || now < b);
    }

    function slides() {
      var real = [];
      document.querySelectorAll("#loop .group:not(.fallback)").forEach(function (group) {
        if (inSlot(group)) Array.prototype.push.apply(real, group.querySelectorAll(".slide"));
      });
      if (!real.length) return Array.prototype.slice.call(document.querySelectorAll("#loop .fallback .slide"));
      if (!window.kioskBuildLoop) return real;
      var flags = real.map(function (slide) { return slide.hasAttribute("data-priority"); });
      return window.kioskBuildLoop(flags, dwell / 1000).map(function (i) { return real[i]; });
    }

    function show(index) {
      var list = slides();
      if (!list.length) return;
      index = ((index % list.length) + list.length) % list.length;
      document.querySelectorAll("#loop .slide.is-current").forEach(function (s) { s.classList.remove("is-current"); });
      list[index].classList.add("is-current");
      currentId = list[index].dataset.slideId;
      currentPos = index;
      drawDots(list.length, index);
    }

    function currentIndex() {
      var list = slides();
      // A priority slide appears several times in the loop: keep the place, not just the first copy.
      if (list[currentPos] && list[currentPos].dataset.slideId === currentId) return currentPos;
      for (var i = 0; i < list.length; i++) if (list[i].dataset.slideId === currentId) return i;
      return -1;
    }

    function drawDots(count, index) {
      var dots = document.getElementById("dots");
      if (!dots) return;
      if (dots.children.length !== count) {
        dots.textContent = "";
        for (var i = 0; i < count; i++) dots.appendChild(document.createElement("span"));
      }
      Array.prototype.forEach.call(dots.children, function (dot, i) { dot.classList.toggle("on", i === index); });
    }

    function advance() {
      if (detailOpen() || body.classList.contains("night")) return;
      show(currentIndex() + 1);
    }

    // The loop's clock restarts whenever a person leaves a notice, so the slide they land on gets its full time.
    var loopTimer = null;
    function restartLoop() {
      clearInterval(loopTimer);
      loopTimer = setInterval(advance, dwell);
    }

    function closeDetail(home) {
      body.classList.remove("detail-open");
      document.getElementById("detail").textContent = "";
      if (home) show(0);
      restartLoop();
    }

    // Keep the place after a slide group is refreshed: same slide if it still exists, else the next one.
    document.addEventListener("htmx:afterSwap", function (event) {
      var target = event.detail.target;
      if (target && target.id === "detail") {
        body.classList.add("detail-open");
        var scroller = target.querySelector(".detail-scroll");
        if (scroller) scroller.scrollTop = 0;
        return;
      }
      var index = currentIndex();
      show(index >= 0 ? index : Math.min(currentPos, slides().length - 1));
    });

    // The keypad of a kiosk vote types into the code field.
    document.addEventListener("click", function (event) {
      var key = event.target.closest && event.target.closest("[data-key]");
      if (!key) return;
      var input = key.form && key.form.querySelector("input[name=code]");
      if (!input) return;
      input.value = key.dataset.key === "clear" ? "" : (input.value + key.dataset.key).slice(0, 6);
    });

    document.addEventListener("click", function (event) {
      var action = event.target.closest && event.target.closest("[data-action]");
      if (!action) return;
      closeDetail(action.dataset.action === "home");
    });

    var swallowClickUntil = 0;
    ["pointerdown", "touchstart", "keydown", "wheel", "scroll"].forEach(function (name) {
      document.addEventListener(name, function () {
        lastTouch = Date.now();
        if (body.classList.contains("night")) {
          wokenUntil = Date.now() + idleLimit;
          body.classList.remove("night");
          // The finger that woke the screen lifts over a slide: that click only wakes, it opens nothing.
          if (name === "pointerdown" || name === "touchstart") swallowClickUntil = Date.now() + 1000;
        }
      }, { capture: true, passive: true });
    });
    document.addEventListener("click", function (event) {
      if (Date.now() >= swallowClickUntil) return;
      swallowClickUntil = 0;
      event.preventDefault();
      event.stopPropagation();
    }, true);

    // A vote keypad or ballot answering its own form with a sentence (see the beforeSwap listener below).
    var KIOSK_ANSWERS = [400, 403, 409, 429];
    function isKioskAnswer(detail) {
      var target = detail.target, form = detail.requestConfig && detail.requestConfig.elt;
      return !!target && target.id === "detail" && KIOSK_ANSWERS.indexOf(detail.xhr.status) >= 0 &&
        !!form && !!form.closest && !!form.closest(".kiosk-vote") &&
        /class="detail-inner kiosk-vote"/.test(detail.serverResponse || "");
    }

    // Offline badge: any failed pulse shows it; the next good one hides it.
    function isPulse(event) { return event.detail.elt && event.detail.elt.id === "pulse"; }
    function markOffline() {
      var badge = document.getElementById("offline");
      if (!badge) return;
      badge.querySelector(".offline-time").textContent = hhmm(lastSuccess);
      badge.hidden = false;
    }
    // A slide group or the banner that failed to refresh (5xx, timeout, dropped connection) is asked
    // again after the next good pulse; otherwise it would show old slides until the next change.
    var refreshAgain = false;
    function isAreaRefresh(event) {
      var elt = event.detail.elt;
      return !!elt && (elt.id === "banner" || (elt.classList.contains("group") && !!elt.dataset.area));
    }
    function refreshAllAreas() {
      document.querySelectorAll("#loop .group[data-area]").forEach(function (group) {
        var trigger = (group.getAttribute("hx-trigger") || "").split(" ")[0];
        if (trigger) htmx.trigger(document.body, trigger);
      });
    }
    ["htmx:sendError", "htmx:timeout", "htmx:responseError"].forEach(function (name) {
      document.addEventListener(name, function (event) {
        if (isPulse(event)) markOffline();
        else if (isAreaRefresh(event)) refreshAgain = true;
      });
    });
    document.addEventListener("htmx:afterRequest", function (event) {
      if (!isPulse(event) || !event.detail.successful) return;
      lastSuccess = new Date();
      var badge = document.getElementById("offline");
      if (badge) badge.hidden = true;
      if (refreshAgain) { refreshAgain = false; refreshAllAreas(); }
      var code = event.detail.xhr.getResponseHeader("X-Kiosk-Code");
      if (code && code !== body.dataset.code) reloadWanted = true;
      keepForPowerCuts();
    });
    // Each pulse tells the server what the screen shows now (the street office sees it in the screen list).
    document.addEventListener("htmx:configRequest", function (event) {
      if (!isPulse(event)) return;
      var open = document.querySelector("#detail [data-detail-id]");
      var shown = body.classList.contains("night") ? "night"
        : (detailOpen() && open ? "open-" + open.dataset.detailId : currentId);
      if (shown) event.detail.parameters.slide = shown;
    });
    // Never swap anything but a good answer into the screen, with one exception: the vote keypad and ballot
    // answer a wrong, used or expired code (400), a refusal (403, 409) and "too many tries" (429) with a
    // sentence for the person standing there, and that answer replaces the reader they are looking at.
    document.addEventListener("htmx:beforeSwap", function (event) {
      var detail = event.detail;
      if (detail.xhr.status >= 400) {
        detail.shouldSwap = isKioskAnswer(detail);
        if (detail.shouldSwap) detail.isError = false;
      }
      // An empty answer never replaces anything (the pulse says "nothing changed" that way).
      if (!detail.serverResponse || !detail.serverResponse.trim()) detail.shouldSwap = false;
    });

    // After "too many tries", the keypad's 确定 waits out the Retry-After the server gave.
    document.addEventListener("htmx:afterSwap", function (event) {
      var xhr = event.detail.xhr;
      if (!xhr || xhr.status !== 429 || !event.detail.target || event.detail.target.id !== "detail") return;
      var seconds = Number(xhr.getResponseHeader("Retry-After")) || 0;
      var submit = document.querySelector("#detail .kiosk-code button[type=submit]");
      if (!submit || seconds <= 0) return;
      submit.disabled = true;
      setTimeout(function () { submit.disabled = false; }, Math.min(seconds, 600) * 1000);
    });

    // Reload (new code version) only after the server proves healthy, and only while nobody is reading.
    function maybeReload() {
      if (!reloadWanted || detailOpen() || Date.now() - lastTouch < 10000) return;
      // AbortController arrived in Chromium 66; an older WebView just waits for its own network time-out.
      var controller = window.AbortController ? new AbortController() : null;
      var timer = setTimeout(function () { if (controller) controller.abort(); }, 4000);
      fetch(body.dataset.health, { cache: "no-store", signal: controller ? controller.signal : undefined })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (health) { if (health && health.status === "ok") window.location.reload(); })
        .catch(function () {})
        .finally(function () { clearTimeout(timer); });
    }

    function minutes(text) { var p = text.split(":"); return Number(p[0]) * 60 + Number(p[1]); }
    function nightNow() {
      var start = body.dataset.nightStart, end = body.dataset.nightEnd;
      if (!start || !end || Date.now() < wokenUntil) return false;
      var now = minutes(hhmm(new Date()));
      var a = minutes(start), b = minutes(end);
      return a < b ? (now >= a && now < b) : (now >= a || now < b);
    }

    function tick() {
      var now = new Date();
      setText("#clock", hhmm(now));
      setText(".night-clock", hhmm(now));
      // A vote in progress at the screen has its own, shorter limit: the screen forgets the household.
      var voting = document.querySelector("#detail [data-idle-limit]");
      var limit = voting ? Number(voting.dataset.idleLimit) * 1000 : idleLimit;
      if (detailOpen() && Date.now() - lastTouch > limit) closeDetail(true);
      body.classList.toggle("night", nightNow() && !detailOpen());
      maybeReload();
    }

    // Keep this page and its files for a screen that boots before the server is back (static/js/screen-sw.js).
    // Service workers run only over https or on localhost; elsewhere docs/screens.md says what to set.
    var worker = null, keptAt = 0;
    function keepPage(withFiles) {
      if (!worker) return;
      var urls = [window.location.pathname];
      if (withFiles) {
        document.querySelectorAll("link[rel=stylesheet], link[rel=icon], script[src]").forEach(function (el) {
          urls.push(el.href || el.src);
        });
      }
      keptAt = Date.now();
      worker.postMessage({ keep: urls });
    }
    // Asked after the first good pulse: the page works and the server is there, and the first load stays as
    // light as it was. If fetching the worker fails (the server went away just then), a good pulse at least
    // ten seconds later asks again: otherwise the screen would never keep its loop until someone reloads it.
    var workerAsked = false, workerFailedAt = 0;
    function keepForPowerCuts() {
      if (workerAsked || !body.dataset.worker || !window.navigator.serviceWorker) return;
      if (workerFailedAt && Date.now() - workerFailedAt < 10000) return;
      workerAsked = true;
      navigator.serviceWorker.register(body.dataset.worker)
        .then(function () { return navigator.serviceWorker.ready; })
        .then(function (registration) { worker = registration.active; keepPage(true); })
        .catch(function () { workerAsked = false; workerFailedAt = Date.now(); });
    }
    // New slides: keep the page again (at most once a minute), so a reboot shows the newest loop.
    document.addEventListener("htmx:afterSwap", function (event) {
      if (event.detail.target && event.detail.target.id === "pulse" && Date.now() - keptAt > 60000) keepPage(false);
    });

    show(0);
    tick();
    setInterval(tick, 1000);
    restartLoop();
    // screen-check.js looks for this: the loop, idle return and offline badge run in this browser.
    window.kioskScreenStarted = true;
  }
})();
