// The ledger's checks that run on the resident's own phone, trusting neither the server's verdict nor its
// arithmetic (the recipe is docs/ledger-hashing.md):
// - [data-ledger-check]: fetch one period's stretch of the hash chain as JSON, recompute it with WebCrypto
//   and compare the result with the code printed on the paper notice (the QR's n and h);
// - [data-ledger-memory]: remember the newest entry this phone has seen and warn when the server later shows
//   fewer entries, or another hash for one it saw.
// Written for Chromium 65 (frozen kiosk WebViews, old phones): ES2017 at most, no ?. or ??, no libraries.
(function () {
  "use strict";

  var GENESIS = new Array(65).join("0");
  var KEEP_CHECKS = 24; // periods whose verified hashes a phone remembers

  function show(root, name, values) {
    var node = root.querySelector('[data-show="' + name + '"]');
    if (!node) return null;
    if (values) {
      if (!node.hasAttribute("data-template")) node.setAttribute("data-template", node.textContent);
      node.textContent = node.getAttribute("data-template").replace(/\{(\w+)\}/g, function (all, key) {
        return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : all;
      });
    }
    node.hidden = false;
    return node;
  }

  function hide(root, name) {
    var node = root.querySelector('[data-show="' + name + '"]');
    if (node) node.hidden = true;
  }

  function remembered(key) {
    try {
      return JSON.parse(window.localStorage.getItem(key) || "null");
    } catch (error) {
      return null;
    }
  }

  function remember(key, value) {
    try {
      window.localStorage.setItem(key, JSON.stringify(value));
    } catch (error) {
      // private mode or a full storage: the check still works, it just is not remembered
    }
  }

  // ---- The recipe. ----

  // The exact text Python's json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
  // gives: keys sorted, no spaces, characters as they are (JSON.stringify escapes strings the same way).
  function canonical(value) {
    if (value === null || typeof value !== "object") return JSON.stringify(value);
    if (Array.isArray(value)) return "[" + value.map(canonical).join(",") + "]";
    return "{" + Object.keys(value).sort().map(function (key) {
      return JSON.stringify(key) + ":" + canonical(value[key]);
    }).join(",") + "}";
  }

  function sha256(text) {
    return window.crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)).then(function (buffer) {
      var bytes = new Uint8Array(buffer);
      var hex = "";
      for (var i = 0; i < bytes.length; i++) hex += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
      return hex;
    });
  }

  // Recipe 1: sha256(prev + "\n" + fields); recipe 2 ("v": 2): sha256(prev + "\n" + sha256(fields)).
  function entryHash(prev, fields) {
    var text = canonical(fields);
    if ((fields.v || 1) >= 2) {
      return sha256(text).then(function (digest) { return sha256(prev + "\n" + digest); });
    }
    return sha256(prev + "\n" + text);
  }

  function yuan(fen) {
    var sign = fen < 0 ? "-" : "";
    var abs = Math.abs(fen);
    var whole = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    var cents = String(abs % 100);
    return sign + "¥" + whole + "." + (cents.length < 2 ? "0" + cents : cents);
  }

  // ---- The check against the paper. ----

  function paperCode() {
    var params = new URLSearchParams(window.location.search);
    var hash = (params.get("h") || "").trim().toLowerCase();
    var number = parseInt(params.get("n") || "", 10);
    if (!/^[0-9a-f]{8,64}$/.test(hash)) return null;
    return {hash: hash, number: isNaN(number) ? null : number};
  }

  // Walk the stretch in order; resolve with what was found: the recomputed end, the first entry whose
  // content no longer gives its hash, a missing number, the last entry the phone had to take on trust.
  function walk(data) {
    var result = {prev: data.start.hash, changed: null, missing: null, blind: null, blindWhy: null,
                  income: 0, expense: 0, own: 0, hashes: {}};
    var expected = data.start.number + 1;
    var entries = data.entries;
    function step(index) {
      if (index >= entries.length) return Promise.resolve(result);
      var entry = entries[index];
      if (entry.number !== expected && result.missing === null) result.missing = expected;
      expected = entry.number + 1;
      var next;
      if (entry.fields) {
        next = entryHash(result.prev, entry.fields).then(function (hash) {
          if (hash !== entry.hash && result.changed === null) result.changed = entry.number;
          if (entry.in_period) {
            result.own += 1;
            if (entry.fields.kind === "income") result.income += entry.fields.amount_fen;
            else result.expense += entry.fields.amount_fen;
          }
          return hash;
        });
      } else if (entry.digest) {
        next = sha256(result.prev + "\n" + entry.digest);
      } else {
        result.blind = entry.number;
        result.blindWhy = entry.sealed;
        if (entry.in_period) result.own += 1;
        next = Promise.resolve(entry.hash);
      }
      return next.then(function (hash) {
        result.prev = hash;
        result.hashes[entry.number] = hash;
        return step(index + 1);
      });
    }
    return step(0);
  }

  function firstForgotten(memory, hashes) {
    if (!memory || !memory.hashes) return null;
    var numbers = Object.keys(memory.hashes).map(Number).sort(function (a, b) { return a - b; });
    for (var i = 0; i < numbers.length; i++) {
      var n = numbers[i];
      if (hashes[n] !== undefined && hashes[n] !== memory.hashes[n]) return n;
    }
    return null;
  }

  function pruneChecks(prefix) {
    var found = [];
    for (var i = 0; i < window.localStorage.length; i++) {
      var key = window.localStorage.key(i);
      if (key && key.indexOf(prefix) === 0) found.push({key: key, at: (remembered(key) || {}).at || 0});
    }
    found.sort(function (a, b) { return b.at - a.at; });
    found.slice(KEEP_CHECKS).forEach(function (item) { window.localStorage.removeItem(item.key); });
  }

  function report(root, data, paper, found) {
    var first = data.start.number + 1;
    var last = data.period.head_number;
    var key = "kiosk-ledger-check:" + root.getAttribute("data-compound") + ":" + root.getAttribute("data-period");
    var memory = remembered(key);
    var matches = found.prev.indexOf(paper.hash) === 0 && found.prev.length === 64;
    var bad = false;
    if (paper.number !== null && paper.number !== last) {
      show(root, "other-head", {n: paper.number, now: last});
      bad = true;
    }
    if (found.missing !== null) {
      show(root, "missing", {n: found.missing});
      bad = true;
    }
    if (found.changed !== null) {
      show(root, "changed", {n: found.changed});
      bad = true;
    }
    if (!matches) {
      var forgotten = firstForgotten(memory, found.hashes);
      if (forgotten !== null) {
        show(root, "remembered", {n: forgotten, day: new Date(memory.at).toLocaleDateString("zh-CN")});
      } else if (!bad) {
        show(root, "mismatch", {got: found.prev.slice(0, 12).toUpperCase(), code: paper.hash.slice(0, 12).toUpperCase(),
                                first: first, last: last});
      }
      bad = true;
    }
    if (found.blind !== null) {
      show(root, found.blindWhy === "undisclosed" ? "undisclosed" : "blind", {n: found.blind, first: first});
    }
    if (bad) {
      show(root, "report");
      return;
    }
    if (found.blind !== null && found.blind < last) {
      show(root, "rest", {after: found.blind + 1, last: last});
    } else if (found.blind === null) {
      show(root, "ok", {first: first, last: last, count: data.entries.length, own: found.own});
      show(root, "totals", {income: yuan(found.income), expense: yuan(found.expense)});
      remember(key, {h: paper.hash, at: Date.now(), hashes: found.hashes});
      pruneChecks("kiosk-ledger-check:");
    }
  }

  function startCheck(root) {
    var paper = paperCode();
    if (!paper) {
      hide(root, "working");
      show(root, "ask");
      return;
    }
    show(root, "paper", {code: paper.hash.slice(0, 12).toUpperCase(), n: paper.number === null ? "?" : paper.number});
    if (!window.crypto || !window.crypto.subtle || window.isSecureContext === false) {
      hide(root, "working");
      show(root, "insecure");
      return;
    }
    fetch(root.getAttribute("data-chain-url"), {credentials: "same-origin", cache: "no-store"})
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        return walk(data).then(function (found) {
          hide(root, "working");
          report(root, data, paper, found);
          root.setAttribute("data-done", "true");
        });
      })
      .catch(function () {
        hide(root, "working");
        show(root, "failed");
        root.setAttribute("data-done", "true");
      });
  }

  // ---- The phone remembers the newest entry it has seen. ----

  function startMemory(root) {
    var key = "kiosk-ledger-head:" + root.getAttribute("data-compound");
    var seen = remembered(key);
    var url = root.getAttribute("data-head-url") + (seen && seen.n ? "?n=" + seen.n : "");
    fetch(url, {credentials: "same-origin", cache: "no-store"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (head) {
        if (!head) return;
        if (seen && seen.n > head.number) {
          show(root, "deleted", {seen: seen.n, now: head.number});
        } else if (seen && seen.n && (!head.at || head.at.hash !== seen.h)) {
          show(root, "rewritten", {seen: seen.n});
        } else {
          remember(key, {n: head.number, h: head.hash, at: Date.now()});
        }
        root.setAttribute("data-done", "true");
      })
      .catch(function () { root.setAttribute("data-done", "true"); });
  }

  function start() {
    var checks = document.querySelectorAll("[data-ledger-check]:not([data-started])");
    for (var i = 0; i < checks.length; i++) {
      checks[i].setAttribute("data-started", "true");
      startCheck(checks[i]);
    }
    var memories = document.querySelectorAll("[data-ledger-memory]:not([data-started])");
    for (var j = 0; j < memories.length; j++) {
      memories[j].setAttribute("data-started", "true");
      startMemory(memories[j]);
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
  document.addEventListener("htmx:afterSettle", start);
  window.kioskLedger = {canonical: canonical, entryHash: entryHash, genesis: GENESIS};
})();
