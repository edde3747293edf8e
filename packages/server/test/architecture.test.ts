/**
 * The one-way data flow of STYLE.md ("One-way data flow, no cycles"), checked on the parsed source of every
 * file of src/ (tests beside the code excepted):
 *
 *   util → errors.ts → config.ts → model → storage (ports) → ingest | apm, resources, db, cache, alerts
 *        → recommendations → api → app.ts → cli, index.ts
 *
 * - A file imports only its own folder or folders to its left (`RANK`); `model/` imports nothing from the project.
 * - The analysis folders (ingest, apm, resources, db, cache, alerts) are peers and do not import each other
 *   (`ALLOWED_PEER_EDGES` is empty: a type two of them need lives in model/, a join in recommendations/, and
 *   alerts reads apm/ and resources/ through function ports wired in app.ts).
 * - Nothing imports `api/` but app.ts and cli/.
 * - Storage adapters (`storage/<adapter>/`) import only the ports (`storage/*.ts`), model/, util/ and the
 *   error catalogue errors.ts; ports never import an adapter; only app.ts and cli/ reach into an adapter.
 * - No import cycle between files, type-only imports included (Biome's `noImportCycles` checks the value ones
 *   in `npm run lint`).
 *
 * Imports are read with @babel/parser (TypeScript plugin), not a regex: `import`, `import type`,
 * `export … from`, `export type … from`, `export * from`, `export * as ns from`, side-effect `import '…'`,
 * dynamic `import('…')`, `import x = require('…')` and type-level `import('…')` all count; comments and
 * strings that merely look like imports do not.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from '@babel/parser';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

/** The left-to-right order of STYLE.md: a file may import areas of a lower rank only (or its own area). */
export const RANK: Readonly<Record<string, number>> = {
  util: 0,
  'errors.ts': 1,
  'config.ts': 2,
  model: 3,
  storage: 4,
  ingest: 5,
  apm: 5,
  resources: 5,
  db: 5,
  cache: 5,
  alerts: 5,
  recommendations: 6,
  api: 7,
  'app.ts': 8,
  cli: 9,
  /** The package's library entry (re-exports app.ts and config.ts). */
  'index.ts': 9,
};

/** Areas of one rank that must not import each other. */
const PEERS = new Set(['ingest', 'apm', 'resources', 'db', 'cache', 'alerts']);
/** The composition root: the only importers of api/ and of a concrete storage adapter. */
const ROOT = new Set(['app.ts', 'cli']);
/** What a storage adapter may import outside storage/ (ports are storage/*.ts). */
const ADAPTER_MAY_IMPORT = new Set(['model', 'util', 'errors.ts']);

/**
 * Peer imports allowed by name, one file and one folder each (none today: alerts reads apm/ and resources/
 * through its `AlertQueries` port wired in app.ts, the advisor's joins live in recommendations/, and the log
 * digest types moved down into model/). A new peer import anywhere fails; an entry that no longer matches
 * any import fails too, so delete it then.
 */
export const ALLOWED_PEER_EDGES: readonly { from: string; to: string; why: string }[] = [];

/** How a file names another module. */
export type ImportForm =
  | 'import'
  | 'import type'
  | 'side-effect import'
  | 'export from'
  | 'export type from'
  | 'export * from'
  | 'dynamic import'
  | 'import type()'
  | 'import = require';

export interface ImportRef {
  /** The specifier as written; `undefined` for a dynamic import of a computed expression. */
  specifier: string | undefined;
  form: ImportForm;
  /** Erased by the compiler (`import type`, `export type`, `import('…')` in a type). */
  typeOnly: boolean;
  /** 1-based line of the statement or call. */
  line: number;
}

interface Node {
  type: string;
  [key: string]: unknown;
}

const isNode = (v: unknown): v is Node =>
  typeof v === 'object' && v !== null && typeof (v as Node).type === 'string';
const lineOf = (n: Node): number => (n.loc as { start: { line: number } } | undefined)?.start.line ?? 0;
const stringValue = (n: unknown): string | undefined => {
  if (!isNode(n)) return undefined;
  if (n.type === 'StringLiteral') return n.value as string;
  const quasis = n.quasis as Node[] | undefined;
  if (n.type === 'TemplateLiteral' && quasis?.length === 1)
    return (quasis[0]!.value as { cooked: string }).cooked;
  return undefined;
};

/** Every module reference in one TypeScript source text, in source order. */
export function readImports(source: string, fileName = 'input.ts'): ImportRef[] {
  const ast = parse(source, { sourceType: 'module', plugins: ['typescript'], sourceFilename: fileName });
  const out: ImportRef[] = [];
  const walk = (n: Node): void => {
    switch (n.type) {
      case 'ImportDeclaration': {
        const specifiers = n.specifiers as Node[];
        const typeOnly = n.importKind === 'type';
        const form: ImportForm = typeOnly
          ? 'import type'
          : specifiers.length === 0
            ? 'side-effect import'
            : 'import';
        out.push({ specifier: stringValue(n.source), form, typeOnly, line: lineOf(n) });
        return;
      }
      case 'ExportNamedDeclaration':
        if (n.source) {
          const typeOnly = n.exportKind === 'type';
          const star = (n.specifiers as Node[]).some((s) => s.type === 'ExportNamespaceSpecifier');
          const form: ImportForm = star ? 'export * from' : typeOnly ? 'export type from' : 'export from';
          out.push({ specifier: stringValue(n.source), form, typeOnly, line: lineOf(n) });
          return;
        }
        break;
      case 'ExportAllDeclaration':
        out.push({
          specifier: stringValue(n.source),
          form: 'export * from',
          typeOnly: n.exportKind === 'type',
          line: lineOf(n),
        });
        return;
      case 'TSImportEqualsDeclaration': {
        const ref = n.moduleReference as Node;
        if (ref.type === 'TSExternalModuleReference') {
          out.push({
            specifier: stringValue(ref.expression),
            form: 'import = require',
            typeOnly: n.importKind === 'type',
            line: lineOf(n),
          });
        }
        return;
      }
      case 'TSImportType':
        out.push({
          specifier: stringValue(n.argument) ?? stringValue((n.argument as Node | undefined)?.literal),
          form: 'import type()',
          typeOnly: true,
          line: lineOf(n),
        });
        break;
      case 'ImportExpression':
        out.push({
          specifier: stringValue(n.source),
          form: 'dynamic import',
          typeOnly: false,
          line: lineOf(n),
        });
        break;
      case 'CallExpression':
        if ((n.callee as Node).type === 'Import') {
          const arg = (n.arguments as Node[])[0];
          out.push({ specifier: stringValue(arg), form: 'dynamic import', typeOnly: false, line: lineOf(n) });
        }
        break;
    }
    for (const [key, value] of Object.entries(n)) {
      if (key === 'loc' || key.endsWith('Comments')) continue;
      if (Array.isArray(value)) {
        for (const v of value) if (isNode(v)) walk(v);
      } else if (isNode(value)) walk(value);
    }
  };
  walk(ast.program as unknown as Node);
  return out;
}

/** One broken rule: `from` (a path under src/) imports `to` (a path under src/, or the specifier). */
export interface Violation {
  from: string;
  to: string;
  form: ImportForm;
  line: number;
  rule: string;
}

/** An import between two files of src/, for the cycle check. */
export interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
}

/** `storage`, `app.ts`… for a path under src/ ('storage/duckdb/x.ts' → 'storage'). */
const areaOf = (path: string): string => path.split('/')[0]!;
/** The adapter folder of a storage path ('storage/duckdb/x.ts' → 'duckdb'), else undefined. */
const adapterOf = (path: string): string | undefined => {
  const parts = path.split('/');
  return parts[0] === 'storage' && parts.length > 2 ? parts[1] : undefined;
};

/** Which rule an import from `from` to `to` (paths under src/) breaks, if any, before the allow-list. */
function brokenRule(from: string, to: string): string | undefined {
  if (to.startsWith('../')) return 'leaves src/';
  const fa = areaOf(from);
  const ta = areaOf(to);
  const fromAdapter = adapterOf(from);
  const toAdapter = adapterOf(to);
  if (fa === ta) {
    if (fa !== 'storage') return undefined;
    if (fromAdapter && toAdapter && fromAdapter !== toAdapter)
      return 'a storage adapter imports another adapter';
    if (fromAdapter && to === 'storage/index.ts') {
      return 'a storage adapter imports storage/index.ts (it re-exports the adapters): import the port file';
    }
    if (!fromAdapter && toAdapter && from !== 'storage/index.ts') return 'a storage port imports an adapter';
    return undefined;
  }
  const fr = RANK[fa];
  const tr = RANK[ta];
  if (fr === undefined) return `${fa} has no rank: add it to RANK in test/architecture.test.ts`;
  if (tr === undefined) return `${ta} has no rank: add it to RANK in test/architecture.test.ts`;
  if (fa === 'model') return 'model/ imports nothing from the project';
  if (ta === 'api' && !ROOT.has(fa)) return 'nothing imports api/ but app.ts and cli/';
  if (fromAdapter && !ADAPTER_MAY_IMPORT.has(ta)) {
    return 'a storage adapter imports only storage ports, model/, util/ and errors.ts';
  }
  if (toAdapter && !ROOT.has(fa))
    return 'only app.ts and cli/ import a concrete storage adapter (use the ports)';
  if (tr === fr && PEERS.has(fa) && PEERS.has(ta)) return 'sibling analysis folders do not import each other';
  if (tr >= fr) return `imports upward (${fa} is rank ${fr}, ${ta} is rank ${tr})`;
  return undefined;
}

/**
 * Checks one source file. `from` is its path under src/ with `/` separators ('storage/store.ts'), `source`
 * its text. Returns the violations (after the allow-list), the allow-list entries used and the file edges.
 */
export function checkFile(
  from: string,
  source: string,
  allowed: readonly { from: string; to: string }[] = ALLOWED_PEER_EDGES,
): { violations: Violation[]; allowedUsed: string[]; edges: Edge[] } {
  const violations: Violation[] = [];
  const allowedUsed: string[] = [];
  const edges: Edge[] = [];
  for (const ref of readImports(source, from)) {
    if (ref.specifier === undefined) {
      violations.push({
        from,
        to: '(computed)',
        form: ref.form,
        line: ref.line,
        rule: 'a dynamic import of a computed specifier cannot be checked: use a string literal',
      });
      continue;
    }
    if (!ref.specifier.startsWith('.')) continue; // a package or node: built-in
    const to = posix.normalize(posix.join(posix.dirname(from), ref.specifier));
    edges.push({ from, to, typeOnly: ref.typeOnly });
    const rule = brokenRule(from, to);
    if (rule === undefined) continue;
    const ta = areaOf(to);
    const entry = allowed.find((a) => a.from === from && a.to === ta);
    if (entry && rule === 'sibling analysis folders do not import each other') {
      allowedUsed.push(`${entry.from} → ${entry.to}/`);
      continue;
    }
    violations.push({ from, to, form: ref.form, line: ref.line, rule });
  }
  return { violations, allowedUsed, edges };
}

/** The import cycles of a file graph (strongly connected components of 2+ files), each sorted. */
export function findCycles(edges: readonly Edge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) if (e.from !== e.to) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  // Tarjan's algorithm, iterative so a long chain cannot overflow the stack.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  let counter = 0;
  const nodes = new Set([...next.keys(), ...edges.map((e) => e.to)]);
  for (const root of nodes) {
    if (index.has(root)) continue;
    const work: { node: string; i: number }[] = [{ node: root, i: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      const succ = next.get(top.node) ?? [];
      if (top.i < succ.length) {
        const w = succ[top.i++]!;
        if (!index.has(w)) {
          index.set(w, counter);
          low.set(w, counter++);
          stack.push(w);
          onStack.add(w);
          work.push({ node: w, i: 0 });
        } else if (onStack.has(w)) low.set(top.node, Math.min(low.get(top.node)!, index.get(w)!));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(top.node)!));
      if (low.get(top.node) === index.get(top.node)) {
        const scc: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          scc.push(w);
        } while (w !== top.node);
        if (scc.length > 1) cycles.push(scc.sort());
      }
    }
  }
  return cycles;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

const underSrc = (file: string): string => relative(SRC, file).split(sep).join('/');
const show = (v: Violation): string => `${v.from}:${v.line} ${v.form} ${v.to}: ${v.rule}`;

test('imports in src/ flow one way (STYLE.md); the analysis folders import no sibling', (t) => {
  const violations: string[] = [];
  const used = new Set<string>();
  for (const file of sourceFiles(SRC)) {
    const r = checkFile(underSrc(file), readFileSync(file, 'utf8'));
    violations.push(...r.violations.map(show));
    for (const u of r.allowedUsed) used.add(u);
  }
  for (const a of ALLOWED_PEER_EDGES)
    t.diagnostic(`allowed peer import (to remove): ${a.from} → ${a.to}/: ${a.why}`);
  const stale = ALLOWED_PEER_EDGES.map((a) => `${a.from} → ${a.to}/`).filter((e) => !used.has(e));
  assert.deepEqual(
    stale,
    [],
    'allow-list entries that no longer match an import: delete them from ALLOWED_PEER_EDGES',
  );
  assert.deepEqual(violations, []);
});

test('no import cycle between the files of src/, type-only imports included', () => {
  const edges = sourceFiles(SRC).flatMap(
    (file) => checkFile(underSrc(file), readFileSync(file, 'utf8')).edges,
  );
  assert.deepEqual(findCycles(edges), []);
});

/** Each way of naming a module, planted in memory (never on disk) to import api/. */
const PLANTED_API_IMPORTS: readonly [ImportForm, string][] = [
  ['import', "import { registerRoutes } from '../api/index.ts';"],
  ['import type', "import type { RouteDeps } from '../api/index.ts';"],
  ['import', "import { type RouteDeps } from '../api/index.ts';"],
  ['export from', "export { x } from '../api/index.ts';"],
  ['export type from', "export type { RouteDeps } from '../api/index.ts';"],
  ['export * from', "export * from '../api/index.ts';"],
  ['export * from', "export * as api from '../api/index.ts';"],
  ['dynamic import', "export async function load() {\n  return import('../api/index.ts');\n}"],
  ['dynamic import', 'const m = await import(`../api/index.ts`);\nexport { m };'],
  ['side-effect import', "import '../api/index.ts';"],
  ['import type()', "export type Deps = typeof import('../api/index.ts');"],
  ['import = require', "import api = require('../api/index.ts');"],
];

for (const [form, line] of PLANTED_API_IMPORTS) {
  test(`the checker reports a storage port that reaches api/ by ${form}: ${line.split('\n')[0]}`, () => {
    const source = `/** A port. */\nimport { nowNs } from '../util/time.ts';\n\n${line}\n`;
    const { violations } = checkFile('storage/store.ts', source);
    assert.equal(violations.length, 1, JSON.stringify(violations));
    assert.equal(violations[0]!.form, form);
    assert.equal(violations[0]!.to, 'api/index.ts');
    assert.equal(violations[0]!.line, 4 + line.split('\n').findIndex((l) => l.includes('../api/')));
    assert.match(violations[0]!.rule, /nothing imports api/);
  });
}

test('the checker reports an adapter re-exporting api/, and ignores look-alikes in comments and strings', () => {
  const source = [
    "// import '../api/index.ts';",
    "/* export { x } from '../api/index.ts'; */",
    'const s = "import { y } from \'../api/index.ts\'";',
    "export const t = `export * from '../api/index.ts'`;",
    "export { x } from '../../api/index.ts';",
  ].join('\n');
  const { violations } = checkFile('storage/duckdb/duckdb-store.ts', source);
  assert.deepEqual(
    violations.map((v) => [v.line, v.form, v.to]),
    [[5, 'export from', 'api/index.ts']],
  );
});

test('the checker holds each rule of the line, and the allow-list excuses exactly its own edges', () => {
  const rules = (from: string, source: string) => checkFile(from, source).violations.map((v) => v.rule);
  assert.deepEqual(rules('model/span.ts', "import { nowNs } from '../util/time.ts';"), [
    'model/ imports nothing from the project',
  ]);
  assert.deepEqual(rules('util/time.ts', "import { SiperfError } from '../errors.ts';"), [
    'imports upward (util is rank 0, errors.ts is rank 1)',
  ]);
  assert.deepEqual(rules('storage/store.ts', "import { redMetrics } from '../apm/index.ts';"), [
    'imports upward (storage is rank 4, apm is rank 5)',
  ]);
  assert.deepEqual(rules('storage/duckdb/x.ts', "import type { Config } from '../../config.ts';"), [
    'a storage adapter imports only storage ports, model/, util/ and errors.ts',
  ]);
  assert.deepEqual(rules('storage/duckdb/x.ts', "import { y } from '../index.ts';"), [
    'a storage adapter imports storage/index.ts (it re-exports the adapters): import the port file',
  ]);
  assert.deepEqual(rules('storage/duckdb/x.ts', "import { y } from '../clickhouse/store.ts';"), [
    'a storage adapter imports another adapter',
  ]);
  assert.deepEqual(rules('storage/store.ts', "import { y } from './duckdb/duckdb-store.ts';"), [
    'a storage port imports an adapter',
  ]);
  assert.deepEqual(rules('apm/x.ts', "import { y } from '../storage/duckdb/duckdb-store.ts';"), [
    'only app.ts and cli/ import a concrete storage adapter (use the ports)',
  ]);
  assert.deepEqual(rules('cache/x.ts', "import { y } from '../db/index.ts';"), [
    'sibling analysis folders do not import each other',
  ]);
  assert.deepEqual(rules('recommendations/x.ts', "import { y } from '../db/index.ts';"), []);
  assert.deepEqual(rules('index.ts', "export { y } from './api/index.ts';"), [
    'nothing imports api/ but app.ts and cli/',
  ]);
  assert.deepEqual(rules('cli/serve.ts', "import { y } from '../api/index.ts';"), []);
  assert.deepEqual(rules('shiny/x.ts', "import { y } from '../util/time.ts';"), [
    'shiny has no rank: add it to RANK in test/architecture.test.ts',
  ]);
  assert.deepEqual(rules('apm/x.ts', 'export const m = import(name);'), [
    'a dynamic import of a computed specifier cannot be checked: use a string literal',
  ]);
  // The edges the allow-list once excused are forbidden now.
  for (const [from, to] of [
    ['alerts/value-source.ts', 'apm'],
    ['alerts/value-source.ts', 'resources'],
    ['db/advisor.ts', 'apm'],
  ] as const) {
    assert.deepEqual(rules(from, `import { y } from '../${to}/index.ts';`), [
      'sibling analysis folders do not import each other',
    ]);
  }
  assert.deepEqual(rules('db/log-digests.ts', "import type { LogDigest } from '../ingest/logs/index.ts';"), [
    'sibling analysis folders do not import each other',
  ]);
  // An allow-list, when given, excuses exactly its file's import of its folder, and nothing else changes.
  const allowed = [{ from: 'alerts/value-source.ts', to: 'apm' }];
  const ruled = (from: string, source: string) =>
    checkFile(from, source, allowed).violations.map((v) => v.rule);
  assert.deepEqual(ruled('alerts/value-source.ts', "import { red } from '../apm/index.ts';"), []);
  assert.deepEqual(ruled('alerts/engine.ts', "import { red } from '../apm/index.ts';"), [
    'sibling analysis folders do not import each other',
  ]);
  assert.deepEqual(ruled('alerts/value-source.ts', "import { y } from '../db/index.ts';"), [
    'sibling analysis folders do not import each other',
  ]);
  assert.deepEqual(ruled('alerts/value-source.ts', "import { y } from '../api/index.ts';"), [
    'nothing imports api/ but app.ts and cli/',
  ]);
});

test('the cycle finder reports a loop through a type-only edge and ignores self-imports', () => {
  const e = (from: string, to: string, typeOnly = false): Edge => ({ from, to, typeOnly });
  assert.deepEqual(
    findCycles([e('a.ts', 'b.ts'), e('b.ts', 'c.ts'), e('c.ts', 'a.ts', true), e('d.ts', 'a.ts')]),
    [['a.ts', 'b.ts', 'c.ts']],
  );
  assert.deepEqual(findCycles([e('a.ts', 'a.ts'), e('a.ts', 'b.ts')]), []);
});
