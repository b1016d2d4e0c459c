import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { z } from 'zod';
import { route, type RouteDef } from '../route-table.ts';

const UI_DIR = fileURLToPath(new URL('../ui/', import.meta.url));
const resolveModule = createRequire(import.meta.url).resolve;

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
};

interface Asset {
  type: string;
  body: Buffer;
  gzip: Buffer | null;
  etag: string;
}

function load(file: string): Asset | null {
  const type = TYPES[extname(file)];
  if (!type) return null;
  const body = readFileSync(file);
  const gzip = /^(text|application\/json|image\/svg)/.test(type) && body.length > 512 ? gzipSync(body, { level: 9 }) : null;
  return { type, body, gzip, etag: `"${createHash('sha1').update(body).digest('base64url').slice(0, 16)}"` };
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

/**
 * The panel's own files (hand-written ES modules and CSS under ui/) and the
 * charting library from node_modules, served by the box itself: no CDN. The
 * set is read once at start into memory (gzipped), so a request can only
 * ever name one of these files.
 */
export function loadAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const file of walk(UI_DIR)) {
    const a = load(file);
    if (a) assets.set(relative(UI_DIR, file).split(sep).join('/'), a);
  }
  const uplot = resolveModule('uplot/dist/uPlot.iife.min.js');
  assets.set('vendor/uPlot.iife.min.js', load(uplot)!);
  assets.set('vendor/uPlot.min.css', load(join(uplot, '..', 'uPlot.min.css'))!);
  return assets;
}

export function staticRoutes(assets: Map<string, Asset>): RouteDef[] {
  return [
    route({
      method: 'GET',
      url: '/ui/*',
      allow: 'public',
      kind: 'page',
      summary: 'the panel’s static files (ES modules, CSS, the bundled chart library)',
      schema: { params: z.object({ '*': z.string().max(200) }), querystring: z.object({}).passthrough() },
      handler: async ({ params, req, reply }) => {
        const a = assets.get((params as { '*': string })['*']);
        if (!a) return reply.code(404).type('text/plain').send('not found');
        reply.header('etag', a.etag).header('cache-control', 'no-cache').type(a.type);
        if (req.headers['if-none-match'] === a.etag) return reply.code(304).send();
        if (a.gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? '')))
          return reply.header('content-encoding', 'gzip').header('vary', 'accept-encoding').send(a.gzip);
        return reply.send(a.body);
      },
    }),
  ];
}
