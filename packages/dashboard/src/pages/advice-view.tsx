/**
 * One recommendation as the caches and recommendations pages show it: severity, title, the expected gain,
 * the action and the exact change, the evidence with its units (read from the field names, as the API
 * names them: `…Ms`, `…Bytes`, `…PerHour`, ratios), and links that open the evidence.
 * @module
 */
import type { Recommendation } from '@siperf/server/schemas';
import { type ComponentChildren, Fragment } from 'preact';
import { count, ms, num, pct } from '../format.ts';
import { bytes3 } from '../units.ts';
import { evidenceLinks } from './advice-links.ts';

const SEVERITY_TONE = { critical: 'bad', warning: 'warn', info: 'info' } as const;

/** Load time saved per hour, in words: `saves 1.2 s of load time per hour`. */
export function gainText(r: Recommendation): string {
  const t = r.expectedGain.timeSavedMsPerHour;
  return t === null ? 'not estimated' : t === 0 ? 'no time saved' : `saves ${ms(t)} per hour`;
}

const FACTOR: Record<string, string> = {
  '0.25': '¼×',
  '0.5': '½×',
  '1': '1×',
  '2': '2×',
  '4': '4×',
  '8': '8×',
};

/** An evidence value with its unit, from its field name. */
function evidenceValue(key: string, v: unknown): ComponentChildren {
  if (v === null || v === undefined) return <span class="muted">–</span>;
  if (key === 'missRatioCurve' && Array.isArray(v))
    return (v as { sizeFactor?: number; size: number; hitRatio: number }[])
      .map(
        (p) =>
          `${p.sizeFactor !== undefined ? (FACTOR[String(p.sizeFactor)] ?? `${p.sizeFactor}×`) : ''} ${count(p.size)}: ${pct(p.hitRatio)}`,
      )
      .join(' · ');
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x === 'string'))
      return (
        <ul class="plain">
          {(v as string[]).map((s, i) => (
            <li key={i}>
              <code>{s}</code>
            </li>
          ))}
        </ul>
      );
    return <code>{JSON.stringify(v)}</code>;
  }
  if (typeof v === 'number') {
    if (/PerHour$/.test(key)) return `${/Ms/.test(key) ? ms(v) : num(v, 1)} per hour`;
    if (/Ms$/.test(key)) return ms(v);
    if (/Bytes$/.test(key) || key === 'bytes') return bytes3(v);
    if (/(Ratio|ratio|Share|share|Staleness|coverage\d*)$/.test(key)) return pct(v);
    return Number.isInteger(v) ? count(v) : num(v, 3);
  }
  if (typeof v === 'string')
    return v.length > 60 || /\s(FROM|WHERE|SELECT)\s/i.test(v) ? <code>{v}</code> : v;
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return <code>{JSON.stringify(v)}</code>;
}

/** Evidence as a definition list (field name, value with its unit). */
export function EvidenceList(props: { evidence: Record<string, unknown> }) {
  const entries = Object.entries(props.evidence);
  if (entries.length === 0) return <p class="muted small">No evidence recorded.</p>;
  return (
    <dl class="facts">
      {entries.map(([k, v]) => (
        <Fragment key={k}>
          <dt>{k}</dt>
          <dd>{evidenceValue(k, v)}</dd>
        </Fragment>
      ))}
    </dl>
  );
}

/** A recommendation with its gain, action, change, evidence and evidence links. */
export function AdviceItem(props: {
  r: Recommendation;
  rank?: number;
  fingerprints?: ReadonlyMap<string, string>;
  /** Leave out the link to this cache (shown on its own page). */
  hideCache?: string;
}) {
  const { r } = props;
  const links = evidenceLinks(r, props.fingerprints ?? new Map()).filter(
    (l) => !(props.hideCache && l.label === `Cache ${props.hideCache}`),
  );
  return (
    <li class="advice">
      <p>
        {props.rank !== undefined ? <span class="rank">#{props.rank}</span> : null}
        <span class={`badge ${SEVERITY_TONE[r.severity]}`}>{r.severity}</span>{' '}
        <span class="badge muted">{r.area}</span> <strong>{r.title}</strong>
      </p>
      <p>
        <span class={r.expectedGain.timeSavedMsPerHour ? 'good' : 'muted'}>
          <strong>Expected gain:</strong> {gainText(r)}
        </span>{' '}
        — {r.expectedGain.description}
      </p>
      <p>
        <strong>Action:</strong> {r.action}
      </p>
      {r.change ? (
        <pre>
          <code>{r.change}</code>
        </pre>
      ) : null}
      <div class="evidence-links">
        {links.map((l) => (
          <a key={l.href} href={l.href}>
            {l.label} →
          </a>
        ))}
        <details>
          <summary>Evidence</summary>
          <EvidenceList evidence={r.evidence} />
        </details>
      </div>
    </li>
  );
}
