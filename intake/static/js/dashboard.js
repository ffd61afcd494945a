/* Dashboard charts (Chart.js, vendored). Data comes from a JSON block, never inline script. */
(function () {
  "use strict";
  var PALETTE = ["#3f6be0", "#e08a18", "#1f8a4c", "#7048c4", "#d13b2f", "#0e9aa7", "#c2185b", "#5d6d7e"];

  function datasets(accounts, key, stacked) {
    return Object.keys(accounts).map(function (name, i) {
      var color = PALETTE[i % PALETTE.length];
      return { label: name, data: accounts[name][key], backgroundColor: color, borderColor: color,
               borderWidth: stacked ? 0 : 2, tension: 0.25, pointRadius: 2, stack: stacked ? "all" : undefined };
    });
  }

  function errorsOf(accounts) {
    var out = {};
    Object.keys(accounts).forEach(function (name) {
      var a = accounts[name];
      out[name] = { total: a.errors.map(function (e, i) { return e + a.failed[i]; }) };
    });
    return out;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var block = document.getElementById("dashboard-data");
    if (!block || typeof window.Chart === "undefined") { return; }
    var data = JSON.parse(block.textContent);
    var common = { responsive: true, maintainAspectRatio: false, animation: false,
                   plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
                   scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } };
    new window.Chart(document.getElementById("chart-intake"), {
      type: "bar", data: { labels: data.labels, datasets: datasets(data.accounts, "stored", true) },
      options: Object.assign({}, common, { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } })
    });
    new window.Chart(document.getElementById("chart-errors"), {
      type: "line", data: { labels: data.labels, datasets: datasets(errorsOf(data.accounts), "total", false) },
      options: common
    });
    document.body.setAttribute("data-charts-ready", "1");
  });
})();
