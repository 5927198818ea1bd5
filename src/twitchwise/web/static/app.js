/* twitchwise: the only script of our own. After htmx swaps in new content, move the
   keyboard and screen-reader focus to it (the element marked data-focus), so the answer or
   the next question is read out and scrolled into view. Everything works without it. */
(function () {
  "use strict";
  document.addEventListener("htmx:after:swap", function () {
    var target = document.querySelector("[data-focus]:not([data-focused])");
    if (target) {
      target.setAttribute("data-focused", "");
      target.focus();
    }
  });
})();
