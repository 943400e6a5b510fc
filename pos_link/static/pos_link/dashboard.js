// POS dashboard: clicking a transaction moves the timeline's seek position to its time (no reload
// when the time is inside the shown range; otherwise the link reloads the page centred on it).
// The player itself is plugged in later: it listens for the "pos:seek" event on #pos-player.
(function () {
  "use strict";
  var timeline = document.getElementById("pos-timeline");
  var seek = document.getElementById("pos-seek");
  var label = document.getElementById("pos-seek-label");
  var player = document.getElementById("pos-player");
  if (!timeline || !seek) return;
  var start = Date.parse(timeline.dataset.start);
  var end = Date.parse(timeline.dataset.end);

  function moveTo(when, text) {
    var left = ((when - start) / (end - start)) * 100;
    seek.hidden = false;
    seek.style.left = left.toFixed(3) + "%";
    seek.dataset.at = new Date(when).toISOString();
    if (label) label.textContent = text;
    if (player) player.dispatchEvent(new CustomEvent("pos:seek", { detail: { at: new Date(when) } }));
  }

  document.querySelectorAll(".pos-tx-link").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var when = Date.parse(link.dataset.at);
      if (isNaN(when) || when < start || when > end) return; // outside: let the page re-centre
      event.preventDefault();
      moveTo(when, link.dataset.label);
      document.querySelectorAll(".pos-tx.selected").forEach(function (li) { li.classList.remove("selected"); });
      link.parentElement.classList.add("selected");
      var url = new URL(link.href);
      history.replaceState(null, "", url.pathname + url.search + url.hash);
    });
  });

  timeline.addEventListener("click", function (event) {
    var box = timeline.getBoundingClientRect();
    var when = start + ((event.clientX - box.left) / box.width) * (end - start);
    var d = new Date(when);
    var pad = function (n) { return String(n).padStart(2, "0"); };
    moveTo(when, d.getFullYear() + "/" + pad(d.getMonth() + 1) + "/" + pad(d.getDate()) + " " +
      pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()));
  });
})();
