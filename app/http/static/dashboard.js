// KubeKuma dashboard: small enhancements over pages that work without this script.
// 1. Forms marked data-api post to the API with the session's CSRF token, then reload.
// 2. An element with data-live="URL" is refreshed in place from that JSON every few seconds.
// 3. Chart points with data-tip show their value in a tooltip on hover and keyboard focus.
(function () {
  "use strict";

  function cookie(name) {
    var parts = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf("=");
      if (parts[i].slice(0, eq) === name) return decodeURIComponent(parts[i].slice(eq + 1));
    }
    return "";
  }

  // 1. API forms -------------------------------------------------------------------------
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.hasAttribute || !form.hasAttribute("data-api")) return;
    ev.preventDefault();
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
    var out = form.querySelector(".api-error");
    var button = form.querySelector("button");
    if (button) button.disabled = true;
    var body = null, headers = { "X-CSRF-Token": cookie("kk_csrf"), "Accept": "application/json" };
    if (form.dataset.json !== undefined) {
      var data = {};
      new FormData(form).forEach(function (v, k) { if (v !== "") data[k] = v; });
      body = JSON.stringify(data);
      headers["Content-Type"] = "application/json";
    }
    fetch(form.action, { method: "POST", headers: headers, body: body, credentials: "same-origin" })
      .then(function (r) {
        if (r.ok) {
          if (form.dataset.next) window.location.assign(form.dataset.next);
          else window.location.reload();
          return;
        }
        return r.json().catch(function () { return {}; }).then(function (e) {
          if (button) button.disabled = false;
          if (out) out.textContent = (e.title || ("HTTP " + r.status)) + (e.description ? ": " + e.description : "");
        });
      })
      .catch(function (err) {
        if (button) button.disabled = false;
        if (out) out.textContent = String(err);
      });
  });

  // 2. Live update -----------------------------------------------------------------------
  // The JSON is {"text": {key: value}, "lists": {key: [{text, href, state}]}}; elements carry
  // data-text="key" or data-list="key". Only what changed is touched, so focus and scroll stay.
  function renderList(ul, items) {
    var sig = JSON.stringify(items);
    if (ul.dataset.sig === sig) return;
    ul.dataset.sig = sig;
    var had = ul.contains(document.activeElement) ? document.activeElement.getAttribute("href") : null;
    while (ul.firstChild) ul.removeChild(ul.firstChild);
    items.forEach(function (it) {
      var li = document.createElement("li");
      if (it.state) {
        var pill = document.createElement("span");
        pill.className = "pill " + it.state;
        pill.textContent = it.state;
        li.appendChild(pill);
        li.appendChild(document.createTextNode(" "));
      }
      var a = document.createElement(it.href ? "a" : "span");
      if (it.href) a.setAttribute("href", it.href);
      a.textContent = it.text;
      li.appendChild(a);
      if (it.note) {
        var note = document.createElement("span");
        note.className = "muted small";
        note.textContent = " " + it.note;
        li.appendChild(note);
      }
      ul.appendChild(li);
      if (had && it.href === had) a.focus();
    });
  }

  function poll(root) {
    var url = root.dataset.live;
    var every = parseInt(root.dataset.every || "5000", 10);
    function tick() {
      if (document.hidden) return setTimeout(tick, every);
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (data) {
            Object.keys(data.text || {}).forEach(function (k) {
              root.querySelectorAll('[data-text="' + k + '"]').forEach(function (el) {
                var v = String(data.text[k]);
                if (el.textContent !== v) el.textContent = v;
              });
            });
            Object.keys(data.lists || {}).forEach(function (k) {
              root.querySelectorAll('[data-list="' + k + '"]').forEach(function (ul) { renderList(ul, data.lists[k]); });
            });
            root.dataset.updated = data.generatedAt || "";
          }
        })
        .catch(function () {})
        .then(function () { setTimeout(tick, every); });
    }
    setTimeout(tick, every);
  }
  document.querySelectorAll("[data-live]").forEach(poll);

  // 3. Chart tooltips ----------------------------------------------------------------------
  document.querySelectorAll(".chart").forEach(function (chart) {
    var tip = document.createElement("div");
    tip.className = "tooltip";
    tip.setAttribute("role", "status");
    tip.hidden = true;
    chart.appendChild(tip);
    function show(el, x, y) {
      tip.textContent = el.getAttribute("data-tip");
      tip.hidden = false;
      var box = chart.getBoundingClientRect();
      var left = Math.min(Math.max(x - box.left + 12, 0), box.width - tip.offsetWidth);
      tip.style.left = left + "px";
      tip.style.top = Math.max(y - box.top - 34, 0) + "px";
    }
    chart.addEventListener("mousemove", function (ev) {
      var el = ev.target.closest ? ev.target.closest("[data-tip]") : null;
      if (el) show(el, ev.clientX, ev.clientY); else tip.hidden = true;
    });
    chart.addEventListener("mouseleave", function () { tip.hidden = true; });
    chart.addEventListener("focusin", function (ev) {
      var el = ev.target.closest ? ev.target.closest("[data-tip]") : null;
      if (!el) return;
      var r = el.getBoundingClientRect();
      show(el, r.left + r.width / 2, r.top);
    });
    chart.addEventListener("focusout", function () { tip.hidden = true; });
  });
})();
