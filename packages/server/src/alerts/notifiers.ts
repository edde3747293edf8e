/**
 * Alert notifications: a generic webhook carrying Alertmanager's webhook payload (version 4, so existing
 * Alertmanager receivers work), a Slack incoming webhook, and PagerDuty Events API v2 (`trigger` and
 * `resolve` with a dedup key, so PagerDuty closes the incident it opened). Delivery retries with
 * exponential backoff; a receiver that keeps failing is logged and never stops evaluation.
 * @module
 */
import { createHash } from 'node:crypto';

/** Where notifications go. */
export type Receiver =
  | { type: 'webhook'; url: string }
  | { type: 'slack'; url: string }
  | { type: 'pagerduty'; routingKey: string; url?: string };

/** One alert as notified. Times ISO-8601. */
export interface AlertNotice {
  status: 'firing' | 'resolved';
  ruleId: string;
  name: string;
  severity: 'info' | 'warning' | 'critical';
  labels: Record<string, string>;
  /** The condition and its value, without the rule's name ("0.95 > 0.9", "0.5 > 0.9 no longer"). */
  condition: string;
  /** `<name>: <condition>`: the one line that stands for the alert. */
  summary: string;
  value: number;
  threshold: number;
  startsAt: string;
  endsAt: string | null;
  /** The rule in the dashboard (`<publicUrl>/alerts?rule=<id>`); empty without a public URL. */
  generatorUrl?: string;
  /** The dashboard's base URL (Alertmanager's `externalURL`); empty without one. */
  externalUrl?: string;
}

/** PagerDuty's Events API v2 endpoint. */
export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

/** A stable key per rule and label set (Alertmanager's fingerprint role; PagerDuty's dedup key). */
export function fingerprint(n: Pick<AlertNotice, 'ruleId' | 'labels'>): string {
  const labels = Object.keys(n.labels)
    .sort()
    .map((k) => `${k}=${n.labels[k]}`)
    .join(',');
  return createHash('sha256').update(`${n.ruleId}|${labels}`).digest('hex').slice(0, 16);
}

/** Alertmanager webhook payload (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config). */
export function alertmanagerPayload(
  notices: readonly AlertNotice[],
  receiver = 'siperf',
): Record<string, unknown> {
  const all = notices.map((n) => ({ alertname: n.name, severity: n.severity, ...n.labels }));
  const common = Object.fromEntries(
    Object.entries(all[0] ?? {}).filter(([k, v]) => all.every((l) => (l as Record<string, string>)[k] === v)),
  );
  return {
    version: '4',
    groupKey: `{}:{alertname="${notices[0]?.name ?? ''}"}`,
    truncatedAlerts: 0,
    status: notices.some((n) => n.status === 'firing') ? 'firing' : 'resolved',
    receiver,
    groupLabels: { alertname: notices[0]?.name ?? '' },
    commonLabels: common,
    commonAnnotations: notices.length === 1 ? { summary: notices[0]!.summary } : {},
    externalURL: notices[0]?.externalUrl ?? '',
    alerts: notices.map((n, i) => ({
      status: n.status,
      labels: all[i],
      annotations: { summary: n.summary, value: String(n.value), threshold: String(n.threshold) },
      startsAt: n.startsAt,
      endsAt: n.endsAt ?? '0001-01-01T00:00:00Z',
      generatorURL: n.generatorUrl ?? '',
      fingerprint: fingerprint(n),
    })),
  };
}

/** Slack incoming-webhook message: one line per alert, the rule's name once, linked to the rule. */
export function slackPayload(notices: readonly AlertNotice[]): Record<string, unknown> {
  // Slack's mrkdwn: &, < and > are escaped; a link is <url|text>.
  const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const line = (n: AlertNotice) =>
    `${n.status === 'firing' ? ':red_circle: FIRING' : ':large_green_circle: RESOLVED'} [${n.severity}] ${n.generatorUrl ? `<${n.generatorUrl}|*${esc(n.name)}*>` : `*${esc(n.name)}*`}: ${esc(n.condition)}`;
  return { text: notices.map(line).join('\n') };
}

/** PagerDuty Events API v2 event for one notice (the summary names the rule once; a link to the rule). */
export function pagerdutyPayload(n: AlertNotice, routingKey: string): Record<string, unknown> {
  return {
    routing_key: routingKey,
    event_action: n.status === 'firing' ? 'trigger' : 'resolve',
    dedup_key: fingerprint(n),
    ...(n.generatorUrl
      ? {
          client: 'siperf',
          client_url: n.generatorUrl,
          links: [{ href: n.generatorUrl, text: 'the rule in siperf' }],
        }
      : {}),
    payload: {
      summary: n.summary.slice(0, 1024),
      source: n.labels.host ?? 'siperf',
      severity: n.severity === 'critical' ? 'critical' : n.severity === 'warning' ? 'warning' : 'info',
      timestamp: n.status === 'firing' ? n.startsAt : (n.endsAt ?? n.startsAt),
      custom_details: { value: n.value, threshold: n.threshold, labels: n.labels },
    },
  };
}

/** Outcome of one delivery. */
export interface Delivery {
  receiver: Receiver['type'];
  ok: boolean;
  attempts: number;
  status?: number;
  error?: string;
}

async function postJson(url: string, body: unknown, timeoutMs: number): Promise<number> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  await res.arrayBuffer().catch(() => undefined);
  return res.status;
}

/**
 * Sends notices to a receiver, retrying 5xx, 429 and network errors up to `attempts` times with
 * exponential backoff (`backoffMs`, doubled each time). Never throws.
 */
export async function deliver(
  receiver: Receiver,
  notices: readonly AlertNotice[],
  options: { attempts?: number; backoffMs?: number; timeoutMs?: number } = {},
): Promise<Delivery[]> {
  const attempts = options.attempts ?? 3;
  const backoff = options.backoffMs ?? 500;
  const timeout = options.timeoutMs ?? 10_000;
  const bodies: [string, unknown][] =
    receiver.type === 'webhook'
      ? [[receiver.url, alertmanagerPayload(notices)]]
      : receiver.type === 'slack'
        ? [[receiver.url, slackPayload(notices)]]
        : notices.map((n) => [
            receiver.url ?? PAGERDUTY_EVENTS_URL,
            pagerdutyPayload(n, receiver.routingKey),
          ]);
  const out: Delivery[] = [];
  for (const [url, body] of bodies) {
    let last: Delivery = { receiver: receiver.type, ok: false, attempts: 0 };
    for (let i = 1; i <= attempts; i++) {
      try {
        const status = await postJson(url, body, timeout);
        last = { receiver: receiver.type, ok: status >= 200 && status < 300, attempts: i, status };
        if (last.ok || (status < 500 && status !== 429)) break;
      } catch (err) {
        last = { receiver: receiver.type, ok: false, attempts: i, error: (err as Error).message };
      }
      if (i < attempts) await new Promise((r) => setTimeout(r, backoff * 2 ** (i - 1)));
    }
    out.push(last);
  }
  return out;
}
