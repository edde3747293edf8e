/**
 * A horizontal bar split into parts (a share of a whole): the good / needs-improvement / poor split of a
 * web vital, where a page load's time goes, a transaction's time per step. The parts carry their figures in
 * a legend and in the accessible name, so nothing is told by colour alone.
 * @module
 */
import './stacked-bar.css';

/** One part of a {@link StackedBar}. */
export interface BarPart {
  label: string;
  /** The part's size, in any unit; parts are drawn in proportion to their sum. */
  value: number;
  /** A theme variable (`--good`) or a CSS colour. */
  color: string;
  /** What the legend shows for the part (default: its share of the whole). */
  text?: string;
}

const colorOf = (c: string) => (c.startsWith('--') ? `var(${c})` : c);

/** The share of `v` in `total` as a percentage with one decimal (`0%` when total is 0). */
function share(v: number, total: number): string {
  return total > 0 ? `${((100 * v) / total).toFixed(1)}%` : '0%';
}

/**
 * A stacked bar with a legend. `label` names the whole (it opens the accessible name).
 * @param props.total - the whole the parts are a share of (default their sum); a larger total leaves the
 *   rest of the bar empty.
 */
export function StackedBar(props: {
  parts: BarPart[];
  label: string;
  total?: number;
  legend?: boolean;
  /** Bar height in px (default 14). */
  height?: number;
}) {
  const sum = props.parts.reduce((s, p) => s + Math.max(0, p.value), 0);
  const total = Math.max(props.total ?? sum, sum);
  const described = props.parts.map((p) => `${p.label} ${p.text ?? share(p.value, total)}`).join(', ');
  return (
    <div class="stacked">
      <div
        class="stacked-bar"
        role="img"
        aria-label={`${props.label}: ${described}`}
        style={{ height: `${props.height ?? 14}px` }}
      >
        {props.parts.map((p) =>
          p.value > 0 && total > 0 ? (
            <span
              key={p.label}
              title={`${p.label}: ${p.text ?? share(p.value, total)}`}
              style={{ width: `${(100 * p.value) / total}%`, background: colorOf(p.color) }}
            />
          ) : null,
        )}
      </div>
      {props.legend === false ? null : (
        <ul class="stacked-legend" aria-hidden="true">
          {props.parts.map((p) => (
            <li key={p.label}>
              <span class="swatch" style={{ background: colorOf(p.color) }} />
              {p.label} <strong>{p.text ?? share(p.value, total)}</strong>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
