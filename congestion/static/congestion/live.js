// The console's camera and group pages update in place every minute instead of reloading
// (a meta refresh pulls the page from under a reader and a screen reader): the page's own address
// is fetched again and each [data-live] region is swapped for its new version, its images with a
// fresh address so that the browser shows the new picture. A failed fetch leaves the page as it is
// and the next minute tries again; nothing else on the page (focus, a half-filled form) changes.
(function () {
  "use strict";
  var script = document.currentScript;
  var seconds = parseInt(script && script.dataset.interval, 10) || 60;

  function freshImages(root) {
    root.querySelectorAll("img[src]").forEach(function (img) {
      var url = new URL(img.getAttribute("src"), window.location.href);
      url.searchParams.set("t", String(Date.now()));
      img.setAttribute("src", url.pathname + url.search);
    });
  }

  function update() {
    fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok || response.redirected) throw new Error("not updated: " + response.status);
        return response.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live]").forEach(function (shown) {
          var fresh = doc.querySelector('[data-live="' + shown.getAttribute("data-live") + '"]');
          if (!fresh) return;
          fresh = document.importNode(fresh, true);
          freshImages(fresh);
          shown.replaceWith(fresh);
        });
        document.documentElement.dataset.liveUpdated = String(Date.now());
      })
      .catch(function () {});
  }

  window.setInterval(update, seconds * 1000);
})();
