// Live numbers without reload: a page that names a JSON source (data-live-src) polls it and
// updates every element marked data-live="path.to.cell"; the overview's alert list is rebuilt
// from the same answer. No inline script (the pages' CSP forbids it), no library.
(function () {
  "use strict";
  var stamp = document.querySelector("[data-live-src]");
  if (!stamp) { return; }
  var source = stamp.getAttribute("data-live-src");
  var LEVELS = ["ok", "warn", "bad"];

  function lookup(data, path) {
    var parts = path.split(".");
    var node = data;
    // The partner id may itself hold dots: take the first and the last part as keys around it.
    if (parts[0] === "partners" && parts.length > 3) {
      parts = ["partners", parts.slice(1, -1).join("."), parts[parts.length - 1]];
    }
    for (var i = 0; i < parts.length && node; i++) { node = node[parts[i]]; }
    return node;
  }

  function setLevel(el, level) {
    LEVELS.forEach(function (l) { el.classList.remove(l); });
    if (level) { el.classList.add(level); }
  }

  function renderAlerts(alerts) {
    var box = document.getElementById("alerts");
    if (!box) { return; }
    box.textContent = "";
    if (!alerts.length) {
      var calm = document.createElement("div");
      calm.className = "alert ok";
      calm.setAttribute("data-alert", "none");
      calm.textContent = "No alerts: nothing dead, quarantined or overdue.";
      box.appendChild(calm);
      return;
    }
    alerts.forEach(function (a) {
      var div = document.createElement("div");
      div.className = "alert " + a.level;
      div.setAttribute("data-alert", a.key);
      var title = document.createElement("a");
      title.className = "alert-title";
      title.href = a.href;
      title.textContent = a.title;
      var fix = document.createElement("span");
      fix.className = "muted";
      fix.textContent = " — " + a.fix;
      div.appendChild(title);
      div.appendChild(fix);
      if (a.items.length) {
        var ul = document.createElement("ul");
        a.items.forEach(function (item) {
          var li = document.createElement("li");
          var link = document.createElement("a");
          link.href = item.href;
          link.textContent = item.text;
          li.appendChild(link);
          ul.appendChild(li);
        });
        div.appendChild(ul);
      }
      box.appendChild(div);
    });
  }

  function refresh() {
    fetch(source, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        document.querySelectorAll("[data-live]").forEach(function (el) {
          var cell = lookup(data, el.getAttribute("data-live"));
          if (!cell) { return; }
          // A card shows its number in its .n child; a table cell is the element itself.
          var number = el.querySelector(".n") || el;
          number.textContent = cell.value;
          var holder = el.closest("[data-card], [data-cell]") || el;
          setLevel(holder, cell.level);
        });
        renderAlerts(data.alerts || []);
        stamp.textContent = "as of " + data.generated_at + " (live)";
      })
      .catch(function () { stamp.textContent = "live refresh failed; reload the page"; });
  }
  setInterval(refresh, 2000);
})();
