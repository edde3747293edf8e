/**
 * Time-series charts with uPlot (https://github.com/leeoniya/uPlot): fast canvas drawing of many points,
 * a cursor with values, resize with its box, colours from the theme.
 * @module
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useColorScheme } from './color-scheme.ts';

/** One line of a chart. */
export interface Series {
  label: string;
  /** Values aligned with the chart's `x`; `null` for a gap. */
  values: (number | null)[];
  /** A CSS colour or a theme variable name (`--c1`). */
  color?: string;
  /** Dashed line (forecasts). */
  dash?: boolean;
  /** Fill to the series named here (bands), or `true` to the axis. */
  fill?: boolean;
  width?: number;
}

/** Props of {@link TimeChart}. */
export interface TimeChartProps {
  /** Seconds since the epoch. */
  x: number[];
  series: Series[];
  /** Formats a y value with its unit. */
  format: (v: number) => string;
  height?: number;
  title: string;
  /** Bands between pairs of series (indexes into `series`, upper then lower). */
  bands?: [number, number][];
  /** y values the axis always shows (e.g. `[0, 1]` for a utilisation); the data may extend it. */
  yInclude?: number[];
}

const PALETTE = ['--c1', '--c2', '--c3', '--c4', '--c5', '--c6'];

/** Whether some value has no non-null neighbour (uPlot draws a line only between two points). */
function hasIsolated(values: readonly (number | null)[]): boolean {
  for (let i = 0; i < values.length; i++) {
    if (values[i] === null || values[i] === undefined) continue;
    const before = i > 0 ? values[i - 1] : null;
    const after = i < values.length - 1 ? values[i + 1] : null;
    if ((before === null || before === undefined) && (after === null || after === undefined)) return true;
  }
  return false;
}

function cssColor(name: string, el: Element): string {
  return name.startsWith('--') ? getComputedStyle(el).getPropertyValue(name).trim() || '#888' : name;
}

/** A line chart over time with a legend; the accessible name is its title. */
export function TimeChart(props: TimeChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const scheme = useColorScheme();
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const axisColor = cssColor('--muted', el);
    const gridColor = cssColor('--grid', el);
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: props.height ?? 200,
      series: [
        {},
        ...props.series.map((s, i) => {
          const color = cssColor(s.color ?? PALETTE[i % PALETTE.length]!, el);
          return {
            label: s.label,
            stroke: color,
            width: s.width ?? 1.5,
            ...(s.dash ? { dash: [6, 4] } : {}),
            ...(s.fill ? { fill: `${color}33` } : {}),
            value: (_u: uPlot, v: number | null) => (v === null ? '–' : props.format(v)),
            spanGaps: false,
            // A value with no neighbour (data in a single step) draws no line: show it as a dot.
            points: { show: hasIsolated(s.values), size: 6 },
          };
        }),
      ],
      axes: [
        { stroke: axisColor, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor } },
        {
          stroke: axisColor,
          grid: { stroke: gridColor, width: 1 },
          ticks: { stroke: gridColor },
          // Wide enough for the longest label (`4.54 MiB/s`), at least 70 px.
          size: (u, values) => {
            if (!values?.length) return 70;
            u.ctx.font = u.axes[1]?.font?.[0] ?? '12px system-ui';
            const widest = Math.max(...values.map((v) => u.ctx.measureText(v ?? '').width));
            return Math.max(70, Math.ceil(widest / devicePixelRatio) + 22);
          },
          values: (_u, vals) => vals.map((v) => props.format(v)),
        },
      ],
      scales: {
        y: {
          range: (_u: uPlot, min: number | null, max: number | null): uPlot.Range.MinMax => {
            let lo = Math.min(min ?? Number.POSITIVE_INFINITY, ...(props.yInclude ?? []));
            let hi = Math.max(max ?? Number.NEGATIVE_INFINITY, ...(props.yInclude ?? []));
            if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
            // Values from zero up start the axis at zero; a flat line gets a span around it (not uPlot's ±100×).
            if (lo > 0 && lo <= hi / 2) lo = 0;
            if (hi === lo) hi = lo === 0 ? 1 : lo + Math.abs(lo) * 0.1;
            const pad = (hi - lo) * 0.05;
            return [lo === 0 ? 0 : lo - pad, hi + pad];
          },
        },
      },
      ...(props.bands
        ? { bands: props.bands.map(([a, b]) => ({ series: [a + 1, b + 1] as [number, number] })) }
        : {}),
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
    };
    const data = [props.x, ...props.series.map((s) => s.values)] as uPlot.AlignedData;
    const plot = new uPlot(opts, data, el);
    const resize = new ResizeObserver(() =>
      plot.setSize({ width: Math.max(200, el.clientWidth), height: opts.height }),
    );
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [props.x, props.series, props.height, props.format, props.bands, props.yInclude, scheme]);
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <div ref={box} role="img" aria-label={props.title} />
    </figure>
  );
}
