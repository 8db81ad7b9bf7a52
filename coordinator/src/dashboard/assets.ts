/**
 * The researchers' read-only web dashboard: static files, public because they hold no data. The page
 * reads the REST API with the bearer token the researcher pastes in, so the API's role checks stay the only gate.
 * uPlot draws the charts (served from its package; no CDN, the page runs under helmet's `script-src 'self'`).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Request, Response } from 'express';
import { TwinfedError, pathPatterns } from '@twinfed/shared';

interface Asset {
  type: string;
  body: Buffer;
}

/** `src/dashboard/static` from both `src/dashboard` (ts-jest) and `dist/dashboard` (built). */
const STATIC_DIR = path.resolve(__dirname, '..', '..', 'src', 'dashboard', 'static');

function uplotFile(name: string): string {
  return path.join(path.dirname(require.resolve('uplot/package.json')), 'dist', name);
}

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

function loadAssets(): { page: Asset; files: ReadonlyMap<string, Asset> } {
  const read = (file: string, type: string): Asset => ({ type, body: readFileSync(file) });
  return {
    page: read(path.join(STATIC_DIR, 'index.html'), 'text/html; charset=utf-8'),
    files: new Map([
      ['app.js', read(path.join(STATIC_DIR, 'app.js'), JS)],
      ['app.css', read(path.join(STATIC_DIR, 'app.css'), CSS)],
      ['uplot.js', read(uplotFile('uPlot.iife.min.js'), JS)],
      ['uplot.css', read(uplotFile('uPlot.min.css'), CSS)],
      ['api-paths.js', { type: JS, body: Buffer.from(apiPathsScript()) }],
    ]),
  };
}

/**
 * `api-paths.js`: the API's path patterns from the shared contract, as the global `TWINFED_PATHS` that app.js builds
 * its requests from (so the page holds no path of its own).
 */
export function apiPathsScript(): string {
  return `// Generated from the shared API contract (@twinfed/shared, api/contract.ts) when the dashboard is served.\nwindow.TWINFED_PATHS = ${JSON.stringify(pathPatterns())};\n`;
}

/** Handlers for `GET /dashboard` and `GET /dashboard/:asset`; the files are read once, on first use. */
export function dashboardHandlers() {
  let assets: ReturnType<typeof loadAssets> | undefined;
  const get = () => (assets ??= loadAssets());
  const send = (res: Response, a: Asset) => {
    res.setHeader('Content-Type', a.type);
    res.setHeader('Cache-Control', 'no-cache');
    res.send(a.body);
  };
  return {
    page: async (_req: Request, res: Response) => send(res, get().page),
    asset: async (req: Request, res: Response) => {
      const a = get().files.get(String(req.params.asset));
      if (!a) throw new TwinfedError('NOT_FOUND');
      send(res, a);
    },
  };
}
