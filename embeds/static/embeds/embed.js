/* Public congestion embed / generated site. No cookie, no storage: works with third-party cookies blocked.
 *
 * Every image or prediction shown is fetched once (one call of the operator's monthly quota): the first
 * view, each switch, each refresh (button or every minute). Image metadata (analysis time, status label,
 * count) comes in the image response's headers, so what is shown always belongs together.
 * window.embedShown counts what this page displayed (the browser test compares it with the server).
 */
(function () {
  "use strict";
  var body = document.body;
  var views = (body.dataset.views || "visualization").split(" ");
  var current = body.dataset.first || views[0];
  var auto = body.dataset.auto === "1";
  var interval = Math.max(5, parseInt(body.dataset.interval || "60", 10)) * 1000;
  var limitImage = body.dataset.limitImage;
  var t = JSON.parse(document.getElementById("embed-i18n").textContent);
  var blocks = Array.prototype.slice.call(document.querySelectorAll(".embed"));
  var SLOTS = 96, WINDOW = 24;
  window.embedShown = 0;

  function el(tag, attrs, text) {
    var node = document.createElementNS(tag === "svg" || tag === "rect" || tag === "text" || tag === "line" || tag === "g"
      ? "http://www.w3.org/2000/svg" : "http://www.w3.org/1999/xhtml", tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function hhmm(slot) {
    var m = slot * 15;
    return ("0" + Math.floor(m / 60)).slice(-2) + ":" + ("0" + (m % 60)).slice(-2);
  }

  function fresh(url) {
    return url + (url.indexOf("?") < 0 ? "?" : "&") + "t=" + Date.now();
  }

  function loadImage(block) {
    var img = block.querySelector(".viz-img");
    return fetch(fresh(block.dataset.image), { cache: "no-store", credentials: "omit" }).then(function (res) {
      var state = res.headers.get("X-Embed-State") || "";
      var label = decodeURIComponent(res.headers.get("X-Embed-Label") || "");
      var count = res.headers.get("X-Embed-Count");
      var time = res.headers.get("X-Embed-Time");
      return res.blob().then(function (blob) {
        var old = img.src;
        img.src = URL.createObjectURL(blob);
        if (old && old.indexOf("blob:") === 0) URL.revokeObjectURL(old);
        // Only a current analysis has a count, a status and a time; closed / no data / limits show none.
        var ok = state === "ok";
        var labelEl = block.querySelector(".label");
        var step = res.headers.get("X-Embed-Step") || "";
        labelEl.textContent = ok ? label : "";
        labelEl.hidden = !ok || !label;
        labelEl.className = "label" + (ok && step ? " step-" + step : "");
        block.querySelector(".count").textContent = ok && count !== null ? t.people.replace("%s", count) : "";
        block.querySelector(".time").textContent = ok && time ? t.analysed.replace("%s", time) : "";
        block.dataset.state = state;
        if (res.ok) window.embedShown += 1;
      });
    });
  }

  function loadPrediction(block) {
    return fetch(fresh(block.dataset.prediction), { cache: "no-store", credentials: "omit" }).then(function (res) {
      return res.json().then(function (data) {
        block.dataset.state = data.state;
        if (data.state === "ok") window.embedShown += 1;
        renderPrediction(block, data);
      });
    });
  }

  function renderPrediction(block, data) {
    var pred = block.querySelector(".pred");
    var tabs = pred.querySelector(".tabs"), graph = pred.querySelector(".graph");
    var status = pred.querySelector(".slot-status"), nodata = pred.querySelector(".nodata");
    var limit = pred.querySelector(".limit");
    tabs.textContent = ""; graph.textContent = ""; status.textContent = "";
    limit.hidden = data.state !== "limit" && data.state !== "rate-limited";
    if (!limit.hidden) { limit.src = limitImage; nodata.hidden = true; return; }
    nodata.hidden = !!data.enough;
    if (!data.enough) return;
    if (block._day === undefined) block._day = data.today;
    if (block._start === undefined) block._start = Math.floor(data.now_slot / WINDOW) * WINDOW;
    t.weekdays.forEach(function (name, i) {
      var b = el("button", { type: "button", role: "tab", "aria-selected": String(i === block._day) }, name);
      b.addEventListener("click", function () { block._day = i; renderPrediction(block, data); });
      tabs.appendChild(b);
    });
    var day = data.days[block._day];
    // With business hours the graph moves only over the day's open slots (day.open: 96 × "1"/"0").
    var open = day.open || null;
    var first = open ? open.indexOf("1") : 0, last = open ? open.lastIndexOf("1") : SLOTS - 1;
    if (first < 0) { status.textContent = t.closedDay; return; }
    var maxStart = Math.min(SLOTS - WINDOW, Math.max(first, last - WINDOW + 1));
    var minStart = Math.min(first, maxStart);
    block._start = Math.max(minStart, Math.min(maxStart, block._start));
    var W = 480, H = 281, top = 16, base = 236, bw = W / WINDOW;
    var svg = el("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": t.prediction });
    for (var i = 0; i < WINDOW; i++) {
      var slot = block._start + i;
      if (slot % 4 === 0) svg.appendChild(el("text", { x: (i * bw + 2).toFixed(1), y: String(base + 18) }, hhmm(slot)));
      if (open && open.charAt(slot) !== "1") continue;  // closed: no bar
      var h = Math.max(1, day.ratios[slot] * (base - top));
      var g = el("g", { "class": "bar step-" + day.steps[slot], "data-slot": String(slot), tabindex: "0" });
      g.appendChild(el("rect", { x: (i * bw + 1).toFixed(1), y: (base - h).toFixed(1), width: (bw - 2).toFixed(1), height: h.toFixed(1) }));
      g.appendChild(el("rect", { "class": "hit", x: (i * bw).toFixed(1), y: String(top), width: bw.toFixed(1), height: String(base - top) }));
      (function (s) {
        function describe() {
          var label = data.labels.length ? data.labels[day.steps[s] - 1] : "";
          status.textContent = t.weekdays[block._day] + " " + hhmm(s) + "–" + hhmm((s + 1) % SLOTS) + (label ? "  " + label : "");
        }
        g.addEventListener("click", describe);
        g.addEventListener("keydown", function (e) { if (e.key === "Enter") describe(); });
      })(slot);
      svg.appendChild(g);
    }
    svg.appendChild(el("line", { x1: "0", x2: String(W), y1: String(base), y2: String(base) }));
    var prev = el("button", { type: "button", "class": "move", "aria-label": t.earlier }, "◀");
    var next = el("button", { type: "button", "class": "move", "aria-label": t.later }, "▶");
    prev.disabled = block._start <= minStart;
    next.disabled = block._start >= maxStart;
    prev.addEventListener("click", function () { block._start = Math.max(minStart, block._start - WINDOW); renderPrediction(block, data); });
    next.addEventListener("click", function () { block._start = Math.min(maxStart, block._start + WINDOW); renderPrediction(block, data); });
    graph.appendChild(prev); graph.appendChild(svg); graph.appendChild(next);
  }
  function show() {
    blocks.forEach(function (block) {
      block.querySelector(".viz").hidden = current !== "visualization";
      block.querySelector(".pred").hidden = current !== "prediction";
    });
    var sw = document.querySelector("[data-action=switch]");
    if (sw) sw.textContent = current === "visualization" ? t.toPrediction : t.toImage;
    var refresh = document.querySelector("[data-action=refresh]");
    if (refresh) refresh.hidden = false;
    return Promise.all(blocks.map(function (block) {
      return current === "visualization" ? loadImage(block) : loadPrediction(block);
    }));
  }

  var sw = document.querySelector("[data-action=switch]");
  if (sw) sw.addEventListener("click", function () {
    current = current === "visualization" ? "prediction" : "visualization";
    show();
  });
  var refresh = document.querySelector("[data-action=refresh]");
  if (refresh) refresh.addEventListener("click", function () { show(); });
  if (auto) setInterval(show, interval);
  show();
})();
