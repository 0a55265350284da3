// RepoPal console: the one small script. Pages work without it; with it, elements marked
// `data-refresh="SECONDS"` reload their own content from the server while the page is open,
// and buttons marked `data-confirm="TEXT"` ask before submitting.
(function () {
  "use strict";

  function refresh(el) {
    var seconds = parseInt(el.getAttribute("data-refresh"), 10) || 10;
    var id = el.id;
    if (!id) { return; }
    window.setTimeout(function tick() {
      if (document.hidden) { window.setTimeout(tick, seconds * 1000); return; }
      fetch(window.location.href, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var fresh = doc.getElementById(id);
          var current = document.getElementById(id);
          if (fresh && current) { current.replaceWith(fresh); refresh(fresh); }
        })
        .catch(function () { window.setTimeout(tick, seconds * 1000); });
    }, seconds * 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-refresh]").forEach(refresh);
    document.addEventListener("click", function (e) {
      var b = e.target.closest("[data-confirm]");
      if (b && !window.confirm(b.getAttribute("data-confirm"))) { e.preventDefault(); }
    });
  });
})();
