// The monitoring screen (manual 003 §2): pause and resume the minute refresh, and show the frame full
// screen. live.js refreshes every element carrying data-live; pausing renames the frame's attribute so
// live.js leaves it alone, resuming gives it back (the next minute brings the newest frame again).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var controls = document.querySelector("[data-monitoring-controls]");
    if (!controls) return;
    var region = document.getElementById("monitoring-frame");
    var pause = controls.querySelector("[data-action=pause]");
    var full = controls.querySelector("[data-action=fullscreen]");
    var status = controls.querySelector("[data-pause-status]");
    controls.hidden = false;

    pause.addEventListener("click", function () {
      var live = document.getElementById("monitoring-frame");
      var paused = pause.getAttribute("aria-pressed") === "true";
      if (paused) {
        live.setAttribute("data-live", live.getAttribute("data-live-paused") || "frame");
        live.removeAttribute("data-live-paused");
      } else {
        live.setAttribute("data-live-paused", live.getAttribute("data-live") || "frame");
        live.removeAttribute("data-live");
      }
      pause.setAttribute("aria-pressed", paused ? "false" : "true");
      pause.textContent = paused ? pause.dataset.pauseLabel : pause.dataset.playLabel;
      status.textContent = paused ? status.dataset.running : status.dataset.paused;
    });

    if (!document.fullscreenEnabled || !region.requestFullscreen) {
      full.hidden = true;
      return;
    }
    full.addEventListener("click", function () {
      var target = document.getElementById("monitoring-frame");
      if (document.fullscreenElement) document.exitFullscreen();
      else target.requestFullscreen();
    });
  });
})();
