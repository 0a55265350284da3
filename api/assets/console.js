// RepoPal console: the one small script. Pages work without it; with it, elements marked
// `data-refresh="SECONDS"` reload their own content from the server while the page is open
// (until the fresh content no longer asks to; ticked checkboxes are kept),
// and buttons marked `data-confirm="TEXT"` ask before submitting.
(function () {
  "use strict";

  // Checkboxes ticked in a region survive its refresh (a selection being built for a batch).
  function keepChoices(current, fresh) {
    current.querySelectorAll("input[type=checkbox][id]").forEach(function (box) {
      var twin = fresh.querySelector("#" + CSS.escape(box.id));
      if (twin && !twin.disabled) { twin.checked = box.checked; }
    });
  }

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
          if (fresh && current) {
            keepChoices(current, fresh);
            current.replaceWith(fresh);
            if (fresh.hasAttribute("data-refresh")) { refresh(fresh); }
          }
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
