/* Live countdowns on the owner's pages: drops to come and lease timers.
 *
 * The server renders each countdown's value (the truth without JavaScript) with the
 * moment it counts to (data-until) and the server's own now (data-now). This script
 * counts down from the server's now, not the phone's clock, which may be wrong. The
 * timers themselves are not read out each second (role="timer"); when one reaches zero,
 * the page's polite status region (#drop-news) says so once (in the timer's own words,
 * data-done-text, else the region's), and a reload link shows.
 */
(function () {
  "use strict";

  var timers = Array.prototype.slice.call(document.querySelectorAll(".countdown[data-until][data-now]"));
  if (!timers.length) {
    return;
  }
  var started = performance.now();

  function text(milliseconds) {
    var seconds = Math.max(0, Math.ceil(milliseconds / 1000));
    var hours = Math.floor(seconds / 3600);
    var minutes = Math.floor((seconds % 3600) / 60);
    var rest = seconds % 60;
    return hours + ":" + (minutes < 10 ? "0" : "") + minutes + ":" + (rest < 10 ? "0" : "") + rest;
  }

  var state = timers.map(function (timer) {
    return {
      element: timer,
      until: Date.parse(timer.getAttribute("data-until")),
      now: Date.parse(timer.getAttribute("data-now")),
      done: false
    };
  });

  function announce(timer) {
    var news = document.getElementById("drop-news");
    if (news) {
      news.textContent = timer.getAttribute("data-done-text") || news.getAttribute("data-open-text") || "";
    }
    var reload = document.getElementById("drop-reload");
    if (reload) {
      reload.hidden = false;
    }
  }

  function tick() {
    var elapsed = performance.now() - started;
    var running = false;
    state.forEach(function (timer) {
      if (timer.done) {
        return;
      }
      var left = timer.until - (timer.now + elapsed);
      timer.element.textContent = text(left);
      if (left <= 0) {
        timer.done = true;
        timer.element.classList.add("is-over");
        announce(timer.element);
      } else {
        running = true;
      }
    });
    if (running) {
      window.setTimeout(tick, 1000 - (elapsed % 1000));
    }
  }

  tick();
})();
