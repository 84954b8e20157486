/* Print views: a "打印" button opens the browser's print dialog. The button stays hidden until this script runs,
   so a browser without scripts (or without a print dialog, as WeChat's: the page says so instead) never shows
   a button that does nothing. */
(function () {
  "use strict";
  var buttons = document.querySelectorAll("[data-print]");
  for (var i = 0; i < buttons.length; i++) {
    if (typeof window.print !== "function") { continue; }
    buttons[i].hidden = false;
    buttons[i].addEventListener("click", function () { window.print(); });
  }
}());
