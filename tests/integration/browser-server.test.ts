// Browser mode's transport and its guards, over real sockets on this machine: token and Origin checks on
// the API WebSocket, loopback-only by default, the request/answer/event protocol, and safe static files.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { LabApiDispatcher } from '../../src-main/api/lab-api-dispatcher';
import type { EventBatchListener } from '../../src-main/api/event-batcher';
import type { LabApiEvent } from '../../src-main/contract/lab-api';
import { startBrowserServer, type BrowserServer } from '../../src-main/server/browser-server';

// A hand-made dispatcher: these tests check the transport, not the backend (lab-api.test.ts drives the real one).
function fakeDispatcher() {
  const listeners = new Set<EventBatchListener>();
  const calls: { method: string; payload: unknown }[] = [];
  const dispatcher: LabApiDispatcher = {
    invoke(method, payload) {
      calls.push({ method, payload });
      if (method === 'getAppInfo') return Promise.resolve({ ok: true, value: { shell: 'browser' } });
      return Promise.resolve({ ok: false, error: { code: 'not-found', message: `no ${method} here` } });
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  const push = (events: LabApiEvent[]): void => listeners.forEach((listener) => listener(events));
  return { dispatcher, calls, listeners, push };
}

let scratch: string;
let rendererDir: string;
let fake: ReturnType<typeof fakeDispatcher>;
let server: BrowserServer;
const opened: WebSocket[] = [];

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'cnlab-serve-'));
  rendererDir = join(scratch, 'renderer');
  mkdirSync(join(rendererDir, 'assets'), { recursive: true });
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>cnlab</title>');
  writeFileSync(join(rendererDir, 'assets', 'app-1234.js'), 'console.log("cnlab")');
  writeFileSync(join(scratch, 'secret.txt'), 'outside the renderer');
  symlinkSync(join(scratch, 'secret.txt'), join(rendererDir, 'assets', 'leak.txt'));
  fake = fakeDispatcher();
  server = await startBrowserServer({ dispatcher: fake.dispatcher, rendererDir });
});

afterEach(() => {
  for (const socket of opened.splice(0)) socket.terminate();
});

afterAll(async () => {
  await server.close();
  rmSync(scratch, { recursive: true, force: true });
});

function apiUrl(token: string | null): string {
  const query = token === null ? '' : `?token=${encodeURIComponent(token)}`;
  return `ws://127.0.0.1:${server.address.port}/api${query}`;
}

function open(url: string, headers: Record<string, string> = {}): WebSocket {
  const socket = new WebSocket(url, { headers });
  // Refused sockets report an error too; each test checks the outcome it expects (code, status) instead.
  socket.on('error', () => undefined);
  opened.push(socket);
  return socket;
}

function closeCode(socket: WebSocket): Promise<number> {
  return new Promise((resolve) => socket.once('close', (code) => resolve(code)));
}

function refusedStatus(socket: WebSocket): Promise<number> {
  return new Promise((resolve, reject) => {
    socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
    socket.once('open', () => reject(new Error('the upgrade was accepted')));
  });
}

function nextMessage(socket: WebSocket): Promise<Record<string, unknown>> {
  return new Promise((resolve) => socket.once('message', (data: Buffer) => resolve(JSON.parse(data.toString('utf8')) as Record<string, unknown>)));
}

async function authorized(): Promise<WebSocket> {
  const socket = open(apiUrl(server.token), { Origin: `http://127.0.0.1:${server.address.port}` });
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  return socket;
}

function get(path: string): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  // node:http sends the path as given (fetch would normalise the ".." away before it leaves).
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: server.address.port, path }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('browser-mode API socket', () => {
  it('prints a URL on 127.0.0.1 carrying a fresh 32-byte token in the fragment', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.address.port}/#token=${server.token}`);
    expect(Buffer.from(server.token, 'base64url')).toHaveLength(32);
  });

  it('refuses a connection without a token with close code 4401 and runs nothing it sent', async () => {
    const socket = open(apiUrl(null));
    socket.once('open', () => socket.send(JSON.stringify({ id: 1, method: 'getAppInfo', payload: null })));
    const before = fake.calls.length;
    expect(await closeCode(socket)).toBe(4401);
    expect(fake.calls.length).toBe(before);
  });

  it('refuses a wrong token with close code 4401', async () => {
    const wrong = `${server.token.slice(0, -1)}${server.token.endsWith('A') ? 'B' : 'A'}`;
    expect(await closeCode(open(apiUrl(wrong)))).toBe(4401);
  });

  it('answers a request with its envelope and pushes event batches to an authorized page', async () => {
    const socket = await authorized();
    const answer = nextMessage(socket);
    socket.send(JSON.stringify({ id: 7, method: 'getAppInfo', payload: null }));
    expect(await answer).toEqual({ id: 7, envelope: { ok: true, value: { shell: 'browser' } } });
    const failed = nextMessage(socket);
    socket.send(JSON.stringify({ id: 8, method: 'removeHost', payload: { name: 'h1' } }));
    expect(await failed).toEqual({ id: 8, envelope: { ok: false, error: { code: 'not-found', message: 'no removeHost here' } } });

    const pushed = nextMessage(socket);
    fake.push([{ type: 'hosts-changed' }]);
    expect(await pushed).toEqual({ events: [{ type: 'hosts-changed' }] });
  });

  it('unsubscribes a page from events when its socket closes', async () => {
    // Pages of earlier tests were terminated; the server notices within a moment.
    await expect.poll(() => fake.listeners.size).toBe(0);
    const socket = await authorized();
    expect(fake.listeners.size).toBe(1);
    socket.close();
    await closeCode(socket);
    await expect.poll(() => fake.listeners.size).toBe(0);
  });

  it('answers a malformed request that has an id with an invalid-input envelope and ignores one without', async () => {
    const socket = await authorized();
    const answer = nextMessage(socket);
    socket.send('not json at all');
    socket.send(JSON.stringify({ method: 'getAppInfo' }));
    socket.send(JSON.stringify({ id: 3, payload: null }));
    const reply = await answer;
    expect(reply).toMatchObject({ id: 3, envelope: { ok: false, error: { code: 'invalid-input' } } });
    const next = nextMessage(socket);
    socket.send(JSON.stringify({ id: 4, method: 'getAppInfo', payload: null }));
    expect(await next).toMatchObject({ id: 4, envelope: { ok: true } });
  });

  it('closes the socket on a message over 4 MB', async () => {
    const socket = await authorized();
    const closed = closeCode(socket);
    socket.send('x'.repeat(4 * 1024 * 1024 + 1));
    expect(await closed).toBe(1009);
  });

  it('refuses an upgrade from another site (foreign Origin) before it happens, even with the token', async () => {
    expect(await refusedStatus(open(apiUrl(server.token), { Origin: 'http://evil.example' }))).toBe(403);
  });

  it('refuses an upgrade whose Host is not loopback while listening on loopback (DNS rebinding)', async () => {
    const port = server.address.port;
    expect(await refusedStatus(open(apiUrl(server.token), { Host: `evil.example:${port}`, Origin: `http://evil.example:${port}` }))).toBe(403);
  });
});

describe('browser-mode listening address', () => {
  it('binds to 127.0.0.1 only by default', () => {
    expect(server.address.address).toBe('127.0.0.1');
  });

  const external = Object.values(networkInterfaces())
    .flat()
    .find((entry) => entry && entry.family === 'IPv4' && !entry.internal);

  it.skipIf(!external)(`is not reachable on this machine's non-loopback address (${external?.address ?? 'none'})`, async () => {
    const outcome = await new Promise<string>((resolve) => {
      const socket = connect({ host: external!.address, port: server.address.port });
      socket.once('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });
    expect(outcome).toBe('ECONNREFUSED');
  });
});

describe('browser-mode static files', () => {
  it('serves index.html with the strict headers and no caching', async () => {
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>cnlab</title>');
    expect(page.headers['content-security-policy']).toBe("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'");
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.headers['cache-control']).toBe('no-store');
  });

  it('serves a built asset with its type and the CSP', async () => {
    const asset = await get('/assets/app-1234.js');
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toMatch(/^text\/javascript/);
    expect(asset.headers['content-security-policy']).toContain("script-src 'self'");
    expect(asset.body).toBe('console.log("cnlab")');
  });

  it('falls back to index.html for extension-less paths only, and lists no folder', async () => {
    expect((await get('/topology')).body).toContain('<title>cnlab</title>');
    expect((await get('/assets')).body).toContain('<title>cnlab</title>');
    expect((await get('/missing.js')).status).toBe(404);
  });

  it.each(['/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/assets/..%2f..%2fsecret.txt', '/assets/%2E%2E/%2E%2E/secret.txt', '/..%5c..%5csecret.txt'])(
    'refuses the traversal %s',
    async (path) => {
      const response = await get(path);
      expect(response.status).toBe(400);
      expect(response.body).not.toMatch(/root:|outside the renderer/);
    },
  );

  it('does not follow a symlink out of the renderer folder', async () => {
    const response = await get('/assets/leak.txt');
    expect(response.status).toBe(404);
    expect(response.body).not.toContain('outside the renderer');
  });

  it('serves only GET and HEAD', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: server.address.port, path: '/', method: 'POST' }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(405);
  });
});
