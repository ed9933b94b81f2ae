import type uPlotType from "uplot";
import { h } from "./dom.js";
import { when } from "./format.js";

type UPlotCtor = typeof uPlotType;

/** uPlot is loaded by a classic <script> from /ui/vendor/uplot, served from node_modules by the sidecar. */
function uPlotCtor(): UPlotCtor | undefined {
  return (globalThis as unknown as { uPlot?: UPlotCtor }).uPlot;
}

export interface ChartSeries {
  label: string;
  /** null: no sample in that bucket (a gap in the line and "no sample" in the table), never a zero. */
  values: (number | null)[];
  color: string;
  dash?: number[];
}

/** How a chart's numbers read: one unit for the axis, the legend and the table alike. */
export interface ChartUnit {
  /** Named in the axis title and the table's headers: "ms", "%", "decisions per hour". */
  name: string;
  /** A value as a number in that unit, without the unit: 0.25 -> "25" for "%". */
  value: (v: number) => string;
}

export interface ChartSpec {
  title: string;
  /** Bucket start times, ISO. */
  times: string[];
  series: ChartSeries[];
  unit: ChartUnit;
  /** Fixed y range, e.g. [0, 1] for rates; else from 0 to a little above the largest value. */
  yRange?: [number, number];
  /** Which buckets have data, for the time axis's span; default: any series has a value there. */
  hasData?: (i: number) => boolean;
}

/** Bucket length in seconds: the spacing of the series, else an hour. */
function bucketSeconds(x: number[]): number {
  return x.length > 1 ? x[1]! - x[0]! : 3600;
}

/**
 * A time chart plus the same numbers as a table (in a <details>), since a canvas says nothing to a screen
 * reader or to the keyboard. The time axis spans the buckets that have data (not the whole period asked
 * for, where a few points would sit in a corner); a series without a sample anywhere says so instead of
 * drawing an empty frame. Must be mounted into a container already in the document: uPlot measures it.
 */
export function mountChart(container: HTMLElement, spec: ChartSpec): void {
  const x = spec.times.map((t) => Math.floor(new Date(t).getTime() / 1000));
  const withData = x.map((_, i) =>
    spec.hasData
      ? spec.hasData(i)
      : spec.series.some((s) => s.values[i] !== null && s.values[i] !== undefined),
  );
  const first = withData.indexOf(true);
  const last = withData.lastIndexOf(true);
  const figure = h("figure", { class: "chart-figure" }, h("figcaption", {}, spec.title));
  container.appendChild(figure);
  if (first === -1) {
    figure.appendChild(h("p", { class: "muted no-sample" }, "No sample in this period: nothing to chart."));
    return;
  }
  const step = bucketSeconds(x);
  const from = x[first]!;
  const to = x[last]! + step;
  figure.appendChild(
    h(
      "p",
      { class: "muted small chart-span" },
      `${when(new Date(from * 1000).toISOString())} to ${when(new Date(to * 1000).toISOString())}, ` +
        `in ${spec.unit.name}; a gap is a bucket with no sample.`,
    ),
  );
  const plotBox = h("div", {
    class: "chart",
    role: "img",
    "aria-label": `${spec.title}: chart, data in the table below`,
  });
  // Our own legend: the series with their colour and line style, not uPlot's live legend of "--" values.
  const legend = h(
    "ul",
    { class: "chart-legend" },
    spec.series.map((s) => {
      const swatch = h("span", { class: "swatch", "aria-hidden": "true" });
      // Set through the CSSOM: the console's Content-Security-Policy refuses style attributes.
      swatch.style.borderTop = `3px ${s.dash ? (s.dash[0]! > 3 ? "dashed" : "dotted") : "solid"} ${s.color}`;
      return h("li", {}, swatch, s.label);
    }),
  );
  const rows = spec.times.map((t, i) => ({ t, i })).filter(({ i }) => i >= first && i <= last);
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
        h("caption", {}, `${spec.title} (${spec.unit.name})`),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col" }, "Bucket start"),
            spec.series.map((s) => h("th", { scope: "col" }, `${s.label} (${spec.unit.name})`)),
          ),
        ),
        h(
          "tbody",
          {},
          rows.map(({ t, i }) =>
            h(
              "tr",
              {},
              h("th", { scope: "row" }, when(t)),
              spec.series.map((s) => {
                const v = s.values[i];
                return h("td", {}, v === null || v === undefined ? "no sample" : spec.unit.value(v));
              }),
            ),
          ),
        ),
      ),
    ),
  );
  figure.append(legend, plotBox, dataTable);

  const UPlot = uPlotCtor();
  if (!UPlot) {
    plotBox.replaceChildren(
      h("p", { class: "muted" }, "The chart library did not load; the numbers are in the table."),
    );
    return;
  }
  const data: uPlotType.AlignedData = [
    x,
    ...spec.series.map((s) => s.values.map((v) => (v === undefined ? null : v))),
  ];
  const width = (): number => Math.max(280, Math.floor(figure.clientWidth || 600) - 16);
  const plot = new UPlot(
    {
      width: width(),
      height: 220,
      legend: { show: false },
      series: [
        {},
        ...spec.series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          dash: s.dash,
          // A bucket without a sample is a gap: a line across it would draw data that is not there.
          spanGaps: false,
          points: { show: last - first < 40 },
        })),
      ],
      scales: {
        // Points sit at their bucket's start: half a bucket either side keeps the first and last off the frame.
        x: { time: true, range: [from - step / 2, x[last]! + step / 2] },
        y: spec.yRange ? { range: spec.yRange } : { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
      },
      axes: [
        { stroke: "#333" },
        {
          stroke: "#333",
          size: 60,
          label: spec.unit.name,
          values: (_u, splits) => splits.map((v) => spec.unit.value(v)),
        },
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
