// Two ES2019 built-ins that htmx 2 calls and frozen WebViews lack: Array.prototype.flat (Chromium 69) and
// Object.fromEntries (Chromium 73). scripts/vendor-htmx.sh puts this, minified, in front of the vendored htmx
// (lowered to Chromium 65 syntax): syntax lowering cannot add library functions, and a separate file would cost
// every page one more request. ES5 on purpose: it must run on anything that loads the page.
(function () {
  "use strict";

  function define(owner, name, value) {
    if (owner[name]) return;
    Object.defineProperty(owner, name, { value: value, configurable: true, writable: true });
  }

  define(Array.prototype, "flat", function (depth) {
    var limit = depth === undefined ? 1 : Math.floor(Number(depth)) || 0;
    var out = [];
    function add(list, level) {
      for (var i = 0; i < list.length; i++) {
        if (!(i in list)) continue;
        if (Array.isArray(list[i]) && level < limit) add(list[i], level + 1);
        else out.push(list[i]);
      }
    }
    add(this, 0);
    return out;
  });

  define(Object, "fromEntries", function (entries) {
    // htmx passes FormData, which is iterable but not array-like: walk it with its iterator.
    var out = {};
    var iterator = entries[Symbol.iterator]();
    for (var step = iterator.next(); !step.done; step = iterator.next()) out[step.value[0]] = step.value[1];
    return out;
  });
})();
