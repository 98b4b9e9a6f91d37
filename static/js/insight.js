// Statistics (统计分析): draw each chart from its JSON data block; a click on a bar opens the cases behind it.
(function () {
  "use strict";
  if (typeof window.echarts === "undefined") { return; }
  var palette = ["#b5121b", "#0a3069", "#1a7f37", "#9a6700", "#8250df", "#57606a"];

  function option(spec) {
    var combo = spec.kind === "combo";
    var series = spec.series.map(function (s, i) {
      return {
        name: s.name, type: s.type || "bar", data: s.data, yAxisIndex: s.axis || 0,
        barMaxWidth: 36, smooth: true, connectNulls: true,
        itemStyle: { color: palette[i % palette.length] },
        cursor: spec.links && spec.links.some(Boolean) ? "pointer" : "default"
      };
    });
    var yAxis = [{ type: "value", minInterval: 1 }];
    if (combo) { yAxis.push({ type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } }); }
    var chars = spec.categories.reduce(function (n, c) { return n + String(c).length; }, 0);
    var long = chars > 24 || spec.categories.some(function (c) { return String(c).length > 6; });
    var many = spec.categories.length > 14;
    return {
      animation: false,
      color: palette,
      tooltip: { trigger: "axis", renderMode: "richText" },  // drawn on the canvas: no inline styles (CSP)
      legend: spec.series.length > 1 ? { top: 0 } : undefined,
      grid: { left: 48, right: combo ? 48 : 16, top: spec.series.length > 1 ? 30 : 12, bottom: long ? 80 : 30 },
      xAxis: { type: "category", data: spec.categories,
               axisLabel: { interval: many ? "auto" : 0, rotate: long ? 35 : 0, hideOverlap: true, formatter: function (v) { return String(v).length > 14 ? String(v).slice(0, 13) + "…" : v; } } },
      yAxis: yAxis,
      series: series
    };
  }

  document.querySelectorAll(".insight-chart[data-chart]").forEach(function (el) {
    var data = document.getElementById(el.getAttribute("data-chart"));
    if (!data) { return; }
    var spec = JSON.parse(data.textContent);
    if (!spec.categories.length) { el.classList.add("insight-empty"); el.textContent = "没有数据"; return; }
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(option(spec));
    chart.on("click", function (params) {
      var link = spec.links && spec.links[params.dataIndex];
      if (link) { window.location.href = link; }
    });
    window.addEventListener("resize", function () { chart.resize(); });
  });
})();
