/**
 * The trace waterfall: one row per span (or per folded run of repeated calls), bars placed by percentage
 * of the trace's duration (plain DOM, no canvas per row), VIRTUALISED: rows have a fixed height and only
 * the rows in view plus an overscan are in the DOM, inside one scroll container, so a trace of 100,000
 * spans scrolls as smoothly as one of ten.
 *
 * Keyboard (the list is an ARIA tree with an active descendant): ↑/↓ move, Home/End, PageUp/PageDown,
 * → expands (or goes to the first child), ← collapses (or goes to the parent), Space toggles, Enter opens
 * the span's details (on a folded run: unfolds it), Escape closes them.
 * @module
 */
import type { SpanNodeShape } from '@siperf/server/schemas';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ms, pct } from '../format.ts';
import { type FlatTrace, type FoldGroup, hasChildren, reveal, visibleRows } from './trace-rows.ts';
import './waterfall.css';

/** Row height, px (fixed: the virtualisation depends on it; kept in step with `.wf-row` in the CSS). */
export const ROW_HEIGHT = 24;
const HEAD_HEIGHT = 26;
/** Rows rendered above and below the view. */
const OVERSCAN = 12;
/** Deepest indentation drawn; deeper rows show their depth instead. */
const MAX_INDENT = 24;
/** Member ticks drawn in a folded row. */
const MAX_TICKS = 80;

const PALETTE = ['--c1', '--c2', '--c3', '--c4', '--c5', '--c6'];

/** A percentile as `p95`, `p99.7`, `p100` (floored so p99.6 never reads as p100). */
export function percentileLabel(p: number | null | undefined): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return '–';
  if (p >= 100) return 'p100';
  if (p >= 99) return `p${(Math.floor(p * 10) / 10).toFixed(1)}`;
  return `p${Math.floor(p)}`;
}

/** Props of {@link Waterfall}. */
export interface WaterfallProps {
  flat: FlatTrace;
  /** Services of the trace, in a fixed order (their colours). */
  services: string[];
  /** The span whose details are open. */
  selected: string | undefined;
  onSelect: (spanId: string | undefined) => void;
  /** What the percentile column is measured against, for its tooltip ("the last hour before the trace's end"). */
  percentileWindow: string;
  label: string;
}

/** The virtualised span waterfall. */
export function Waterfall(props: WaterfallProps) {
  const { flat } = props;
  const [collapsed, setCollapsed] = useState<Set<string>>(() => new Set());
  const [open, setOpen] = useState<Set<string>>(() => new Set());
  const [focus, setFocus] = useState(0);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewHeight, setViewHeight] = useState(600);
  const box = useRef<HTMLDivElement>(null);
  const frame = useRef(0);
  const revealed = useRef<string | undefined>(undefined);

  // A new trace: fresh state.
  useEffect(() => {
    setCollapsed(new Set());
    setOpen(new Set());
    setFocus(0);
    revealed.current = undefined;
  }, [flat]);

  const vis = useMemo(() => visibleRows(flat, collapsed, open), [flat, collapsed, open]);
  const colour = useMemo(() => {
    const m = new Map<string, string>();
    for (const [i, s] of props.services.entries()) m.set(s, `var(${PALETTE[i % PALETTE.length]})`);
    return m;
  }, [props.services]);

  // A newly selected span (from the URL or a click) is revealed, focused and scrolled to once the rows
  // holding it are computed.
  const pending = useRef<string | undefined>(undefined);
  useEffect(() => {
    const id = props.selected;
    if (!id || revealed.current === id) return;
    const i = flat.indexOf.get(id);
    if (i === undefined) return;
    revealed.current = id;
    pending.current = id;
    const r = reveal(flat, i, collapsed, open);
    if (r.collapsed.size !== collapsed.size) setCollapsed(r.collapsed);
    if (r.open.size !== open.size) setOpen(r.open);
  }, [props.selected, flat]);
  useEffect(() => {
    const id = pending.current;
    if (!id) return;
    const i = flat.indexOf.get(id);
    const row = i === undefined ? -1 : vis.rows.subarray(0, vis.count).indexOf(i);
    if (row < 0) return;
    pending.current = undefined;
    setFocus(row);
    scrollToRow(row);
  }, [vis, props.selected]);

  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    setViewHeight(el.clientHeight);
    const ro = new ResizeObserver(() => setViewHeight(el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  function scrollToRow(row: number) {
    const el = box.current;
    if (!el) return;
    const top = row * ROW_HEIGHT;
    const view = el.clientHeight - HEAD_HEIGHT;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + ROW_HEIGHT > el.scrollTop + view) el.scrollTop = top + ROW_HEIGHT - view;
  }

  function moveFocus(row: number) {
    const r = Math.max(0, Math.min(vis.count - 1, row));
    setFocus(r);
    scrollToRow(r);
    // The box (at most 70% of the window high) comes wholly into the page's view too.
    box.current?.scrollIntoView({ block: 'nearest' });
  }

  function toggleSpan(spanId: string, expand?: boolean) {
    setCollapsed((c) => {
      const next = new Set(c);
      const isCollapsed = next.has(spanId);
      if (expand === undefined ? !isCollapsed : !expand) next.add(spanId);
      else next.delete(spanId);
      return next;
    });
  }
  function toggleGroup(key: string, expand?: boolean) {
    setOpen((o) => {
      const next = new Set(o);
      const isOpen = next.has(key);
      if (expand === undefined ? isOpen : !expand) next.delete(key);
      else next.add(key);
      return next;
    });
  }

  /** Whether row `r` is expanded (true), collapsed (false) or a leaf (undefined). */
  function expandedOf(r: number): boolean | undefined {
    const v = vis.rows[r]!;
    if (v < 0) return open.has(flat.groups[-v - 1]!.key);
    if (!hasChildren(flat, v)) return undefined;
    return !collapsed.has(flat.nodes[v]!.spanId);
  }
  function toggleRow(r: number, expand?: boolean) {
    const v = vis.rows[r]!;
    if (v < 0) toggleGroup(flat.groups[-v - 1]!.key, expand);
    else if (hasChildren(flat, v)) toggleSpan(flat.nodes[v]!.spanId, expand);
  }

  function onKeyDown(e: KeyboardEvent) {
    if (vis.count === 0) return;
    const page = Math.max(1, Math.floor((viewHeight - HEAD_HEIGHT) / ROW_HEIGHT) - 1);
    const f = Math.min(focus, vis.count - 1);
    const state = expandedOf(f);
    switch (e.key) {
      case 'ArrowDown':
        moveFocus(f + 1);
        break;
      case 'ArrowUp':
        moveFocus(f - 1);
        break;
      case 'PageDown':
        moveFocus(f + page);
        break;
      case 'PageUp':
        moveFocus(f - page);
        break;
      case 'Home':
        moveFocus(0);
        break;
      case 'End':
        moveFocus(vis.count - 1);
        break;
      case 'ArrowRight':
        if (state === false) toggleRow(f, true);
        else if (state === true) moveFocus(f + 1);
        break;
      case 'ArrowLeft': {
        if (state === true) toggleRow(f, false);
        else {
          const d = vis.depth[f]!;
          let r = f - 1;
          while (r >= 0 && vis.depth[r]! >= d) r--;
          if (r >= 0) moveFocus(r);
        }
        break;
      }
      case ' ':
        toggleRow(f);
        break;
      case 'Enter': {
        const v = vis.rows[f]!;
        if (v < 0) toggleRow(f);
        else props.onSelect(flat.nodes[v]!.spanId);
        break;
      }
      case 'Escape':
        props.onSelect(undefined);
        break;
      default:
        return;
    }
    e.preventDefault();
  }

  const first = Math.max(0, Math.floor(Math.max(0, scrollTop - HEAD_HEIGHT) / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(vis.count, Math.ceil((scrollTop + viewHeight) / ROW_HEIGHT) + OVERSCAN);
  const focusRow = Math.min(focus, vis.count - 1);
  const rows = [];
  for (let r = first; r < last; r++) {
    const v = vis.rows[r]!;
    const depth = vis.depth[r]!;
    const common = {
      r,
      depth,
      focused: r === focusRow,
      total: flat.totalMs,
      onClick: () => {
        setFocus(r);
        if (v < 0) toggleRow(r);
        else props.onSelect(flat.nodes[v]!.spanId);
      },
      onToggle: () => {
        setFocus(r);
        toggleRow(r);
      },
      expanded: expandedOf(r),
    };
    if (v >= 0) {
      const s = flat.nodes[v]!;
      rows.push(
        <SpanRow
          key={s.spanId}
          {...common}
          span={s}
          colour={colour.get(s.service) ?? 'var(--c1)'}
          selected={s.spanId === props.selected}
          skew={flat.skew.get(s.spanId)}
          percentileWindow={props.percentileWindow}
        />,
      );
    } else {
      const g = flat.groups[-v - 1]!;
      rows.push(
        <GroupRow
          key={`g${g.key}`}
          {...common}
          group={g}
          nodes={flat.nodes}
          colour={colour.get(g.service) ?? 'var(--c1)'}
        />,
      );
    }
  }

  const ticks = [0, 0.25, 0.5, 0.75, 1];
  return (
    <>
      <div class="wf-tools">
        <button
          type="button"
          onClick={() => {
            const all = new Set<string>();
            for (let i = 0; i < flat.nodes.length; i++)
              if (hasChildren(flat, i)) all.add(flat.nodes[i]!.spanId);
            setCollapsed(all);
            setFocus(0);
          }}
        >
          Collapse all
        </button>
        <button type="button" onClick={() => setCollapsed(new Set())}>
          Expand all
        </button>
        {flat.groups.length > 0 ? (
          <button
            type="button"
            onClick={() => setOpen(open.size > 0 ? new Set() : new Set(flat.groups.map((g) => g.key)))}
          >
            {open.size > 0 ? 'Fold repeated calls' : `Unfold ${flat.groups.length} repeated-call runs`}
          </button>
        ) : null}
        <span class="muted small">
          {vis.count.toLocaleString('en')} rows shown for {flat.nodes.length.toLocaleString('en')} spans ·
          keys: ↑ ↓ move, → ← expand/collapse, Enter details, Space toggle
        </span>
      </div>
      <div
        ref={box}
        class="wf"
        style={{ height: `min(70vh, ${vis.count * ROW_HEIGHT + HEAD_HEIGHT + 2}px)` }}
        role="tree"
        aria-label={props.label}
        tabIndex={0}
        aria-activedescendant={vis.count > 0 ? `wf-row-${focusRow}` : undefined}
        onKeyDown={onKeyDown}
        onScroll={(e) => {
          const top = (e.currentTarget as HTMLDivElement).scrollTop;
          cancelAnimationFrame(frame.current);
          frame.current = requestAnimationFrame(() => setScrollTop(top));
        }}
        data-testid="waterfall"
      >
        <div class="wf-head" aria-hidden="true">
          <div class="wf-name">Span</div>
          <div class="wf-time">
            {ticks.map((t) => (
              <span
                key={t}
                class={`wf-tick${t === 1 ? ' last' : t === 0.25 || t === 0.75 ? ' minor' : ''}`}
                style={{ left: `${t * 100}%` }}
              >
                {t === 0 ? '0' : ms(flat.totalMs * t)}
              </span>
            ))}
          </div>
          <div class="num">Duration</div>
          <div class="num">Self</div>
          <div
            class="num"
            title={`Rank of the span's duration among its operation's over ${props.percentileWindow}`}
          >
            Pctl
          </div>
        </div>
        <div class="wf-body" style={{ height: `${vis.count * ROW_HEIGHT}px` }}>
          {rows}
        </div>
      </div>
    </>
  );
}

interface RowCommon {
  r: number;
  depth: number;
  focused: boolean;
  total: number;
  expanded: boolean | undefined;
  onClick: () => void;
  onToggle: () => void;
}

function Indent(props: { depth: number; expanded: boolean | undefined; onToggle: () => void; what: string }) {
  const pad = Math.min(props.depth, MAX_INDENT) * 14;
  return (
    <>
      <span class="wf-indent" style={{ width: `${pad}px` }} />
      {props.depth > MAX_INDENT ? <span class="wf-deep">L{props.depth}</span> : null}
      {props.expanded === undefined ? (
        <span class="wf-caret" />
      ) : (
        <button
          type="button"
          class="wf-caret"
          tabIndex={-1}
          aria-label={`${props.expanded ? 'Collapse' : 'Expand'} ${props.what}`}
          onClick={(e) => {
            e.stopPropagation();
            props.onToggle();
          }}
        >
          {props.expanded ? '▾' : '▸'}
        </button>
      )}
    </>
  );
}

function SpanRow(
  props: RowCommon & {
    span: SpanNodeShape;
    colour: string;
    selected: boolean;
    skew: { startsBeforeMs: number; endsAfterMs: number; parentService: string } | undefined;
    percentileWindow: string;
  },
) {
  const s = props.span;
  const left = (s.offsetMs / props.total) * 100;
  const width = (s.durationMs / props.total) * 100;
  const warnings: string[] = [];
  if (s.orphan)
    warnings.push(`missing parent: span ${s.parentSpanId} is not in this trace (shown as a root)`);
  if (props.skew) {
    const k = props.skew;
    warnings.push(
      `clock skew against ${k.parentService}: ${k.startsBeforeMs > 0 ? `starts ${ms(k.startsBeforeMs)} before its parent` : ''}${k.startsBeforeMs > 0 && k.endsAfterMs > 0 ? ', ' : ''}${k.endsAfterMs > 0 ? `ends ${ms(k.endsAfterMs)} after it` : ''}`,
    );
  }
  if (s.clockFlagged) warnings.push('clock: the span time was far from the server clock at ingest');
  const p = s.percentile;
  return (
    // The rows are not focusable: the tree (the scroll box) keeps the focus and points at its active row
    // (aria-activedescendant), so a row scrolled out of the DOM never takes the focus with it.
    // biome-ignore lint/a11y/useKeyWithClickEvents: the tree handles the keys of its active row
    // biome-ignore lint/a11y/useFocusableInteractive: the tree holds the focus (aria-activedescendant)
    <div
      id={`wf-row-${props.r}`}
      role="treeitem"
      aria-level={props.depth + 1}
      aria-expanded={props.expanded}
      aria-selected={props.selected}
      class={`wf-row${props.focused ? ' focused' : ''}${props.selected ? ' selected' : ''}${s.isError ? ' err' : ''}${s.onCriticalPath ? ' crit' : ''}`}
      style={{ top: `${props.r * ROW_HEIGHT}px` }}
      onClick={props.onClick}
      data-span={s.spanId}
    >
      <div class="wf-name" title={`${s.service} · ${s.name}${s.db ? `\n${s.db.statement}` : ''}`}>
        <Indent depth={props.depth} expanded={props.expanded} onToggle={props.onToggle} what={s.name} />
        <span class="wf-dot" style={{ background: props.colour }} />
        <span class="wf-svc">{s.service}</span>
        {s.db ? <code class="wf-label">{s.db.statement}</code> : <span class="wf-label">{s.name}</span>}
        {warnings.length > 0 ? (
          <span
            class="wf-warn"
            title={warnings.join('\n')}
            role="img"
            aria-label={`warning: ${warnings.join('; ')}`}
          >
            ⚠ {s.orphan ? 'missing parent' : props.skew ? 'clock skew' : 'clock'}
          </span>
        ) : null}
      </div>
      <div class="wf-time">
        <span
          class="wf-bar"
          style={{
            left: `${left}%`,
            width: `${width}%`,
            background: s.isError ? 'var(--bad)' : props.colour,
          }}
        />
      </div>
      <div class="num">{ms(s.durationMs)}</div>
      <div class="num muted">{ms(s.selfTimeMs)}</div>
      <div
        class={`num ${p !== null && p !== undefined && p >= 99 ? 'bad' : p !== null && p !== undefined && p >= 90 ? 'warn' : 'muted'}`}
        title={
          p === null || p === undefined
            ? `No rollup of this operation over ${props.percentileWindow}`
            : `At ${percentileLabel(p)} of ${s.db ? 'its statement' : `${s.endpoint} (${s.service}, ${s.kind})`} over ${props.percentileWindow}`
        }
      >
        {percentileLabel(p)}
      </div>
    </div>
  );
}

function GroupRow(props: RowCommon & { group: FoldGroup; nodes: SpanNodeShape[]; colour: string }) {
  const g = props.group;
  const left = (g.startMs / props.total) * 100;
  const width = ((g.endMs - g.startMs) / props.total) * 100;
  const n = g.members.length;
  const step = Math.max(1, Math.ceil(n / MAX_TICKS));
  const ticks = [];
  for (let i = 0; i < n; i += step) {
    const s = props.nodes[g.members[i]!]!;
    ticks.push(
      <span
        key={i}
        class="wf-bar wf-tickbar"
        style={{
          left: `${(s.offsetMs / props.total) * 100}%`,
          width: `${(s.durationMs / props.total) * 100}%`,
          background: s.isError ? 'var(--bad)' : props.colour,
        }}
      />,
    );
  }
  return (
    // The rows are not focusable: the tree (the scroll box) keeps the focus and points at its active row
    // (aria-activedescendant), so a row scrolled out of the DOM never takes the focus with it.
    // biome-ignore lint/a11y/useKeyWithClickEvents: the tree handles the keys of its active row
    // biome-ignore lint/a11y/useFocusableInteractive: the tree holds the focus (aria-activedescendant)
    <div
      id={`wf-row-${props.r}`}
      role="treeitem"
      aria-level={props.depth + 1}
      aria-expanded={props.expanded}
      aria-selected={false}
      class={`wf-row wf-group${props.focused ? ' focused' : ''}${g.onCriticalPath ? ' crit' : ''}`}
      style={{ top: `${props.r * ROW_HEIGHT}px` }}
      onClick={props.onClick}
      title={`${n} consecutive calls of the same ${g.isDb ? 'statement' : 'operation'} under one parent: click or press Enter to show each`}
    >
      <div class="wf-name">
        <Indent
          depth={props.depth}
          expanded={props.expanded}
          onToggle={props.onToggle}
          what={`${n} repeated calls`}
        />
        <span class="wf-dot" style={{ background: props.colour }} />
        <span class="badge warn wf-n1">{g.isDb ? 'N+1' : 'repeated'}</span>
        <code class="wf-label">{g.label}</code>
        <strong class="wf-times">× {n}</strong>
        {g.errors > 0 ? <span class="bad small"> {g.errors} failed</span> : null}
      </div>
      <div class="wf-time">
        <span class="wf-envelope" style={{ left: `${left}%`, width: `${width}%` }} />
        {ticks}
      </div>
      <div class="num" title={`the ${n} calls' durations summed; ${ms(g.sumMs / n)} each on average`}>
        Σ {ms(g.sumMs)}
      </div>
      <div class="num muted" />
      <div class="num muted" title="share of the calls that failed">
        {g.errors > 0 ? pct(g.errors / n) : ''}
      </div>
    </div>
  );
}
