// The player: one day of 1-minute files (continuous) or event clips, a timeline of the whole day
// with motion in red, click to seek, previous / next file, play / pause, mute.
(function () {
  "use strict";
  var video = document.getElementById("player-video");
  var dataNode = document.getElementById("player-data");
  if (!video || !dataNode) return;
  var data = JSON.parse(dataNode.textContent);
  var files = data.view === "event" ? data.clips : data.segments;
  var timeline = document.getElementById("timeline");
  var cursor = timeline.querySelector(".timeline-cursor");
  var clock = document.getElementById("player-time");
  var DAY = 86400;
  var current = -1;

  // The timeline is a slider over the day's seconds (aria-valuenow): arrows move a minute (continuous)
  // or to the previous / next clip (events), Page Up / Down ten minutes, Home / End the first / last file.
  function hms(s) {
    return [Math.floor(s / 3600), Math.floor(s / 60) % 60, s % 60]
      .map(function (n) { return (n < 10 ? "0" : "") + n; }).join(":");
  }
  function position() {
    return current < 0 ? data.dayStart : files[current].start + video.currentTime;
  }
  function showPosition(t) {
    var s = Math.max(0, Math.min(DAY, Math.floor(t - data.dayStart)));
    timeline.setAttribute("aria-valuenow", s);
    timeline.setAttribute("aria-valuetext", hms(s));
    return s;
  }

  function pct(t) { return Math.max(0, Math.min(100, ((t - data.dayStart) / DAY) * 100)) + "%"; }

  files.forEach(function (f) {
    var bar = document.createElement("div");
    bar.className = "timeline-file";
    bar.style.left = pct(f.start);
    bar.style.width = Math.max(0.05, (f.duration / DAY) * 100) + "%";
    timeline.appendChild(bar);
  });
  data.motions.forEach(function (t) {
    var mark = document.createElement("div");
    mark.className = "timeline-motion";
    mark.style.left = pct(t);
    timeline.appendChild(mark);
  });

  function load(index, offset, play) {
    if (index < 0 || index >= files.length) return;
    current = index;
    var f = files[index];
    if (video.dataset.src !== f.url) { video.src = f.url; video.dataset.src = f.url; }
    var download = document.getElementById("player-download");
    if (download && f.download) download.href = f.download;  // "download this file": the file on screen
    showSound(f);
    var seek = function () {
      video.currentTime = Math.max(0, Math.min(offset || 0, (video.duration || f.duration) - 0.1));
      if (play) video.play().catch(function () {});
    };
    if (video.readyState >= 1 && video.dataset.loaded === f.url) seek();
    else video.addEventListener("loadedmetadata", function once() {
      video.removeEventListener("loadedmetadata", once); video.dataset.loaded = f.url; seek();
    });
  }

  function seekTo(t) {
    // The file holding t, else the next one after it (a gap in the recording).
    for (var i = 0; i < files.length; i++) {
      if (t < files[i].start + files[i].duration) { load(i, Math.max(0, t - files[i].start), true); return; }
    }
  }

  function playClip(index) {
    var c = files[index];
    load(index, Math.max(0, c.motion - c.start - data.leadSeconds), true);  // a little before the detection
  }

  timeline.addEventListener("click", function (e) {
    var box = timeline.getBoundingClientRect();
    var t = data.dayStart + ((e.clientX - box.left) / box.width) * DAY;
    if (data.view === "event") {
      var best = 0;
      files.forEach(function (c, i) { if (Math.abs(c.motion - t) < Math.abs(files[best].motion - t)) best = i; });
      playClip(best);
    } else seekTo(t);
  });
  timeline.addEventListener("keydown", function (e) {
    var steps = { ArrowRight: 60, ArrowUp: 60, ArrowLeft: -60, ArrowDown: -60, PageUp: 600, PageDown: -600 };
    if (e.key === "Home" || e.key === "End") {
      var edge = e.key === "Home" ? 0 : files.length - 1;
      data.view === "event" ? playClip(edge) : load(edge, 0, true);
    } else if (steps[e.key] === undefined) {
      return;
    } else if (data.view === "event") {
      var n = Math.max(0, Math.min(files.length - 1, current + (steps[e.key] > 0 ? 1 : -1)));
      playClip(n);
    } else {
      seekTo(Math.max(data.dayStart, position() + steps[e.key]));
    }
    e.preventDefault();
  });
  document.querySelectorAll("[data-clip]").forEach(function (b) {
    b.addEventListener("click", function () { playClip(parseInt(b.dataset.clip, 10)); });
  });
  var playButton = document.querySelector('[data-action="play"]');
  var muteButton = document.querySelector('[data-action="mute"]');
  playButton.addEventListener("click", function () {
    if (current < 0) { data.view === "event" ? playClip(0) : load(0, 0, true); return; }
    if (video.paused) video.play(); else video.pause();
  });
  document.querySelector('[data-action="prev"]').addEventListener("click", function () {
    data.view === "event" ? playClip(Math.max(0, current - 1)) : load(Math.max(0, current - 1), 0, true);
  });
  document.querySelector('[data-action="next"]').addEventListener("click", function () {
    var n = Math.min(files.length - 1, current + 1);
    data.view === "event" ? playClip(n) : load(n, 0, true);
  });
  // Mute is a toggle button (aria-pressed: the sound is off); a file recorded without sound disables it
  // and says why (f.audio false; null: not known, the button stays).
  var noSound = document.getElementById("player-no-sound");
  function showSound(f) {
    var silent = f.audio === false;
    muteButton.disabled = silent;
    noSound.hidden = !silent;
    if (silent) muteButton.setAttribute("aria-describedby", "player-no-sound");
    else muteButton.removeAttribute("aria-describedby");
  }
  muteButton.addEventListener("click", function () {
    video.muted = !video.muted;
  });
  video.addEventListener("volumechange", function () {
    muteButton.setAttribute("aria-pressed", video.muted ? "true" : "false");
  });
  video.addEventListener("play", function () { playButton.textContent = playButton.dataset.pause; });
  video.addEventListener("pause", function () { playButton.textContent = playButton.dataset.play; });
  video.addEventListener("ended", function () {
    if (data.view !== "event" && current + 1 < files.length) load(current + 1, 0, true);  // continuous
  });
  video.addEventListener("timeupdate", function () {
    if (current < 0) return;
    var t = position();
    cursor.style.left = pct(t);
    // The portal's time zone, like every other time on the page (the day starts at its midnight),
    // not the browser's: an operator abroad must see the times the recordings are filed under.
    clock.textContent = hms(showPosition(t));
  });
  if (files.length) load(data.view === "event" ? 0 : files.length - 1, 0, false);
})();
