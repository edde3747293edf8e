/**
 * A chart of y against a numeric x that is not time (uPlot, as {@link TimeChart}): a miss-ratio curve
 * (hit ratio by cache size), with an optional vertical marker (the current size).
 * @module
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useColorScheme } from './color-scheme.ts';

/** Props of {@link CurveChart}. */
export interface CurveChartProps {
  /** x values, ascending. */
  x: number[];
  series: { label: string; values: (number | null)[]; color?: string; points?: boolean }[];
  /** Formats an x value with its unit. */
  formatX: (v: number) => string;
  /** What x is, for the legend (`size`). */
  xLabel?: string;
  /** Formats a y value with its unit. */
  formatY: (v: number) => string;
  /** Log scale on x (sizes from ¼× to 8×). */
  logX?: boolean;
  /** A vertical line at this x, with its label (drawn in the accent colour). */
  marker?: { x: number; label: string };
  height?: number;
  title: string;
  /** y axis bounds (default: from the data). */
  yRange?: [number, number];
}

function cssVar(name: string, el: Element): string {
  return name.startsWith('--') ? getComputedStyle(el).getPropertyValue(name).trim() || '#888' : name;
}

/** A line chart over a numeric x with a legend; the accessible name is its title. */
export function CurveChart(props: CurveChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const scheme = useColorScheme();
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const axis = cssVar('--muted', el);
    const grid = cssVar('--grid', el);
    const accent = cssVar('--accent', el);
    const marker = props.marker;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: props.height ?? 220,
      scales: {
        x: { time: false, ...(props.logX ? { distr: 3, log: 2 } : {}) },
        ...(props.yRange ? { y: { range: props.yRange } } : {}),
      },
      series: [
        { label: props.xLabel ?? 'x', value: (_u, v) => (v === null ? '–' : props.formatX(v)) },
        ...props.series.map((s, i) => ({
          label: s.label,
          stroke: cssVar(s.color ?? `--c${(i % 6) + 1}`, el),
          width: 2,
          points: { show: s.points ?? true, size: 6 },
          value: (_u: uPlot, v: number | null) => (v === null ? '–' : props.formatY(v)),
        })),
      ],
      axes: [
        {
          stroke: axis,
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid },
          values: (_u, vals) => vals.map((v) => props.formatX(v)),
        },
        {
          stroke: axis,
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid },
          size: 60,
          values: (_u, vals) => vals.map((v) => props.formatY(v)),
        },
      ],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      hooks: marker
        ? {
            draw: [
              (u) => {
                const cx = u.valToPos(marker.x, 'x', true);
                const ctx = u.ctx;
                ctx.save();
                ctx.strokeStyle = accent;
                ctx.fillStyle = accent;
                ctx.setLineDash([4, 4]);
                ctx.lineWidth = 1.5 * devicePixelRatio;
                ctx.beginPath();
                ctx.moveTo(cx, u.bbox.top);
                ctx.lineTo(cx, u.bbox.top + u.bbox.height);
                ctx.stroke();
                ctx.setLineDash([]);
                ctx.font = `${12 * devicePixelRatio}px system-ui, sans-serif`;
                ctx.textBaseline = 'top';
                const w = ctx.measureText(marker.label).width;
                const right = cx + 4 * devicePixelRatio + w < u.bbox.left + u.bbox.width;
                ctx.textAlign = right ? 'left' : 'right';
                ctx.fillText(
                  marker.label,
                  cx + (right ? 4 : -4) * devicePixelRatio,
                  u.bbox.top + 4 * devicePixelRatio,
                );
                ctx.restore();
              },
            ],
          }
        : {},
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
  }, [
    props.x,
    props.series,
    props.height,
    props.formatX,
    props.formatY,
    props.marker,
    props.logX,
    props.yRange,
    scheme,
  ]);
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <div ref={box} role="img" aria-label={props.title} />
    </figure>
  );
}
