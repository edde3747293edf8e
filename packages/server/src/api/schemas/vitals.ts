/**
 * Schemas of the real-user monitoring routes: the web-vitals beacon, the user-experience report, and the
 * `rum.js` snippet. The beacon's body is documented here but parsed item by item by the server (a bad item
 * is rejected alone, the rest kept), so it is not validated as a whole.
 * @module
 */
import { type Static, Type } from 'typebox';
import {
  Closed,
  Ms,
  Nullable,
  OpenObject,
  problems,
  StringEnum,
  WindowAnswer,
  WindowQuery,
} from './common.ts';

/** The metrics of a beacon item. */
export const VITALS_METRIC_NAMES = ['LCP', 'INP', 'CLS', 'FCP', 'TTFB', 'FID'] as const;

/** One web-vitals metric object as the `web-vitals` library reports it, plus the page. */
export const BeaconItem = Type.Object(
  {
    name: StringEnum(VITALS_METRIC_NAMES),
    value: Type.Number({ minimum: 0, description: 'ms, or the unitless CLS score' }),
    page: Type.String({ description: 'page path or URL (the query string is dropped)' }),
    service: Type.Optional(Type.String()),
    delta: Type.Optional(Type.Number()),
    id: Type.Optional(Type.String()),
    rating: Type.Optional(Type.String()),
    navigationType: Type.Optional(Type.String()),
    attribution: Type.Optional(OpenObject),
  },
  { description: 'one web-vitals metric; other members are ignored' },
);

export const BeaconQuery = Closed({
  key: Type.Optional(Type.String({ description: 'the ingest key (browsers cannot set headers on beacons)' })),
});

export const BeaconRejection = Closed({
  index: Type.Integer({ description: 'position of the item in the beacon' }),
  field: Type.String(),
  message: Type.String(),
});

export const BeaconAnswer = Closed({
  accepted: Type.Integer(),
  rejected: Type.Array(BeaconRejection),
});
export type BeaconAnswer = Static<typeof BeaconAnswer>;

const Rating = StringEnum(['good', 'needs-improvement', 'poor'] as const);

export const VitalSummary = Closed({
  count: Type.Integer(),
  p75: Type.Number({ description: 'ms, or the CLS score' }),
  rating: Rating,
  good: Type.Integer(),
  needsImprovement: Type.Integer(),
  poor: Type.Integer(),
  score: Type.Number({ description: 'score of the p75 on the Lighthouse curve, 0..1' }),
});

const metricsOf = <T extends Parameters<typeof Type.Optional>[0]>(schema: T) =>
  Closed(
    Object.fromEntries(VITALS_METRIC_NAMES.map((m) => [m, Type.Optional(schema)])) as Record<
      (typeof VITALS_METRIC_NAMES)[number],
      ReturnType<typeof Type.Optional<T>>
    >,
  );

export const PageExperience = Closed({
  page: Nullable(Type.String()),
  score: Nullable(Type.Number({ description: '0–100' })),
  scoreBasis: Type.Array(StringEnum(VITALS_METRIC_NAMES)),
  metrics: metricsOf(VitalSummary),
  loadBreakdown: Closed({
    ttfbP75Ms: Nullable(Ms()),
    fcpP75Ms: Nullable(Ms()),
    lcpP75Ms: Nullable(Ms()),
    lcpSubpartsMeanMs: Type.Record(Type.String(), Type.Number()),
    ttfbPhasesMeanMs: Type.Record(Type.String(), Type.Number()),
  }),
});
export type PageExperience = Static<typeof PageExperience>;

export const UserExperienceQuery = Closed({
  ...WindowQuery,
  page: Type.Optional(Type.String({ maxLength: 2048, description: 'one page path (without query string)' })),
  maxPages: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 1000, default: 50, description: 'pages listed, by beacon count' }),
  ),
});
export type UserExperienceQuery = Static<typeof UserExperienceQuery>;

export const UserExperienceAnswer = Closed({
  ...WindowAnswer,
  percentile: Type.String(),
  thresholds: metricsOf(Closed({ good: Type.Number(), poor: Type.Number() })),
  weights: metricsOf(Type.Number()),
  overall: PageExperience,
  pages: Type.Array(PageExperience),
});
export type UserExperienceAnswer = Static<typeof UserExperienceAnswer>;

/** Route schemas of the RUM routes. */
export const vitalsRouteSchemas = {
  rum: {
    summary: 'The browser snippet (@siperf/browser): loads web-vitals and sends beacons here',
    tags: ['apm'],
    querystring: Closed({}),
    response: {
      200: { description: 'JavaScript', content: { 'application/javascript': { schema: Type.String() } } },
      ...problems(),
    },
  },
  beacon: {
    summary: 'Web-vitals beacon: one web-vitals metric object or an array of them, each with `page`',
    tags: ['apm'],
    querystring: BeaconQuery,
    body: {
      content: {
        'application/json': { schema: Type.Union([BeaconItem, Type.Array(BeaconItem)]) },
        'text/plain': {
          schema: Type.String({ description: 'the same JSON as text (what navigator.sendBeacon sends)' }),
        },
      },
    },
    response: { 200: BeaconAnswer, ...problems(413, 415) },
  },
  report: {
    summary: 'Web vitals per page and overall: p75, good/needs-improvement/poor counts, 0–100 score',
    tags: ['apm'],
    querystring: UserExperienceQuery,
    response: { 200: UserExperienceAnswer, ...problems() },
  },
} as const;
