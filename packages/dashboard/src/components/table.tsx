/**
 * A sortable table: column headers are buttons (keyboard and screen readers), the sort is kept in the URL
 * (`sort=<column>` and `dir=asc|desc`) so a copied link keeps it.
 * @module
 */
import type { ComponentChildren } from 'preact';
import { setParams, useLocation } from '../router.ts';

/** One column. */
export interface Column<T> {
  key: string;
  label: string;
  /** The value sorted on (numbers sort numerically). */
  value: (row: T) => number | string | null | undefined;
  /** What the cell shows (default: the value). */
  render?: (row: T) => ComponentChildren;
  numeric?: boolean;
  /** `false` for a column of actions: its header is plain text (a label is still required for screen readers). */
  sortable?: boolean;
}

/** Props of {@link Table}. */
export interface TableProps<T> {
  rows: readonly T[];
  columns: Column<T>[];
  /** Default sort column and direction. */
  sort: string;
  dir?: 'asc' | 'desc';
  caption: string;
  rowKey: (row: T) => string;
  /** Query-parameter prefix when a page has two tables. */
  id?: string;
  /** Limits rows shown (the rest are counted). */
  limit?: number;
}

/** A sortable table. */
export function Table<T>(props: TableProps<T>) {
  const { params } = useLocation();
  const p = props.id ? `${props.id}.` : '';
  const sortKey = params.get(`${p}sort`) ?? props.sort;
  const col = props.columns.find((c) => c.key === sortKey) ?? props.columns[0]!;
  const dir = (params.get(`${p}dir`) as 'asc' | 'desc' | null) ?? props.dir ?? 'desc';
  const sorted = [...props.rows].sort((a, b) => {
    const x = col.value(a);
    const y = col.value(b);
    const c =
      typeof x === 'number' && typeof y === 'number' ? x - y : String(x ?? '').localeCompare(String(y ?? ''));
    return dir === 'asc' ? c : -c;
  });
  const shown = props.limit ? sorted.slice(0, props.limit) : sorted;
  return (
    <div class="table-wrap">
      <table>
        <caption>{props.caption}</caption>
        <thead>
          <tr>
            {props.columns.map((c) => {
              const active = c.key === col.key;
              return (
                <th
                  key={c.key}
                  scope="col"
                  class={c.numeric ? 'num' : undefined}
                  aria-sort={
                    c.sortable === false
                      ? undefined
                      : active
                        ? dir === 'asc'
                          ? 'ascending'
                          : 'descending'
                        : 'none'
                  }
                >
                  {c.sortable === false ? (
                    c.label
                  ) : (
                    <button
                      type="button"
                      onClick={() =>
                        setParams(
                          { [`${p}sort`]: c.key, [`${p}dir`]: active && dir === 'desc' ? 'asc' : 'desc' },
                          true,
                        )
                      }
                    >
                      {c.label}
                      {active ? (dir === 'asc' ? ' ▲' : ' ▼') : ''}
                    </button>
                  )}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {shown.map((r) => (
            <tr key={props.rowKey(r)}>
              {props.columns.map((c) => (
                <td key={c.key} class={c.numeric ? 'num' : undefined}>
                  {c.render ? c.render(r) : String(c.value(r) ?? '–')}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {props.limit && sorted.length > props.limit ? (
        <p class="muted">
          {props.limit} of {sorted.length} shown
        </p>
      ) : null}
    </div>
  );
}
