import type uPlotType from "uplot";
import { h } from "./dom.js";

type UPlotCtor = typeof uPlotType;

/** uPlot is loaded by a classic <script> from /ui/vendor/uplot, served from node_modules by the sidecar. */
function uPlotCtor(): UPlotCtor | undefined {
  return (globalThis as unknown as { uPlot?: UPlotCtor }).uPlot;
}

export interface ChartSeries {
  label: string;
  values: (number | null)[];
  color: string;
  dash?: number[];
}

export interface ChartSpec {
  title: string;
  /** Bucket start times, ISO. */
  times: string[];
  series: ChartSeries[];
  format: (v: number) => string;
  /** Fixed y range, e.g. [0, 1] for rates. */
  yRange?: [number, number];
  /** The period shown, ISO start and end: without it one bucket would stretch the axis over years. */
  period?: [string, string];
}

/**
 * A time chart plus the same numbers as a table (in a <details>), since a canvas says nothing to a screen
 * reader or to the keyboard. Must be mounted into a container that is already in the document: uPlot
 * measures it.
 */
export function mountChart(container: HTMLElement, spec: ChartSpec): void {
  const plotBox = h("div", {
    class: "chart",
    role: "img",
    "aria-label": `${spec.title}: chart, data in the table below`,
  });
  const dataTable = h(
    "details",
    { class: "chart-data" },
    h("summary", {}, `${spec.title}: data as a table`),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        {},
        h("caption", {}, spec.title),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col" }, "Time"),
            spec.series.map((s) => h("th", { scope: "col" }, s.label)),
          ),
        ),
        h(
          "tbody",
          {},
          spec.times.map((t, i) =>
            h(
              "tr",
              {},
              h("th", { scope: "row" }, new Date(t).toLocaleString()),
              spec.series.map((s) => {
                const v = s.values[i];
                return h("td", {}, v === null || v === undefined ? "no sample" : spec.format(v));
              }),
            ),
          ),
        ),
      ),
    ),
  );
  const figure = h("figure", { class: "chart-figure" }, h("figcaption", {}, spec.title), plotBox, dataTable);
  container.appendChild(figure);

  const UPlot = uPlotCtor();
  if (!UPlot) {
    plotBox.replaceChildren(
      h("p", { class: "muted" }, "The chart library did not load; the numbers are in the table."),
    );
    return;
  }
  const x = spec.times.map((t) => Math.floor(new Date(t).getTime() / 1000));
  const data: uPlotType.AlignedData = [
    x,
    ...spec.series.map((s) => s.values.map((v) => (v === undefined ? null : v))),
  ];
  const width = (): number => Math.max(280, Math.floor(figure.clientWidth || 600) - 16);
  const plot = new UPlot(
    {
      width: width(),
      height: 220,
      series: [
        {},
        ...spec.series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          dash: s.dash,
          spanGaps: true,
          points: { show: x.length < 40 },
          value: (_u: uPlotType, v: number | null) => (v === null ? "–" : spec.format(v)),
        })),
      ],
      scales: {
        x: {
          time: true,
          ...(spec.period
            ? { range: spec.period.map((t) => Math.floor(new Date(t).getTime() / 1000)) as [number, number] }
            : {}),
        },
        y: spec.yRange ? { range: spec.yRange } : { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
      },
      axes: [
        { stroke: "#333" },
        { stroke: "#333", size: 64, values: (_u, splits) => splits.map((v) => spec.format(v)) },
      ],
    },
    data,
    plotBox,
  );
  // Follow the container's width (window resize, side panel changes).
  if (typeof ResizeObserver !== "undefined") {
    const ro = new ResizeObserver(() => {
      if (!plotBox.isConnected) {
        ro.disconnect();
        plot.destroy();
        return;
      }
      plot.setSize({ width: width(), height: 220 });
    });
    ro.observe(figure);
  }
}
