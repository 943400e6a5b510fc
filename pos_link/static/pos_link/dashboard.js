// POS dashboard: with no transaction selected the player shows the camera's live video (recording's
// live player, recording/live.js, on #live-video). Clicking a transaction moves the timeline's seek
// position to its time (no reload when the time is inside the shown range; otherwise the link
// reloads the page centred on it) and switches the player to the recording of that moment: it
// asks which recording segment covers it (the segment file is served by recording's authorized
// view), seeks to the offset and at the end of a segment goes on with the next one. "Live" returns.
(function () {
  "use strict";
  var player = document.getElementById("pos-player");
  var video = document.getElementById("pos-video");
  var message = document.getElementById("pos-player-message");
  var live = document.getElementById("pos-live");
  var liveVideo = document.getElementById("live-video");
  var liveButton = document.getElementById("pos-live-button");
  var label = document.getElementById("pos-seek-label");
  if (!player || !video) return;
  var current = null;
  var asked = 0;

  function leaveLive() {
    if (live) live.hidden = true;
    if (liveVideo) liveVideo.pause();
    if (liveButton) liveButton.hidden = false;
  }

  function goLive() {
    asked++; // answers still on their way are for the recording: ignore them
    current = null;
    video.pause();
    video.hidden = true;
    if (message) message.hidden = true;
    if (live) live.hidden = false;
    if (liveVideo) { var p = liveVideo.play(); if (p && p.catch) p.catch(function () {}); }
    if (liveButton) liveButton.hidden = true;
    if (label) label.textContent = label.dataset.live;
    var seek = document.getElementById("pos-seek");
    if (seek) seek.hidden = true;
    document.querySelectorAll(".pos-tx.selected").forEach(function (li) { li.classList.remove("selected"); });
    var url = new URL(window.location.href);
    url.searchParams.delete("at");
    url.hash = "";
    history.replaceState(null, "", url.pathname + url.search);
    player.dataset.mode = "live";
  }

  function show(text) {
    video.pause();
    video.hidden = true;
    if (message) { message.textContent = text; message.hidden = false; }
  }

  function play(info) {
    current = info;
    player.dataset.mode = "recording";
    if (message) message.hidden = true;
    video.hidden = false;
    video.dataset.offset = String(info.offset);
    var seekNow = function () {
      video.currentTime = info.offset;
      var started = video.play();
      if (started && started.catch) started.catch(function () {}); // autoplay refused: the user presses play
    };
    if (video.getAttribute("src") === info.url && video.readyState >= 1) {
      seekNow();
    } else {
      video.addEventListener("loadedmetadata", seekNow, { once: true });
      video.src = info.url;
    }
  }

  var waiting = false; // a load is on its way

  function load(at) {
    var mine = ++asked; // only the latest click wins when answers cross
    waiting = true;
    var url = player.dataset.segmentUrl + "?at=" + encodeURIComponent(at.toISOString());
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (answer) {
        if (mine !== asked) return;
        waiting = false;
        if (answer.ok) play(answer.body); else show(answer.body.detail || "");
      })
      .catch(function () { if (mine === asked) { waiting = false; show(""); } });
  }

  player.addEventListener("pos:seek", function (event) { leaveLive(); load(event.detail.at); });
  if (liveButton) liveButton.addEventListener("click", goLive);
  player.dataset.mode = player.dataset.at ? "recording" : (live ? "live" : "idle");
  video.addEventListener("ended", function () {
    // Continue with the next minute, unless the viewer's own choice is on its way: a file that ends while
    // a clicked transaction is being looked up must not take its place.
    if (current && !waiting) load(new Date(Date.parse(current.end) + 1));
  });
  if (player.dataset.at) { leaveLive(); load(new Date(player.dataset.at)); }
})();

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
