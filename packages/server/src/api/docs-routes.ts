/**
 * The errors page at `/docs/errors`: docs/errors.md as HTML, one section per code with the code's lower
 * case as its anchor (`/docs/errors#err_ingest_decode`), so the `type` of every problem document resolves
 * on the server itself, offline. Rendered once at start (marked, https://marked.js.org).
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { Marked } from 'marked';
import { Type } from 'typebox';
import { problems } from './schemas/common.ts';

/** The repository's docs/errors.md, from src/api or dist/api. */
const REPO_ERRORS_DOC = new URL('../../../../docs/errors.md', import.meta.url);

/**
 * Where the errors page's source lives: the repository's docs/errors.md, else (an installed
 * `@siperf/server`) the copy the package carries, `dist/bundled/errors.md`, made by `npm pack`.
 */
export const ERRORS_DOC = existsSync(REPO_ERRORS_DOC)
  ? REPO_ERRORS_DOC
  : new URL('../bundled/errors.md', import.meta.url);

/** docs/errors.md as a standalone HTML page; `## err_x` headings get `id="err_x"`. */
export function renderErrorsPage(markdown: string): string {
  const marked = new Marked({
    renderer: {
      heading({ tokens, depth, text }) {
        const id = /^[a-z0-9_]+$/.test(text) ? ` id="${text}"` : '';
        return `<h${depth}${id}>${this.parser.parseInline(tokens)}</h${depth}>\n`;
      },
    },
  });
  const body = marked.parse(markdown, { async: false });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>siperf — error codes</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}
h2{font-family:ui-monospace,monospace;font-size:1.05rem;margin-top:2rem}h2:target{background:#fff4c2}
code{background:#f2f4f7;padding:0 .2em;border-radius:3px}</style></head>
<body>${body}</body></html>`;
}

/** Registers `GET /docs/errors`. */
export async function docsRoutes(app: FastifyInstance): Promise<void> {
  const html = renderErrorsPage(readFileSync(ERRORS_DOC, 'utf8'));
  app.get(
    '/docs/errors',
    {
      schema: {
        summary: 'The error codes of problem documents, as HTML (each code is an anchor)',
        tags: ['server'],
        querystring: Type.Object({}, { additionalProperties: false }),
        response: {
          200: { description: 'HTML page', content: { 'text/html': { schema: Type.String() } } },
          ...problems(),
        },
      },
    },
    async (_request, reply) => reply.type('text/html; charset=utf-8').send(html),
  );
}
