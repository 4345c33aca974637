/* Draws the training chart of the runner's page with uPlot (uplot.iife.min.js, loaded before this).
   The numbers come from the page itself (a JSON block, never executed), so the chart and the table below
   it always show the same values; without JavaScript the table is all there is. */
(function () {
  "use strict";
  function draw() {
    var holder = document.getElementById("load-chart");
    var source = document.getElementById("load-chart-data");
    if (!holder || !source || typeof uPlot === "undefined") {
      return;
    }
    var d = JSON.parse(source.textContent);
    if (!d.t.length) {
      return;
    }
    function width() {
      return Math.max(280, Math.min(holder.clientWidth || 640, 900));
    }
    var options = {
      width: width(),
      height: 240,
      scales: { x: { time: true } },
      series: [
        {},
        { label: "Load", stroke: "#8a8a8a", fill: "rgba(138,138,138,0.25)", scale: "load",
          paths: uPlot.paths.bars({ size: [0.8, 12] }), points: { show: false } },
        { label: "Fitness (CTL)", stroke: "#1f6fb4", width: 2, scale: "load" },
        { label: "Fatigue (ATL)", stroke: "#c0392b", width: 2, scale: "load" },
        { label: "Form (TSB)", stroke: "#2e8b57", width: 2, dash: [6, 4], scale: "form" }
      ],
      axes: [
        {},
        { scale: "load", label: "load, fitness, fatigue" },
        { scale: "form", side: 1, label: "form", grid: { show: false } }
      ]
    };
    var chart = new uPlot(options, [d.t, d.load, d.ctl, d.atl, d.tsb], holder);
    holder.setAttribute("data-drawn", String(d.t.length));
    window.addEventListener("resize", function () {
      chart.setSize({ width: width(), height: 240 });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
