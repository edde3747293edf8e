/**
 * Sparklines: a small SVG line of values in a table cell (no chart library, so tables load light).
 * @module
 */

/** A small line of values (SVG), e.g. throughput per minute in a table row. */
export function Sparkline(props: { values: number[]; label: string; width?: number; height?: number }) {
  const w = props.width ?? 96;
  const h = props.height ?? 24;
  const v = props.values;
  if (v.length < 2)
    return (
      <span class="muted" title={`${props.label}: not enough data`}>
        –
      </span>
    );
  const max = Math.max(...v, 1e-9);
  const min = Math.min(...v, 0);
  const pts = v
    .map(
      (y, i) =>
        `${((i / (v.length - 1)) * (w - 2) + 1).toFixed(1)},${(h - 1 - ((y - min) / (max - min || 1)) * (h - 2)).toFixed(1)}`,
    )
    .join(' ');
  return (
    <svg class="sparkline" width={w} height={h} viewBox={`0 0 ${w} ${h}`} role="img" aria-label={props.label}>
      <polyline points={pts} fill="none" stroke="currentColor" stroke-width="1.5" />
    </svg>
  );
}
