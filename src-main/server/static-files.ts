// Serves the built renderer (out/renderer) read-only: no directory listing, no path leaving the folder,
// extension-less unknown paths fall back to index.html (the page's own routes), anything else is a 404.
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream';
import { securityHeaders } from './security-headers';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

/** The URL path as folder-relative segments, or null when a segment could climb out or smuggle a separator. */
export function safeSegments(rawPath: string): string[] | null {
  const segments: string[] = [];
  for (const raw of rawPath.split('/')) {
    if (raw === '') continue;
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (segment === '.' || segment === '..' || /[/\\\0]/.test(segment)) return null;
    segments.push(segment);
  }
  return segments;
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

async function fileIn(root: string, segments: string[]): Promise<{ path: string; size: number } | null> {
  const candidate = resolve(root, ...segments);
  if (!isInside(root, candidate)) return null;
  try {
    // realpath: a symlink inside the folder must not lead outside it either.
    const real = await realpath(candidate);
    if (!isInside(await realpath(root), real)) return null;
    const info = await stat(real);
    return info.isFile() ? { path: real, size: info.size } : null;
  } catch {
    return null;
  }
}

function sendText(response: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  response.writeHead(status, { ...securityHeaders(), 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...extra });
  response.end(`${text}\n`);
}

function sendFile(request: IncomingMessage, response: ServerResponse, file: { path: string; size: number }, isIndex: boolean): void {
  // Bundled assets carry a content hash in their names; the page itself must always be fresh.
  const cache = isIndex ? 'no-store' : file.path.includes(`${sep}assets${sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache';
  response.writeHead(200, {
    ...securityHeaders(),
    'Content-Type': CONTENT_TYPES[extname(file.path).toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': String(file.size),
    'Cache-Control': cache,
  });
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  // pipeline, not pipe: when the page goes away or the server cuts off a stalled download, the file must be
  // closed too (pipe() only unpipes and leaves it open for good); a read error ends the response.
  pipeline(createReadStream(file.path), response, () => undefined);
}

/** Handles one HTTP request for a static file of `rendererDir` (an absolute path). */
export async function serveStaticFile(rendererDir: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    sendText(response, 405, 'only GET and HEAD are served here', { Allow: 'GET, HEAD' });
    return;
  }
  const rawPath = (request.url ?? '/').split(/[?#]/, 1)[0] ?? '/';
  const segments = safeSegments(rawPath);
  if (!segments) {
    sendText(response, 400, 'bad path: ".." and encoded separators are not allowed');
    return;
  }
  const index = join(rendererDir, 'index.html');
  const wantsPage = segments.length === 0 || (segments.at(-1) === 'index.html' && segments.length === 1);
  const file = wantsPage ? null : await fileIn(rendererDir, segments);
  if (file) {
    sendFile(request, response, file, false);
    return;
  }
  const last = segments.at(-1) ?? '';
  if (!wantsPage && extname(last) !== '') {
    sendText(response, 404, `not found: ${rawPath}`);
    return;
  }
  const page = await fileIn(rendererDir, ['index.html']);
  if (!page) {
    sendText(response, 500, `the console is not built: ${index} is missing; run \`npm run build\``);
    return;
  }
  sendFile(request, response, page, true);
}
