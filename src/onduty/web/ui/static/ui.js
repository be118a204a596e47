// onduty console: live fragments, ticking clocks, auto-submitting filters. No libraries.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var POLL_MS = 5000;

  function human(seconds) {
    var s = Math.abs(Math.round(seconds));
    if (s < 60) return s + " s";
    var m = Math.floor(s / 60);
    if (m < 60) return m + " min";
    var h = Math.floor(m / 60);
    m = m % 60;
    if (h < 48) return h + " h " + (m < 10 ? "0" : "") + m + " min";
    return Math.floor(h / 24) + " d " + (h % 24) + " h";
  }

  // A running clock counts down each second from the time left on the server's clock when it was drawn
  // (the browser's own clock may be off); past due it says MISSED in words, not only in red.
  function tick() {
    var nodes = document.querySelectorAll("[data-due]");
    var now = performance.now();
    for (var i = 0; i < nodes.length; i++) {
      var el = nodes[i];
      if (el.drawnAt === undefined) el.drawnAt = now;
      var left = parseFloat(el.getAttribute("data-left")) - (now - el.drawnAt) / 1000;
      var due = el.textContent.replace(/^.*\(due /, "(due ");
      if (left >= 0) {
        el.textContent = human(left) + " left " + due;
      } else {
        el.textContent = "MISSED by " + human(left) + " " + due;
        var item = el.closest(".clock");
        if (item && !item.classList.contains("clock-missed")) {
          item.classList.remove("clock-running");
          item.classList.add("clock-missed");
          var mark = item.querySelector("[aria-hidden]");
          if (mark) mark.textContent = "✗";
        }
      }
    }
  }

  // Someone is typing, or the page shows a checked message that a reload would lose (or post again).
  function busy() {
    if (document.querySelector("[data-unsaved]")) return true;
    var active = document.activeElement;
    return active && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName) && active.value !== "";
  }

  // Regions marked data-live-src are refreshed from their fragment URL while the page is open.
  function refresh(region) {
    if (document.hidden) return;
    fetch(region.getAttribute("data-live-src"), { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (response.redirected || response.status === 401) { window.location.reload(); return null; }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html === null || html === undefined || region.contains(document.activeElement)) return;
        region.innerHTML = html;
        var state = region.querySelector("[data-status]");
        var page = document.body.getAttribute("data-status");
        // The status changed elsewhere: reload so the allowed actions match, unless someone is typing.
        if (state && page && state.getAttribute("data-status") !== page && !busy()) window.location.reload();
        tick();
      })
      .catch(function () { /* offline for a moment: try again at the next poll */ });
  }

  function start() {
    var regions = document.querySelectorAll("[data-live-src]");
    for (var i = 0; i < regions.length; i++) {
      (function (region) { setInterval(function () { refresh(region); }, POLL_MS); })(regions[i]);
    }
    document.addEventListener("change", function (event) {
      if (event.target.hasAttribute && event.target.hasAttribute("data-autosubmit")) event.target.form.submit();
    });
    tick();
    setInterval(tick, 1000);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
