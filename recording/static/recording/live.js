// Live view: hls.js (served from this site) on the camera's stream-copy HLS, about a second behind
// the live edge (2-4 s glass to glass); a picture every 2 s where HLS cannot play.
(function () {
  "use strict";
  var video = document.getElementById("live-video");
  if (!video) return;
  var status = document.getElementById("live-status");
  var snapshot = document.getElementById("live-snapshot");
  var token = video.dataset.token;
  var playlist = video.dataset.playlist;

  function say(key) { status.textContent = status.dataset[key]; }

  function fallback() {
    video.hidden = true;
    snapshot.hidden = false;
    say("fallback");
    var refresh = function () { snapshot.src = video.dataset.snapshot + "?t=" + Date.now(); };
    refresh();
    setInterval(refresh, 2000);
  }

  // Media tokens live minutes; the page may stay open for hours. Fetch a fresh one regularly and
  // put it into every request hls.js makes.
  setInterval(function () {
    fetch(video.dataset.tokenUrl, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) token = data.token; });
  }, 120000);
  var firstToken = token;

  if (window.Hls && window.Hls.isSupported()) {
    var hls = new window.Hls({
      // At the live edge (issue #18): start 1 s behind the newest segment's end (1 s segments), catch
      // up by playing faster when it drifts, and jump back to that point when more than 2.5 s behind.
      startPosition: -1,
      liveSyncDuration: 1.0,
      liveMaxLatencyDuration: 2.5,
      maxLiveSyncPlaybackRate: 1.25,
      backBufferLength: 0,
      manifestLoadingMaxRetry: 20,
      manifestLoadingRetryDelay: 1000,
      levelLoadingMaxRetry: 20,
      xhrSetup: function (xhr, url) { xhr.open("GET", url.replace(firstToken, token), true); },
    });
    // The worker starts the stream on demand: until its playlist exists the server answers 404,
    // which hls.js does not retry itself. Wait for it up to a minute (a busy worker, a camera that
    // takes a while to send its first keyframe); other fatal errors get three more tries.
    var fatal = 0;
    var starting = 0;
    var MAX_STARTING = 30;  // × 2 s
    hls.on(window.Hls.Events.MANIFEST_PARSED, function () { video.play().catch(function () {}); });
    hls.on(window.Hls.Events.FRAG_BUFFERED, function () { say("playing"); fatal = 0; starting = 0; });
    hls.on(window.Hls.Events.ERROR, function (_e, data) {
      if (!data.fatal) return;
      var notYet = data.details === window.Hls.ErrorDetails.MANIFEST_LOAD_ERROR &&
        data.response && data.response.code === 404;
      if (notYet) { starting += 1; } else { fatal += 1; }
      if (fatal > 3 || starting > MAX_STARTING) { hls.destroy(); fallback(); return; }
      setTimeout(function () { hls.loadSource(playlist); hls.startLoad(); }, 2000);
    });
    hls.loadSource(playlist);
    hls.attachMedia(video);
  } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
    video.src = playlist;  // Safari plays HLS natively
    video.addEventListener("playing", function () { say("playing"); });
    video.addEventListener("error", fallback);
  } else {
    fallback();
  }
})();
