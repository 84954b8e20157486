// The lobby screen's first script: can this browser keep the screen live? Frozen Android WebViews (Chromium
// 60s-80s) that cannot run htmx would go on showing the slides they loaded, for months, looking alive. Where
// live updates cannot run, cover the screen with a plain notice saying so, and tell the server (the committee
// sees it in the screen list). Strict ES5, no library: it must run on the oldest browser that opens the page.
(function () {
  "use strict";
  var pulseSeen = false;

  function missingBasics() {
    var missing = [];
    if (!window.fetch) missing.push("fetch");
    if (!window.Promise) missing.push("Promise");
    if (!window.Proxy) missing.push("Proxy");
    if (typeof window.CustomEvent !== "function") missing.push("CustomEvent");
    if (!window.Element || !Element.prototype.closest) missing.push("closest");
    try {
      new Intl.DateTimeFormat("zh-CN", { timeZone: "Asia/Shanghai" });
    } catch (e) {
      missing.push("Intl");
    }
    return missing;
  }

  function engine() {
    var match = /Chrom(?:e|ium)\/(\d+)/.exec(navigator.userAgent);
    return match ? "Chrome " + match[1] : navigator.userAgent.slice(0, 60);
  }

  // Tell the server this screen cannot update itself; reload when the server runs another release (which may
  // work here), and keep the last-contact time fresh meanwhile.
  function report() {
    var pulse = document.getElementById("pulse");
    var url = pulse && pulse.getAttribute("hx-get");
    if (!url) return;
    var request = new XMLHttpRequest();
    request.open("GET", url + (url.indexOf("?") < 0 ? "?" : "&") + "live=0", true);
    request.onload = function () {
      var code = request.getResponseHeader("X-Kiosk-Code");
      if (request.status === 200 && code && code !== document.body.getAttribute("data-code")) {
        window.location.reload();
      }
    };
    request.send();
  }

  function tooOld(missing) {
    var note = document.getElementById("too-old");
    if (!note || !note.hasAttribute("hidden")) return;
    note.removeAttribute("hidden");
    var detail = note.querySelector(".too-old-engine");
    if (detail) detail.appendChild(document.createTextNode(engine() + " · " + missing.join(", ")));
    report();
    setInterval(report, 60000);
  }

  // htmx announces every pulse it sends (even one that fails because the server is away).
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.target && event.target.id === "pulse") pulseSeen = true;
  });

  window.addEventListener("load", function () {
    var missing = missingBasics();
    if (!window.htmx) missing.push("htmx");
    if (!window.kioskScreenStarted) missing.push("kiosk.js");
    if (missing.length) {
      tooOld(missing);
      return;
    }
    // Everything loaded; the proof is a pulse actually sent within a few intervals.
    var seconds = Number(document.body.getAttribute("data-poll")) || 2;
    setTimeout(function () {
      if (!pulseSeen) tooOld(["pulse"]);
    }, (seconds * 3 + 2) * 1000);
  });
})();
