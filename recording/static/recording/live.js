// Live view, three paths, the first that works:
// 1. Low latency: the camera's own video as fragmented MP4 (stream copy, no decode on the server) over a
//    WebSocket (/ws/live/<camera>/), played through Media Source Extensions at the live edge: under a
//    second glass to glass. On iOS and iPadOS only through ManagedMediaSource (17.1+), else HLS there.
// 2. HLS: hls.js (served from this site), or Safari's own HLS where there is no MediaSource; about a
//    second behind the newest segment (2-4 s glass to glass). Also where the socket does not work: no
//    WebSocket, no socket route (a 404 on the upgrade), a refusal for too many sockets (4429).
// 3. A picture every 2 s where no video can play.
// The page names the path that plays, says "starting" until the first fresh frame, says when the camera
// is offline and resumes by itself when it is back.
(function () {
  "use strict";

  // iOS or iPadOS: an iPhone, iPad or iPod in the user agent, or (iPadOS 13+, which asks for the desktop
  // site) a Mac's platform with a touch screen, which no Mac has.
  function appleMobile(nav) {
    if (/\b(iPhone|iPad|iPod)\b/.test(nav.userAgent || "")) return true;
    return /^Mac/.test(nav.platform || "") && (nav.maxTouchPoints || 0) > 1;
  }

  // The players for this browser (issue #18), from what they depend on: `env` holds navigator
  // (userAgent, platform, maxTouchPoints), ManagedMediaSource, MediaSource, WebSocket, hlsJs (hls.js is
  // supported here) and nativeHls (video.canPlayType of an HLS playlist). Returns {source: the
  // MediaSource of the low-latency path, or null: none here; hls: "hlsjs" | "native" | null}.
  // On iOS and iPadOS the low-latency path plays only through ManagedMediaSource (17.1+); with a plain
  // MediaSource (iPadOS 13-16) the page plays HLS. hls.js before Safari's own HLS: it waits for a
  // playlist that is not there yet (a 404 while the stream starts).
  function choosePlayers(env) {
    var apple = appleMobile(env.navigator || {});
    var source = env.WebSocket ? env.ManagedMediaSource || (apple ? null : env.MediaSource) || null : null;
    var hls = env.hlsJs ? "hlsjs" : env.nativeHls ? "native" : null;
    return { source: source, hls: hls };
  }
  window.liveView = { choosePlayers: choosePlayers };

  var video = document.getElementById("live-video");
  if (!video) return;
  var status = document.getElementById("live-status");
  var pathLabel = document.getElementById("live-path");
  var muteButton = document.getElementById("live-mute");
  var h264Button = document.getElementById("live-h264");
  var h264Note = document.getElementById("live-h264-note");  // says that H.264 is a transcode on the server
  function offerH264(show) {
    if (h264Button) h264Button.hidden = !show;
    if (h264Note) h264Note.hidden = !show;
  }
  var snapshot = document.getElementById("live-snapshot");
  var token = video.dataset.token;
  var firstToken = token;
  var playlist = video.dataset.playlist;
  var path = "";
  var players = choosePlayers({
    navigator: window.navigator,
    ManagedMediaSource: window.ManagedMediaSource,
    MediaSource: window.MediaSource,
    WebSocket: window.WebSocket,
    hlsJs: !!(window.Hls && window.Hls.isSupported()),
    nativeHls: !!video.canPlayType("application/vnd.apple.mpegurl"),
  });

  var LIVE_EDGE_MAX = 0.6;   // s behind the newest frame before the player jumps ahead
  var LIVE_EDGE_TARGET = 0.2; // s behind the newest frame it jumps to
  var BACK_BUFFER = 6;        // s of played video kept in the SourceBuffer
  var ACK_EVERY = 32768;      // bytes: the server sends at most a window beyond the last acknowledgement

  function say(key) {
    status.textContent = status.dataset[key] || "";
    status.dataset.state = key;
  }

  function showPath(name) {
    path = name;
    video.dataset.path = name;
    if (pathLabel) {
      pathLabel.hidden = false;
      pathLabel.dataset.path = name;
      pathLabel.textContent = pathLabel.dataset[name];
    }
  }

  function showMute(show) {
    if (!muteButton) return;
    muteButton.hidden = !show;
    muteButton.textContent = video.muted ? muteButton.dataset.unmute : muteButton.dataset.mute;
  }
  if (muteButton) {
    muteButton.addEventListener("click", function () {
      video.muted = !video.muted;
      if (!video.muted) video.play().catch(function () {});
      showMute(true);
    });
  }

  // Media tokens live minutes; the page may stay open for hours. Fetch a fresh one regularly (for every
  // request hls.js makes, and for a socket that connects again).
  function renewToken() {
    return fetch(video.dataset.tokenUrl, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) token = data.token; })
      .catch(function () {});
  }
  setInterval(renewToken, 120000);

  // ------------------------------------------------------------------------------------ a picture that stops
  // A picture that stops moving is not the camera now, whatever the server says (issue #18: a picture
  // older than the path's target is never presented as live). The playhead (video.currentTime) is read on
  // every timeupdate and every 250 ms: it moves with every frame shown, and it is the element's own clock,
  // so a page whose script runs late (a busy machine) still sees it moved. When it has stood still for
  // longer than the path's limit while it should play (not paused, the tab in view), the path hides the
  // picture, says so and shows it again once the playhead moves on fresh video:
  // - low latency: 1.5 s, the path's p95 target. A fragment comes with every frame and the player stays
  //   0.2-0.6 s behind the newest, so a healthy stream moves the playhead at least every frame interval;
  //   still for 1.5 s means no frame for that long (a camera that hangs without hanging up, a stalled
  //   network), and the picture shown is then at least 1.5 s plus the path's delay old.
  // - HLS: 4 s, the path's target. hls.js plays about a second behind the newest 2 s segment; a segment
  //   a little late costs a moment, 4 s still means the stream has stopped (the server turns a playlist
  //   that was not rewritten in time into a 404, which the page also takes as the camera gone).
  var STILL_LOW_LATENCY = 1.5; // s
  var STILL_HLS = 4;           // s

  // Calls onStill() once when the playhead stands still past `limit` seconds after arm(), and onMove()
  // whenever it plays forward (not a seek).
  function watchPlayhead(limit, onStill, onMove) {
    var last = video.currentTime;
    var movedAt = performance.now();
    var armed = false;
    function look() {
      var now = performance.now();
      var time = video.currentTime;
      if (time !== last) {
        var played = !video.seeking && time > last && time - last < 2;
        last = time;
        movedAt = now;
        if (played && onMove) onMove();
        return;
      }
      if (!armed || video.paused || document.hidden) { movedAt = now; return; }
      if (now - movedAt > limit * 1000) { armed = false; onStill(); }
    }
    video.addEventListener("timeupdate", look);
    document.addEventListener("visibilitychange", function () { movedAt = performance.now(); });
    setInterval(look, 250);
    return {
      arm: function () { armed = true; last = video.currentTime; movedAt = performance.now(); },
      disarm: function () { armed = false; },
    };
  }

  // ------------------------------------------------------------------------------------ 3. snapshot
  // `again`, where the video may still come: the stream had not started when the page stopped waiting for it
  // (a camera that answers with errors at first, and the recorder backs off up to 30 s between tries). The
  // pictures go on, the page asks for the playlist every 5 s (which also keeps the stream wanted: the worker
  // stops one nobody asks for, RECORDING_LIVE_IDLE_SECONDS) and calls again() once it is there.
  var snapshotTimer = null;
  function fallback(again) {
    if (snapshotTimer) return;
    video.hidden = true;
    snapshot.hidden = false;
    showPath("snapshot");
    showMute(false);
    say(again && status.dataset.notStarted ? "notStarted" : "fallback");
    var refresh = function () { snapshot.src = video.dataset.snapshot + "?t=" + Date.now(); };
    refresh();
    snapshotTimer = setInterval(refresh, 2000);
    if (!again) return;
    var asking = setInterval(function () {
      fetch(playlist.replace(firstToken, token), { cache: "no-store", credentials: "same-origin" })
        .then(function (r) {
          if (!r.ok || !snapshotTimer) return;
          clearInterval(asking);
          clearInterval(snapshotTimer);
          snapshotTimer = null;
          snapshot.hidden = true;
          video.hidden = false;
          again();
        })
        .catch(function () {});
    }, 5000);
  }

  // ------------------------------------------------------------------------------------ 2. HLS
  // Once fresh HLS video was shown, a lost stream (its playlist gone: "offline"; the playhead still for
  // STILL_HLS, or a fatal error: "stalled") hides the picture and loads the stream again after 2 s, then
  // 4 s, then every 8 s, and shows it labelled live again once the playhead moves on video loaded since.
  var hlsShown = false;       // the picture is presented as live
  var hlsEverShown = false;
  var hlsArmed = false;       // the watch counts (from the first move after it was shown)
  var hlsReloaded = false;    // the stream was loaded again since it was lost (nothing older is left)
  var hlsReloadIn = 2000;
  var hlsReloadTimer = null;
  var hlsReload = null;       // the player's own: load the stream again
  var hlsPresent = null;      // the player's own: say that it plays
  var hlsWatch = null;
  function watchHls() {
    hlsWatch = watchPlayhead(STILL_HLS, function () { hlsLose("stalled"); }, function () {
      if (hlsShown) {
        if (!hlsArmed) { hlsArmed = true; hlsWatch.arm(); }
      } else if (hlsEverShown && hlsReloaded) {
        hlsShow();
      }
    });
  }
  function hlsShownNow() { hlsShown = true; hlsEverShown = true; }
  function hlsShow() {
    hlsShownNow();
    hlsReloadIn = 2000;
    hlsArmed = true;
    hlsWatch.arm();
    video.style.visibility = "";
    hlsPresent();
  }
  function hlsLose(state) {
    say(state);
    if (hlsShown) { hlsShown = false; hlsArmed = false; hlsWatch.disarm(); video.style.visibility = "hidden"; }
    hlsReloaded = false;
    if (hlsReloadTimer) return;
    hlsReloadTimer = setTimeout(function () {
      hlsReloadTimer = null;
      hlsReload();
      hlsReloaded = true;
    }, hlsReloadIn);
    hlsReloadIn = Math.min(hlsReloadIn * 2, 8000);
  }

  var hlsStarted = false;
  var MAX_NATIVE_TRIES = 30;  // × 2 s: a stream starting on demand, as MAX_STARTING for hls.js
  function startHls() {
    if (hlsStarted) return;
    hlsStarted = true;
    if (!hlsWatch) watchHls();
    video.style.visibility = "";
    video.removeAttribute("src");
    video.load();
    say("waiting");
    if (players.hls === "hlsjs") {
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
      // takes a while to send its first keyframe; RECORDING_LIVE_START_WAIT_SECONDS), then show pictures
      // until it is there (fallback's `again`); other fatal errors get three more tries.
      var fatal = 0;
      var starting = 0;
      var MAX_STARTING = Math.max(1, Math.round((Number(video.dataset.startWait) || 60) / 2));  // × 2 s
      // The sound button only for a stream with sound: hls.js names the SourceBuffers it makes from each
      // init segment ("audiovideo": one for an fMP4 that holds both; "audio" beside "video" for TS).
      var sound = false;
      hls.on(window.Hls.Events.BUFFER_CODECS, function (_e, data) {
        sound = !!(data && (data.audio || data.audiovideo));
        if (path === "hls") showMute(sound);
      });
      hls.on(window.Hls.Events.MANIFEST_PARSED, function () { video.play().catch(function () {}); });
      hlsPresent = function () { say("playingHls"); showPath("hls"); showMute(sound); };
      hlsReload = function () {  // a new MediaSource: nothing of the lost stream is left to play
        hls.stopLoad();
        hls.detachMedia();
        hls.loadSource(playlist);
        hls.attachMedia(video);
      };
      hls.on(window.Hls.Events.FRAG_BUFFERED, function () {
        if (hlsEverShown && !hlsShown) return;  // lost: shown again when the playhead moves (above)
        hlsShownNow(); hlsPresent(); fatal = 0; starting = 0;
      });
      hls.on(window.Hls.Events.ERROR, function (_e, data) {
        if (hlsEverShown) {
          // After it played: the server serves a playlist only while the stream is being written, so a
          // 404 is the camera gone; any fatal error loses the stream too. Load it again, never fall back.
          var gone = data.response && data.response.code === 404 &&
            (data.details === window.Hls.ErrorDetails.LEVEL_LOAD_ERROR ||
             data.details === window.Hls.ErrorDetails.MANIFEST_LOAD_ERROR);
          if (gone) { hlsLose("offline"); } else if (data.fatal) { hlsLose("stalled"); }
          return;
        }
        if (!data.fatal) return;
        var notYet = data.details === window.Hls.ErrorDetails.MANIFEST_LOAD_ERROR &&
          data.response && data.response.code === 404;
        if (notYet) { starting += 1; } else { fatal += 1; }
        if (fatal > 3) { hls.destroy(); fallback(); return; }
        if (starting > MAX_STARTING) {
          hls.destroy();
          fallback(function () { hlsStarted = false; startHls(); });
          return;
        }
        setTimeout(function () { hls.loadSource(playlist); hls.startLoad(); }, 2000);
      });
      hls.loadSource(playlist);
      hls.attachMedia(video);
    } else if (players.hls === "native") {
      video.src = playlist;  // Safari plays HLS natively
      // Safari lists the stream's sound in video.audioTracks; where a browser has no such list, the
      // button shows (it cannot tell).
      var nativeSound = function () { return !video.audioTracks || video.audioTracks.length > 0; };
      hlsPresent = function () { say("playingHls"); showPath("hls"); showMute(nativeSound()); };
      hlsReload = function () { video.src = playlist; video.play().catch(function () {}); };
      video.addEventListener("playing", function () {
        if (hlsEverShown && !hlsShown) return;  // lost: shown again when the playhead moves (above)
        hlsShownNow(); hlsPresent();
      });
      if (video.audioTracks && video.audioTracks.addEventListener) {
        ["addtrack", "removetrack"].forEach(function (name) {
          video.audioTracks.addEventListener(name, function () { if (path === "hls") showMute(nativeSound()); });
        });
      }
      // As with hls.js above: the worker starts the stream on demand and its playlist is a 404 until then,
      // which the element reports as an error like any other. Ask again every 2 s for up to a minute
      // before the snapshots (an iPhone before iOS 17.1 has no MediaSource: this is its only video).
      var nativeTries = 0;
      video.addEventListener("error", function () {
        if (hlsEverShown) { hlsLose("stalled"); return; }
        if (snapshotTimer) return;
        nativeTries += 1;
        if (nativeTries > MAX_NATIVE_TRIES) { fallback(); return; }
        setTimeout(function () {
          if (hlsEverShown || snapshotTimer) return;
          video.src = playlist;
          video.play().catch(function () {});
        }, 2000);
      });
    } else {
      fallback();
    }
  }

  // ------------------------------------------------------------------------------------ 1. low latency
  var Source = players.source;
  var socketPath = video.dataset.socket;

  function startLowLatency() {
    if (!socketPath || !Source) return false;
    var socket = null;
    var everPlayed = false;     // this page has shown low-latency video (then a lost socket is retried)
    var failures = 0;           // sockets in a row that ended before any meta
    var wanted = "source";      // the variant this viewer asked for (h264: the server's transcode)
    var media = null;           // {source, buffer, queue, mime}
    var received = 0;
    var acked = 0;
    var presented = false;
    var stillAt = -1;           // the playhead where the picture stood still (-1: it did not since new media)
    // A picture still for STILL_LOW_LATENCY is hidden until the playhead moves past where it stopped at
    // the live edge (new frames came), as after the server says the camera is offline.
    var watch = watchPlayhead(STILL_LOW_LATENCY, function () {
      if (!presented) return;
      presented = false;
      stillAt = video.currentTime;
      video.style.visibility = "hidden";
      say("stalled");
    });

    function teardown() {
      if (media && media.url) URL.revokeObjectURL(media.url);
      media = null;
      presented = false;
      stillAt = -1;
      watch.disarm();
    }

    function reconnectSoon() {
      setTimeout(function () { renewToken().then(connect); }, 2000);
    }

    function giveUp() {
      if (socket) { socket.onclose = null; socket.close(); socket = null; }
      teardown();
      if (wanted === "h264" && failures < 10) {
        // HLS carries the camera's own H.265, which this browser cannot play: the transcode comes only over
        // the socket, so a socket or a MediaSource that failed (a busy server) is tried again instead.
        failures += 1;
        say("waiting");
        reconnectSoon();
        return;
      }
      startHls();
    }

    function newMedia(mime) {
      teardown();
      var source = new Source();
      var entry = { source: source, buffer: null, queue: [], mime: mime, url: null };
      media = entry;
      presented = false;
      video.style.visibility = "hidden";  // nothing is shown until it is at the live edge
      if (window.ManagedMediaSource && Source === window.ManagedMediaSource) {
        video.disableRemotePlayback = true;  // ManagedMediaSource plays only so (iOS Safari)
        video.srcObject = source;
      } else {
        entry.url = URL.createObjectURL(source);
        video.src = entry.url;
      }
      source.addEventListener("sourceopen", function () {
        if (media !== entry) return;
        try {
          entry.buffer = source.addSourceBuffer(mime);
          entry.buffer.mode = "segments";
        } catch (e) {
          giveUp();
          return;
        }
        entry.buffer.addEventListener("updateend", function () { if (media === entry) { chase(); append(); } });
        entry.buffer.addEventListener("error", function () { if (media === entry) giveUp(); });
        append();
      });
    }

    function append() {
      var buffer = media && media.buffer;
      if (!buffer || buffer.updating || !media.queue.length) return;
      var ranges = buffer.buffered;
      if (ranges.length && video.currentTime - ranges.start(0) > BACK_BUFFER * 2) {
        buffer.remove(0, video.currentTime - BACK_BUFFER);  // trim what was played; updateend appends next
        return;
      }
      try {
        buffer.appendBuffer(media.queue[0]);
        media.queue.shift();
      } catch (e) {
        if (e.name === "QuotaExceededError" && ranges.length) {
          buffer.remove(0, Math.max(ranges.start(0) + 0.1, video.currentTime - 1));
        } else {
          giveUp();
        }
      }
    }

    // Stay at the live edge: jump ahead when more than LIVE_EDGE_MAX behind the newest frame, or when a
    // gap (the server dropped a slow viewer to the next keyframe) left the playhead behind.
    function chase() {
      var ranges = video.buffered;
      if (!ranges.length) return;
      var last = ranges.length - 1;
      var end = ranges.end(last);
      var start = ranges.start(last);
      if (video.currentTime < start || end - video.currentTime > LIVE_EDGE_MAX) {
        video.currentTime = Math.max(start, end - LIVE_EDGE_TARGET);
      }
      if (video.paused && !video.ended) video.play().catch(function () {});
    }

    // "Starting" until a frame at the live edge plays: never an old frame labelled live.
    function presentWhenLive() {
      if (presented || !media) return;
      var ranges = video.buffered;
      if (!ranges.length || video.paused || video.readyState < 2) return;
      if (ranges.end(ranges.length - 1) - video.currentTime > LIVE_EDGE_MAX) return;
      if (stillAt >= 0 && video.currentTime <= stillAt) return;
      presented = true;
      stillAt = -1;
      watch.arm();
      everPlayed = true;
      failures = 0;
      video.style.visibility = "";
      showPath(wanted === "h264" ? "mseH264" : "mse");
      say("playingLive");
    }
    video.addEventListener("timeupdate", presentWhenLive);
    video.addEventListener("playing", presentWhenLive);
    video.addEventListener("error", function () { if (media && !hlsStarted) giveUp(); });

    function onMeta(meta) {
      if ((meta.variant || "source") !== wanted) return;  // the subscription before a variant change
      var mime = meta.mime || "";
      if (!mime || !Source.isTypeSupported(mime)) {
        // H.265 where this browser has no HEVC decoder: offer the server's H.264 transcode (opt-in).
        if (meta.video === "hevc" && wanted === "source") offerH264(true);
        giveUp();
        return;
      }
      showMute(!!meta.audio);
      newMedia(mime);
    }

    function connect() {
      var scheme = location.protocol === "https:" ? "wss://" : "ws://";
      var opened = false;
      var gotMeta = false;
      try {
        socket = new WebSocket(scheme + location.host + socketPath + "?token=" + encodeURIComponent(token));
      } catch (e) {
        return false;
      }
      socket.binaryType = "arraybuffer";
      received = 0;
      acked = 0;
      socket.onopen = function () {
        opened = true;
        if (wanted !== "source") socket.send(JSON.stringify({ type: "variant", value: wanted }));
      };
      socket.onmessage = function (event) {
        if (typeof event.data === "string") {
          var message;
          try { message = JSON.parse(event.data); } catch (e) { return; }
          if (message.type === "meta") { gotMeta = true; onMeta(message); }
          else if (message.type === "status") {
            if (message.state === "camera-offline") {
              // The last frame is not the camera now: hide it until a fresh one plays.
              presented = false;
              watch.disarm();
              video.style.visibility = "hidden";
              say("offline");
            }
            else if (message.state === "starting" && !presented) { say("waiting"); }
          }
          return;
        }
        received += event.data.byteLength;
        if (received - acked >= ACK_EVERY) {
          acked = received;
          socket.send(JSON.stringify({ type: "ack", bytes: acked }));
        }
        if (media) {
          media.queue.push(event.data);
          append();
        }
      };
      socket.onclose = function (event) {
        socket = null;
        if (hlsStarted) return;
        if (event.code === 4404 || event.code === 4403) {
          teardown();
          video.hidden = true;
          showMute(false);
          say("denied");
          return;
        }
        if (event.code === 4429) { giveUp(); return; }  // too many sockets from here: HLS still plays
        if (!opened || !gotMeta) failures += 1;
        // A socket that never worked here (no ASGI server, a proxy that drops WebSockets): HLS, except for the
        // transcode, which only the socket carries (giveUp).
        if (wanted !== "h264" && !everPlayed && (!opened || failures >= 3)) { giveUp(); return; }
        if (failures >= 10) { giveUp(); return; }
        say(everPlayed ? "offline" : "waiting");
        reconnectSoon();
      };
      return true;
    }

    if (h264Button) {
      h264Button.addEventListener("click", function () {
        offerH264(false);
        wanted = "h264";
        if (hlsStarted) { window.location.search = "?variant=h264"; return; }
        if (socket) socket.send(JSON.stringify({ type: "variant", value: "h264" }));
      });
    }
    if (new URLSearchParams(window.location.search).get("variant") === "h264") wanted = "h264";
    say("waiting");
    return connect();
  }

  if (!startLowLatency()) startHls();
})();
