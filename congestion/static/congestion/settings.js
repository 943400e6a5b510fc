// The camera settings page: the detection level row is for detailed mode only (manual 003). The page
// renders it hidden for standard and wide-area; this shows or hides it as the AI mode changes. The
// server ignores a level sent with another mode, so a page without JavaScript stays correct.
(function () {
  "use strict";
  function sync() {
    var mode = document.getElementById("id_mode");
    document.querySelectorAll("[data-shown-for-mode]").forEach(function (row) {
      row.hidden = !mode || mode.value !== row.getAttribute("data-shown-for-mode");
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var mode = document.getElementById("id_mode");
    if (mode) mode.addEventListener("change", sync);
    sync();
  });
})();
