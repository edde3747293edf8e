/**
 * The table of services (the overview's, as a component): throughput and p95 with sparklines, requests,
 * error rate and Apdex of each service's SERVER spans, plus, when given, its endpoint count and when it
 * was last seen. A service seen without any server span (a worker) is listed with dashes.
 * @module
 */
import type { SeriesGroup } from '@siperf/server/schemas';
import { count, ms, pct, rps, time } from '../format.ts';
import { href } from '../router.ts';
import { Sparkline } from './sparkline.tsx';
import { Table } from './table.tsx';

/** One service of the table. */
export interface ServiceRow {
  service: string;
  /** Its server-span series (`metrics/series?groupBy=service`), absent when it has no server span. */
  group: SeriesGroup | undefined;
  endpoints?: number | undefined;
  lastSeen?: string | undefined;
}

/** A URL of a service's page. */
export function serviceHref(service: string): string {
  return href(`/services/${encodeURIComponent(service)}`);
}

/** The sortable table of services (sort kept in the URL, with `id` as its prefix). */
export function ServiceTable(props: { rows: ServiceRow[]; caption: string; id?: string }) {
  const withInfo = props.rows.some((r) => r.endpoints !== undefined);
  return (
    <Table
      id={props.id}
      caption={props.caption}
      rows={props.rows}
      rowKey={(r) => r.service}
      sort="requests"
      columns={[
        {
          key: 'service',
          label: 'Service',
          value: (r) => r.service,
          render: (r) => <a href={serviceHref(r.service)}>{r.service}</a>,
        },
        {
          key: 'requests',
          label: 'Throughput',
          numeric: true,
          value: (r) => r.group?.throughputRps ?? -1,
          render: (r) =>
            r.group ? (
              <>
                <Sparkline
                  values={r.group.points.map((p) => p.throughputRps)}
                  label={`throughput of ${r.service}`}
                />{' '}
                {rps(r.group.throughputRps)}
              </>
            ) : (
              <span class="muted" title="no server span in this range">
                –
              </span>
            ),
        },
        {
          key: 'total',
          label: 'Requests',
          numeric: true,
          value: (r) => r.group?.requests ?? -1,
          render: (r) => count(r.group?.requests),
        },
        {
          key: 'errorRate',
          label: 'Error rate',
          numeric: true,
          value: (r) => r.group?.errorRate ?? -1,
          render: (r) =>
            r.group ? (
              <span class={r.group.errorRate > 0.01 ? 'bad' : undefined}>{pct(r.group.errorRate)}</span>
            ) : (
              '–'
            ),
        },
        {
          key: 'p95',
          label: 'p95',
          numeric: true,
          value: (r) => r.group?.p95Ms ?? -1,
          render: (r) =>
            r.group ? (
              <>
                <Sparkline values={r.group.points.map((p) => p.p95Ms ?? 0)} label={`p95 of ${r.service}`} />{' '}
                {ms(r.group.p95Ms)}
              </>
            ) : (
              '–'
            ),
        },
        {
          key: 'apdex',
          label: 'Apdex',
          numeric: true,
          value: (r) => r.group?.apdex ?? -1,
          render: (r) => (r.group ? r.group.apdex.toFixed(2) : '–'),
        },
        ...(withInfo
          ? [
              {
                key: 'endpoints',
                label: 'Operations',
                numeric: true,
                value: (r: ServiceRow) => r.endpoints ?? -1,
                render: (r: ServiceRow) => count(r.endpoints),
              },
              {
                key: 'lastSeen',
                label: 'Last seen',
                value: (r: ServiceRow) => r.lastSeen ?? '',
                render: (r: ServiceRow) => time(r.lastSeen),
              },
            ]
          : []),
      ]}
    />
  );
}
