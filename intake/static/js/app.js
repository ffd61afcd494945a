/* Intake: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $all(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }

  // Filter box: hides table rows whose data-filter-text lacks any typed word.
  function setupFilter(input) {
    var rows = $all(input.getAttribute("data-filter-rows"));
    var count = $("[data-filter-count]");
    var empty = $("[data-filter-empty]");
    function apply() {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      rows.forEach(function (row) {
        var text = row.getAttribute("data-filter-text") || row.textContent.toLowerCase();
        var match = words.every(function (w) { return text.indexOf(w) !== -1; });
        row.hidden = !match;
        if (match) { shown += 1; }
      });
      if (count) { count.textContent = shown + " of " + rows.length + " account" + (rows.length === 1 ? "" : "s"); }
      if (empty) { empty.hidden = shown !== 0; }
    }
    input.addEventListener("input", apply);
    apply();
  }

  // Account form: fields follow the protocol, the auth method and the dispatch mode.
  function setupAccountForm(form) {
    var protocol = $("[data-protocol-select]", form);
    var auth = $("[data-auth-select]", form);
    var dispatch = $("[data-dispatch-select]", form);
    var port = $("[data-port-input]", form);
    var lastDefault = null;
    function update() {
      var option = protocol.options[protocol.selectedIndex];
      var conditions = {
        tls: option.getAttribute("data-tls") === "1",
        folders: option.getAttribute("data-folders") === "1"
      };
      conditions["auth:" + auth.value] = true;
      conditions["dispatch:" + dispatch.value] = true;
      $all("[data-when]", form).forEach(function (el) {
        el.hidden = !conditions[el.getAttribute("data-when")];
      });
      var newDefault = option.getAttribute("data-port");
      port.placeholder = newDefault;
      if (port.value === "" || port.value === lastDefault) { port.value = newDefault; }
      lastDefault = newDefault;
    }
    lastDefault = protocol.options[protocol.selectedIndex].getAttribute("data-port");
    [protocol, auth, dispatch].forEach(function (el) { el.addEventListener("change", update); });
    update();
  }

  function onClick(event) {
    var target = event.target.closest("[data-toggle-text],[data-expand],[data-load-remote]");
    if (!target) { return; }
    var id = target.getAttribute("data-toggle-text") || target.getAttribute("data-expand") || target.getAttribute("data-load-remote");
    var wrap = document.getElementById("frame-wrap-" + id);
    if (target.hasAttribute("data-toggle-text")) {
      var text = document.getElementById("text-" + id);
      var showText = text.hidden;
      text.hidden = !showText;
      wrap.hidden = showText;
      target.textContent = showText ? "Show formatted" : "Show plain text";
    } else if (target.hasAttribute("data-expand")) {
      wrap.classList.toggle("tall");
      target.textContent = wrap.classList.contains("tall") ? "Shorter" : "Taller";
    } else {
      document.getElementById("frame-" + id).src = target.getAttribute("data-src");
      var note = document.getElementById("remote-note-" + id);
      if (note) { note.textContent = "Remote images loaded"; }
      target.remove();
    }
  }

  function onSubmit(event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    $all("[data-filter-rows]").forEach(setupFilter);
    $all("#account-form").forEach(setupAccountForm);
    $all("form[data-autosubmit] select").forEach(function (select) {
      select.addEventListener("change", function () { select.form.requestSubmit(); });
    });
    document.addEventListener("click", onClick);
    document.addEventListener("submit", onSubmit, true);
  });
})();
