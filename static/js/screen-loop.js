// The order of the lobby screen's loop: open votes and urgent slides ("priority") come round at least once a
// minute however many slides the loop has, by putting all of them before every run of ordinary slides that
// fits in the minute. A pure function (strict ES5, no DOM) so tests/test_screen_loop_order.py runs it in Node.
(function (root) {
  "use strict";

  // flags[i] is true for a priority slide; returns the indexes of flags in the order to show them (a priority
  // slide appears once per run). Each priority slide comes back within `every` seconds when there is room for
  // all of them plus one ordinary slide; otherwise one ordinary slide still follows each round of them.
  function buildLoop(flags, dwellSeconds, every) {
    var priority = [], ordinary = [], order = [], i, start;
    for (i = 0; i < flags.length; i++) (flags[i] ? priority : ordinary).push(i);
    if (!priority.length || !ordinary.length) return priority.concat(ordinary);
    var room = Math.floor((every || 60) / Math.max(1, dwellSeconds)) - priority.length;
    var run = Math.max(1, room);
    for (start = 0; start < ordinary.length; start += run) {
      order = order.concat(priority, ordinary.slice(start, start + run));
    }
    return order;
  }

  if (typeof module === "object" && module.exports) module.exports = buildLoop;
  else root.kioskBuildLoop = buildLoop;
})(this);
