// Browser mode under a fault campaign (issue 10): one `cnlab serve` process as a user starts it, then rounds
// of mixed hostile requests fired together — no or wrong token, the token where the protocol does not take
// it, foreign Origin or Host, oversized frames, slow and silent connections left hanging, malformed and
// unknown requests, huge headers, other HTTP methods, path traversal — each refused in its own way. After
// every burst an authorized page still gets right answers, and the server process's file descriptors and
// memory stay bounded; the hanging connections are closed by the server itself, and a connection flood
// cannot take more than its connection cap.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CLOSE_TIMEOUT_MS } from '../../src-main/server/api-socket';
import { HEADERS_TIMEOUT_MS, IDLE_SOCKET_TIMEOUT_MS, MAX_CONNECTIONS } from '../../src-main/server/browser-server';
import { campaignRounds, campaignTimeout } from '../support/fault-campaign';
import { assertCliBuilt, CLI_BIN } from '../support/run-cli';

const ROUNDS = campaignRounds(4);
/** File descriptors the server may hold beyond its baseline once a burst is over (the backend may have a file open). */
const FD_SLACK = 8;
/** Growth of the server's resident memory over the whole campaign, after its first round warmed it up. */
const RSS_GROWTH_LIMIT_KB = 64 * 1024;
const INDEX_HTML = '<!doctype html><title>cnlab campaign</title>';
const SECRET = `outside the renderer ${randomBytes(4).toString('hex')}`;
const FOUR_MB = 4 * 1024 * 1024;
const BIG_ASSET = 'assets/big-5678.js';
/** Larger than both socket buffers can hold (here up to 32 + 4 MB), so a page that does not read it stalls the server. */
const BIG_ASSET_BYTES = 64 * 1024 * 1024;
/** How long the server may take to give up on a page that stopped reading (see expectSlowReadersCutOff). */
const SLOW_READER_BOUND_MS = 2 * IDLE_SOCKET_TIMEOUT_MS + 2500;

interface ServeProcess {
  child: ChildProcess;
  pid: number;
  port: number;
  token: string;
  origin: string;
  output(): string;
  exited(): string | null;
}

let scratch: string;
let serve: ServeProcess;

/** `cnlab serve` on a scratch workspace and a scratch renderer folder that has a secret beside it. */
async function startServe(): Promise<ServeProcess> {
  const renderer = join(scratch, 'renderer');
  mkdirSync(join(renderer, 'assets'), { recursive: true });
  writeFileSync(join(renderer, 'index.html'), INDEX_HTML);
  writeFileSync(join(renderer, 'assets', 'app-1234.js'), 'console.log("cnlab")');
  writeFileSync(join(renderer, BIG_ASSET), Buffer.alloc(BIG_ASSET_BYTES, 0x61));
  writeFileSync(join(scratch, 'secret.txt'), SECRET);
  symlinkSync(join(scratch, 'secret.txt'), join(renderer, 'assets', 'leak.txt'));
  const env = { PATH: process.env.PATH, HOME: join(scratch, 'home'), CNLAB_CONFIG_DIR: join(scratch, 'config') };
  const child = spawn(process.execPath, [CLI_BIN, '--workspace', join(scratch, 'ws'), 'serve', '--port', '0', '--renderer-dir', renderer], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let exit: string | null = null;
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.on('exit', (code, signal) => (exit = `exited with ${String(code ?? signal)}`));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cnlab serve printed no URL within 20 s:\n${output}`)), 20_000);
    const poll = setInterval(() => {
      const match = /cnlab console: (http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]+)/.exec(output);
      if (match?.[1] || exit) {
        clearInterval(poll);
        clearTimeout(timer);
        if (match?.[1]) resolve(match[1]);
        else reject(new Error(`cnlab serve ${String(exit)}:\n${output}`));
      }
    }, 20);
  });
  const parsed = new URL(url);
  return { child, pid: child.pid ?? 0, port: Number(parsed.port), token: parsed.hash.replace('#token=', ''), origin: parsed.origin, output: () => output, exited: () => exit };
}

function fdCount(): number {
  return readdirSync(`/proc/${serve.pid}/fd`).length;
}

/** The server's descriptors open on `path` (a file it streams). */
function openDescriptorsOn(path: string): number {
  const dir = `/proc/${serve.pid}/fd`;
  return readdirSync(dir).filter((fd) => {
    try {
      return readlinkSync(join(dir, fd)) === path;
    } catch {
      return false;
    }
  }).length;
}

function rssKb(): number {
  const line = readFileSync(`/proc/${serve.pid}/status`, 'utf8').split('\n').find((entry) => entry.startsWith('VmRSS:')) ?? '';
  return Number(/\d+/.exec(line)?.[0] ?? NaN);
}

function expectServing(): void {
  expect(serve.exited(), `the server died:\n${serve.output()}`).toBeNull();
}

// ── raw connections: bytes exactly as written, no client library normalising them ──────────────────

class RawConnection {
  data = Buffer.alloc(0);
  closedAt: number | null = null;
  readonly openedAt = Date.now();

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => (this.data = Buffer.concat([this.data, chunk])));
    socket.on('error', () => undefined);
    socket.on('close', () => (this.closedAt = Date.now()));
  }

  static open(): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: serve.port });
      socket.once('connect', () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  write(bytes: string | Buffer): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** Resolves true once `check` holds, false after `timeoutMs`. */
  async until(check: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return true;
  }

  get closed(): boolean {
    return this.closedAt !== null;
  }

  headEnd(): number {
    return this.data.indexOf('\r\n\r\n');
  }

  status(): number | null {
    const match = /^HTTP\/1\.1 (\d{3})/.exec(this.data.subarray(0, 64).toString('latin1'));
    return match ? Number(match[1]) : null;
  }

  text(): string {
    return this.data.toString('utf8');
  }

  /** The code of the first close frame the server sent after its 101 answer, or null. */
  closeCode(): number | null {
    let at = this.headEnd() + 4;
    if (at < 4) return null;
    while (at + 2 <= this.data.length) {
      const opcode = (this.data[at] ?? 0) & 0x0f;
      let length = (this.data[at + 1] ?? 0) & 0x7f;
      let header = 2;
      if (length === 126) {
        length = this.data.readUInt16BE(at + 2);
        header = 4;
      } else if (length === 127) {
        length = Number(this.data.readBigUInt64BE(at + 2));
        header = 10;
      }
      if (at + header + length > this.data.length) return null;
      if (opcode === 0x8) return length >= 2 ? this.data.readUInt16BE(at + header) : 1005;
      at += header + length;
    }
    return null;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A masked client frame (servers refuse unmasked ones); `announced` lies about the length when given. */
function clientFrame(opcode: number, payload: Buffer, options: { fin?: boolean; masked?: boolean; announced?: bigint } = {}): Buffer {
  const { fin = true, masked = true } = options;
  const length = options.announced ?? BigInt(payload.length);
  const head: number[] = [(fin ? 0x80 : 0) | opcode];
  const maskBit = masked ? 0x80 : 0;
  let extended = Buffer.alloc(0);
  if (length < 126n) head.push(maskBit | Number(length));
  else if (length < 65536n) {
    head.push(maskBit | 126);
    extended = Buffer.alloc(2);
    extended.writeUInt16BE(Number(length));
  } else {
    head.push(maskBit | 127);
    extended = Buffer.alloc(8);
    extended.writeBigUInt64BE(length);
  }
  if (!masked) return Buffer.concat([Buffer.from(head), extended, payload]);
  const mask = randomBytes(4);
  const body = Buffer.from(payload.map((byte, index) => byte ^ (mask[index % 4] ?? 0)));
  return Buffer.concat([Buffer.from(head), extended, mask, body]);
}

function httpRequest(requestLine: string, headers: Record<string, string | undefined> = {}): string {
  const all: Record<string, string | undefined> = { Host: `127.0.0.1:${serve.port}`, Connection: 'close', ...headers };
  const lines = Object.entries(all).filter((entry): entry is [string, string] => entry[1] !== undefined).map(([name, value]) => `${name}: ${value}`);
  return `${requestLine}\r\n${lines.join('\r\n')}\r\n\r\n`;
}

function upgradeRequest(target: string, headers: Record<string, string | undefined> = {}): string {
  return httpRequest(`GET ${target} HTTP/1.1`, {
    Connection: 'Upgrade',
    Upgrade: 'websocket',
    'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
    'Sec-WebSocket-Version': '13',
    Origin: serve.origin,
    ...headers,
  });
}

/** Sends one request and reads until the server closes the connection (it must, within `timeoutMs`). */
async function exchange(bytes: string | Buffer, timeoutMs = 5000): Promise<RawConnection> {
  const connection = await RawConnection.open();
  connection.write(bytes);
  const closed = await connection.until(() => connection.closed, timeoutMs);
  connection.destroy();
  if (!closed) throw new Error(`the server kept the connection open for ${timeoutMs} ms after ${JSON.stringify(String(bytes).slice(0, 80))}: got ${JSON.stringify(connection.text().slice(0, 120))}`);
  return connection;
}

function expectStatus(connection: RawConnection, status: number, what: string): void {
  if (connection.status() !== status) throw new Error(`${what}: expected HTTP ${status}, got ${JSON.stringify(connection.text().slice(0, 160))}`);
  if (connection.text().includes(SECRET) || /root:.*:0:0:/.test(connection.text())) throw new Error(`${what}: the answer leaked a file from outside the renderer`);
}

// ── WebSocket pages through the ws client ───────────────────────────────────────────────────────────

const apiUrl = (query: string, path = '/api'): string => `ws://127.0.0.1:${serve.port}${path}${query}`;
const withToken = (token: string): string => `?token=${encodeURIComponent(token)}`;

interface Page {
  socket: WebSocket;
  messages: Record<string, unknown>[];
  close: Promise<number>;
}

function openPage(url: string, headers: Record<string, string> = {}): Page {
  const socket = new WebSocket(url, { headers: { Origin: serve.origin, ...headers } });
  const messages: Record<string, unknown>[] = [];
  socket.on('error', () => undefined);
  socket.on('message', (data: Buffer, isBinary) => {
    if (!isBinary) messages.push(JSON.parse(data.toString('utf8')) as Record<string, unknown>);
  });
  const close = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  return { socket, messages, close };
}

async function authorizedPage(): Promise<Page> {
  const page = openPage(apiUrl(withToken(serve.token)));
  await new Promise((resolve, reject) => page.socket.once('open', resolve).once('unexpected-response', () => reject(new Error('the authorized page was refused'))));
  return page;
}

let nextId = 1;

/** Sends one request; resolves with its envelope. */
async function call(page: Page, method: string, payload: unknown = null, timeoutMs = 10_000): Promise<{ ok: boolean; value?: unknown; error?: { code: string; message: string } }> {
  const id = nextId++;
  page.socket.send(JSON.stringify({ id, method, payload }));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = page.messages.find((message) => message.id === id);
    if (answer) return answer.envelope as { ok: boolean; value?: unknown; error?: { code: string; message: string } };
    if (serve.exited()) throw new Error(`${method}: the server died (${String(serve.exited())}):\n${serve.output()}`);
    if (Date.now() > deadline) throw new Error(`${method} got no answer within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A refused page: it must see `code`, and no answer to what it sent (which would have saved host `evilName`). */
async function expectRefusedPage(page: Page, code: number, evilName: string, what: string): Promise<void> {
  page.socket.once('open', () => page.socket.send(JSON.stringify({ id: 1, method: 'saveHost', payload: { host: { name: evilName, kind: 'ssh', address: '198.18.0.66', auth: { type: 'agent' } } } })));
  const got = await Promise.race([page.close, new Promise<string>((resolve) => setTimeout(() => resolve('still open after 5 s'), 5000))]);
  page.socket.terminate();
  if (got !== code) throw new Error(`${what}: expected close code ${code}, got ${String(got)}`);
  if (page.messages.length > 0) throw new Error(`${what}: a refused page was answered: ${JSON.stringify(page.messages[0])}`);
}

function expectUpgradeStatus(page: Page, status: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no answer within 5 s`)), 5000);
    page.socket.once('unexpected-response', (_request, response) => {
      clearTimeout(timer);
      response.resume();
      page.socket.terminate();
      if (response.statusCode === status) resolve();
      else reject(new Error(`${what}: expected HTTP ${status}, got ${String(response.statusCode)}`));
    });
    page.socket.once('open', () => {
      clearTimeout(timer);
      page.socket.terminate();
      reject(new Error(`${what}: the upgrade was accepted`));
    });
  });
}

// ── the hostile catalogue ───────────────────────────────────────────────────────────────────────────

interface Hostile {
  name: string;
  run(): Promise<void>;
}

/** Connections the campaign leaves hanging on purpose; the server must close each within `boundMs`. */
interface Hanging {
  name: string;
  connection: RawConnection;
  boundMs: number;
  stop?: () => void;
}
const hanging: Hanging[] = [];
/** Pages that asked for the big asset and stopped reading: each holds a socket and the file on the server. */
const slowReaders: RawConnection[] = [];
const evilNames: string[] = [];

function wrongToken(): string {
  const token = serve.token;
  return `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
}

function tokenRefusals(round: number): Hostile[] {
  const evil = (index: number): string => {
    const name = `evil-r${round}-${index}`;
    evilNames.push(name);
    return name;
  };
  const cases: [string, string, Record<string, string>][] = [
    ['no token', apiUrl(''), {}],
    ['an empty token', apiUrl('?token='), {}],
    ['a wrong token of the right length', apiUrl(withToken(wrongToken())), {}],
    ['the token without its last character', apiUrl(withToken(serve.token.slice(0, -1))), {}],
    ['the token with a character more', apiUrl(withToken(`${serve.token}A`)), {}],
    ['the token in an Authorization header', apiUrl(''), { Authorization: `Bearer ${serve.token}` }],
    ['the token in a cookie', apiUrl(''), { Cookie: `token=${serve.token}` }],
    ['the token under another parameter name', apiUrl(`?access_token=${serve.token}`), {}],
    ['a wrong token before the right one', apiUrl(`?token=${wrongToken()}&token=${serve.token}`), {}],
    // Browsers always send Origin; a client without one is no browser page, and still needs the token.
    ['no token and no Origin (not a browser)', apiUrl(''), { Origin: '' }],
  ];
  return cases.map(([what, url, headers], index) => ({
    name: `WebSocket with ${what}`,
    run: () => {
      const page = headers.Origin === '' ? openPageWithoutOrigin(url) : openPage(url, headers);
      return expectRefusedPage(page, 4401, evil(index), what);
    },
  }));
}

function openPageWithoutOrigin(url: string): Page {
  const socket = new WebSocket(url);
  const messages: Record<string, unknown>[] = [];
  socket.on('error', () => undefined);
  socket.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString('utf8')) as Record<string, unknown>));
  return { socket, messages, close: new Promise((resolve) => socket.once('close', (code) => resolve(code))) };
}

function upgradeRefusals(): Hostile[] {
  const port = serve.port;
  const token = withToken(serve.token);
  const byClient: [string, string, Record<string, string>, number][] = [
    ['the token in the path', apiUrl('', `/api/${serve.token}`), {}, 404],
    ['another path', apiUrl(token, '/API'), {}, 404],
    ['a foreign Origin, with the token', apiUrl(token), { Origin: 'http://evil.example' }, 403],
    ['Origin null, with the token', apiUrl(token), { Origin: 'null' }, 403],
    ['an https Origin of the same host, with the token', apiUrl(token), { Origin: `https://127.0.0.1:${port}` }, 403],
    ['an Origin that extends the host, with the token', apiUrl(token), { Origin: `http://127.0.0.1:${port}.evil.example` }, 403],
    ['an Origin of another local port, with the token', apiUrl(token), { Origin: `http://127.0.0.1:${port === 65535 ? 1 : port + 1}` }, 403],
    ['a foreign Host (DNS rebinding), with the token', apiUrl(token), { Host: `evil.example:${port}`, Origin: `http://evil.example:${port}` }, 403],
    ['a Host that extends loopback, with the token', apiUrl(token), { Host: `127.0.0.1.evil.example:${port}`, Origin: `http://127.0.0.1.evil.example:${port}` }, 403],
    ['another loopback address as Host, with the token', apiUrl(token), { Host: `127.0.0.2:${port}`, Origin: `http://127.0.0.2:${port}` }, 403],
  ];
  const byRaw: [string, string, number][] = [
    ['a request target that is no URL', upgradeRequest(`//[${token}`), 400],
    ['an absolute request target that is no URL', upgradeRequest(`http://[/api${token}`), 400],
    ['no Host header', upgradeRequest(`/api${token}`, { Host: undefined, Origin: undefined }), 403],
    ['an unsupported WebSocket version', upgradeRequest(`/api${token}`, { 'Sec-WebSocket-Version': '99' }), 400],
    ['no Sec-WebSocket-Key', upgradeRequest(`/api${token}`, { 'Sec-WebSocket-Key': undefined }), 400],
    ['an upgrade to another protocol', upgradeRequest(`/api${token}`, { Upgrade: 'h2c' }), 400],
    ['a 24 KiB header', upgradeRequest(`/api${token}`, { 'X-Pad': 'a'.repeat(24 * 1024) }), 431],
  ];
  return [
    ...byClient.map(([what, url, headers, status]) => ({ name: `upgrade with ${what}`, run: () => expectUpgradeStatus(openPage(url, headers), status, what) })),
    ...byRaw.map(([what, request, status]) => ({ name: `upgrade with ${what}`, run: async () => expectStatus(await exchange(request), status, what) })),
    {
      // The fragment never reaches a server from a browser; sent anyway, it is not where the token is read.
      name: 'upgrade with the token in a fragment of the request target',
      run: async () => {
        const connection = await exchange(upgradeRequest(`/api#token=${serve.token}`));
        if (connection.status() === 101 && connection.closeCode() === 4401) return;
        expectStatus(connection, 400, 'token in a fragment');
      },
    },
  ];
}

function oversized(): Hostile[] {
  return [
    {
      name: 'an authorized page sending one 4 MB + 1 message',
      run: async () => {
        const page = await authorizedPage();
        page.socket.send('x'.repeat(FOUR_MB + 1));
        const code = await page.close;
        if (code !== 1009) throw new Error(`expected close code 1009, got ${code}`);
      },
    },
    {
      name: 'an authorized page sending a message in fragments that add up to over 4 MB',
      run: async () => {
        const page = await authorizedPage();
        const part = 'y'.repeat(1536 * 1024);
        page.socket.send(part, { fin: false });
        page.socket.send(part, { fin: false });
        page.socket.send(part, { fin: true });
        const code = await page.close;
        if (code !== 1009) throw new Error(`expected close code 1009, got ${code}`);
      },
    },
    {
      name: 'a frame header announcing 1 TiB, with no body following',
      run: async () => {
        const connection = await RawConnection.open();
        connection.write(upgradeRequest(`/api${withToken(serve.token)}`));
        await connection.until(() => connection.headEnd() >= 0, 5000);
        connection.write(clientFrame(0x1, Buffer.alloc(0), { announced: 1n << 40n }));
        await connection.until(() => connection.closeCode() !== null, 5000);
        connection.destroy();
        if (connection.status() !== 101 || connection.closeCode() !== 1009) throw new Error(`expected 101 then close 1009, got ${connection.status()} and ${String(connection.closeCode())}`);
      },
    },
    {
      name: 'an unauthorized page sending 5 MB at once',
      run: async () => {
        const page = openPage(apiUrl(''));
        page.socket.once('open', () => page.socket.send('z'.repeat(5 * 1024 * 1024)));
        const code = await page.close;
        if (code !== 4401) throw new Error(`expected close code 4401, got ${code}`);
      },
    },
    {
      name: 'an authorized page sending an unmasked frame',
      run: async () => {
        const connection = await RawConnection.open();
        connection.write(upgradeRequest(`/api${withToken(serve.token)}`));
        await connection.until(() => connection.headEnd() >= 0, 5000);
        connection.write(clientFrame(0x1, Buffer.from('{"id":1,"method":"getAppInfo"}'), { masked: false }));
        await connection.until(() => connection.closeCode() !== null, 5000);
        connection.destroy();
        if (connection.closeCode() !== 1002) throw new Error(`expected close 1002 (protocol error), got ${String(connection.closeCode())}`);
      },
    },
  ];
}

const UNKNOWN_METHODS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'lab:__proto__', 'lab:', 'runShell', '../getAppInfo', 'getAppInfo\n', 'GETAPPINFO'];

function badRequests(): Hostile[] {
  return [
    {
      name: 'malformed messages on an authorized page',
      run: async () => {
        const page = await authorizedPage();
        const dropped = ['not json at all', '{', '[]', 'null', '1e999', '"text"', '{"id":"1","method":"getAppInfo"}', '{"id":1.5,"method":"getAppInfo"}', '{"id":9007199254740993,"method":"getAppInfo"}', `${'['.repeat(50_000)}${']'.repeat(50_000)}`];
        for (const text of dropped) page.socket.send(text);
        page.socket.send(Buffer.from([0xff, 0x00, 0x7b]), { binary: true });
        const noMethod = [nextId++, nextId++, nextId++];
        page.socket.send(JSON.stringify({ id: noMethod[0], payload: null }));
        page.socket.send(JSON.stringify({ id: noMethod[1], method: 'm'.repeat(201) }));
        page.socket.send(JSON.stringify({ id: noMethod[2], method: 42 }));
        const answer = await call(page, 'getAppInfo');
        page.socket.terminate();
        if (!answer.ok) throw new Error(`the request after the malformed ones failed: ${JSON.stringify(answer)}`);
        const answered = page.messages.filter((message) => 'id' in message);
        const ids = answered.map((message) => message.id as number);
        if (JSON.stringify(ids.slice(0, 3)) !== JSON.stringify(noMethod) || ids.length !== 4) throw new Error(`expected answers to exactly ${noMethod.join(', ')} and the valid request, got ids ${ids.join(', ')}`);
        for (const message of answered.slice(0, 3)) {
          expect(message.envelope).toEqual({ ok: false, error: { code: 'invalid-input', message: 'invalid request: a request needs a method name, e.g. "listHosts"' } });
        }
      },
    },
    {
      name: 'unknown methods on an authorized page',
      run: async () => {
        const page = await authorizedPage();
        const answers = await Promise.all(UNKNOWN_METHODS.map((method) => call(page, method)));
        page.socket.terminate();
        answers.forEach((answer, index) => {
          expect(answer).toEqual({ ok: false, error: { code: 'invalid-input', message: `unknown request ${JSON.stringify(UNKNOWN_METHODS[index])}: this console does not offer it` } });
        });
      },
    },
    {
      name: 'payloads the schema refuses on an authorized page',
      run: async () => {
        const page = await authorizedPage();
        const hostile = await call(page, 'saveHost', { host: { name: '$(touch /tmp/cnlab-pwned)', kind: 'ssh', address: '198.18.0.66', auth: { type: 'agent' } } });
        const extra = await call(page, 'removeHost', { name: 'h1', also: 'rm -rf /' });
        const polluted = await call(page, 'teardownLab', JSON.parse('{"__proto__":{"labId":"x"}}'));
        page.socket.terminate();
        for (const [method, answer] of [['saveHost', hostile], ['removeHost', extra], ['teardownLab', polluted]] as const) {
          expect(answer.ok).toBe(false);
          expect(answer.error?.code).toBe('invalid-input');
          expect(answer.error?.message).toMatch(new RegExp(`^${method}: invalid request: `));
        }
      },
    },
  ];
}

const TRAVERSALS: [string, number][] = [
  ['/../../etc/passwd', 400],
  ['/%2e%2e/%2e%2e/etc/passwd', 400],
  ['/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd', 400],
  ['/assets/..%2f..%2fsecret.txt', 400],
  ['/assets/%2E%2E/%2E%2E/secret.txt', 400],
  ['/..%5c..%5csecret.txt', 400],
  ['/assets/../../secret.txt', 400],
  ['/.', 400],
  ['/%00', 400],
  ['/index.html%00.js', 400],
  ['/assets/leak.txt%00', 400],
  ['/%c0%ae%c0%ae/secret.txt', 400],
  ['http://127.0.0.1/../secret.txt', 400],
  ['/assets/leak.txt', 404],
  ['/%252e%252e/secret.txt', 404],
  ['/assets/%252e%252e%252fsecret.txt', 404],
];

function httpRefusals(): Hostile[] {
  const methods = ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE'].map((method) => ({
    name: `HTTP ${method}`,
    run: async () => {
      const connection = await exchange(httpRequest(`${method} / HTTP/1.1`, { 'Content-Length': '0' }));
      expectStatus(connection, 405, method);
      if (!/\r\nAllow: GET, HEAD\r\n/i.test(connection.text())) throw new Error(`${method}: the 405 does not say Allow: GET, HEAD`);
    },
  }));
  return [
    ...methods,
    ...TRAVERSALS.map(([path, status]) => ({ name: `GET ${path}`, run: async () => expectStatus(await exchange(httpRequest(`GET ${path} HTTP/1.1`)), status, path) })),
    {
      name: 'GET //etc/passwd (the page, never the file)',
      run: async () => {
        const connection = await exchange(httpRequest('GET //etc/passwd HTTP/1.1'));
        expectStatus(connection, 200, '//etc/passwd');
        if (!connection.text().endsWith(INDEX_HTML)) throw new Error('//etc/passwd did not fall back to the page');
      },
    },
    { name: 'CONNECT', run: async () => expectNoAnswer(await exchange(httpRequest('CONNECT 127.0.0.1:22 HTTP/1.1', { Host: '127.0.0.1:22' })), 'CONNECT') },
    { name: 'an unknown HTTP method', run: async () => expectStatus(await exchange(httpRequest('FOO / HTTP/1.1')), 400, 'FOO') },
    { name: 'a control character in the request target', run: async () => expectStatus(await exchange(httpRequest('GET /\x01 HTTP/1.1')), 400, 'control character') },
    // Headers over node's 16 KiB limit, but within one read: a server closing with unread bytes resets the
    // connection, which could swallow its 431 on the way.
    { name: 'a 24 KiB header', run: async () => expectStatus(await exchange(httpRequest('GET / HTTP/1.1', { 'X-Pad': 'a'.repeat(24 * 1024) })), 431, 'huge header') },
    { name: '3000 headers', run: async () => expectStatus(await exchange(httpRequest('GET / HTTP/1.1', Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`X-H${i}`, 'v'])))), 431, '3000 headers') },
    { name: 'Content-Length and Transfer-Encoding together', run: async () => expectStatus(await exchange(httpRequest('POST / HTTP/1.1', { 'Content-Length': '4', 'Transfer-Encoding': 'chunked' })), 400, 'smuggling') },
    {
      // Refused on its headers: the 405 comes before the body is sent (a server closing with unread data
      // resets the connection, which could swallow an answer in flight), then the body must not keep it open.
      name: 'POST with an 8 MB body',
      run: async () => {
        const connection = await RawConnection.open();
        connection.write(httpRequest('POST / HTTP/1.1', { 'Content-Length': String(8 * 1024 * 1024) }));
        await connection.until(() => connection.headEnd() >= 0 || connection.closed, 5000);
        expectStatus(connection, 405, 'POST 8 MB');
        const chunk = Buffer.alloc(256 * 1024, 0x61);
        for (let sent = 0; sent < 8 * 1024 * 1024 && !connection.closed; sent += chunk.length) connection.write(chunk);
        const closed = await connection.until(() => connection.closed, 5000);
        connection.destroy();
        if (!closed) throw new Error('POST 8 MB: the server kept the connection open while the body kept coming');
      },
    },
  ];
}

/** Node closes a CONNECT nobody listens for without a word: no tunnel, no answer. */
function expectNoAnswer(connection: RawConnection, what: string): void {
  if (connection.data.length > 0) throw new Error(`${what}: expected the connection closed without an answer, got ${JSON.stringify(connection.text().slice(0, 80))}`);
}

/** Slow and silent clients, left hanging: the server must end each by itself. */
async function startHanging(round: number): Promise<void> {
  const partialBound = HEADERS_TIMEOUT_MS + 1000 + 2500;
  const add = (name: string, connection: RawConnection, boundMs: number, stop?: () => void): void => {
    hanging.push({ name: `round ${round}: ${name}`, connection, boundMs, ...(stop ? { stop } : {}) });
  };
  for (let i = 0; i < 2; i++) {
    const partial = await RawConnection.open();
    partial.write(upgradeRequest(`/api${withToken(serve.token)}`).split('\r\n').slice(0, 3).join('\r\n'));
    add('an upgrade stopped half-way through its headers', partial, partialBound);
    add('a connection that never sends a byte', await RawConnection.open(), IDLE_SOCKET_TIMEOUT_MS + 2500);
  }
  const drip = await RawConnection.open();
  const request = upgradeRequest(`/api${withToken(serve.token)}`);
  let at = 0;
  const timer = setInterval(() => drip.write(request.slice(at, ++at)), 300);
  add('an upgrade sent one byte every 300 ms', drip, partialBound, () => clearInterval(timer));
  // Refused with 4401 but never answering the close frame: ws's close timeout ends it.
  const deaf = await RawConnection.open();
  deaf.write(upgradeRequest('/api'));
  add('an unauthorized page that never answers the close frame', deaf, CLOSE_TIMEOUT_MS + 2500);
  const reader = await RawConnection.open();
  reader.socket.pause();
  reader.write(httpRequest(`GET /${BIG_ASSET} HTTP/1.1`));
  slowReaders.push(reader);
}

/**
 * Each slow reader, once the server had time to give up on it: the download must have been cut short. Node
 * lets a stalled write's first timeout pass (the write queue changed since the socket was last active), so
 * the server ends it after up to twice the idle timeout.
 */
async function expectSlowReadersCutOff(): Promise<string[]> {
  const problems: string[] = [];
  for (const reader of slowReaders) {
    const wait = reader.openedAt + SLOW_READER_BOUND_MS - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    reader.socket.resume();
    if (!(await reader.until(() => reader.closed, 10_000))) problems.push('a slow reader was still being served after the idle timeout');
    else if (reader.status() !== 200) problems.push(`a slow reader got ${JSON.stringify(reader.text().slice(0, 40))}`);
    else if (reader.data.length - reader.headEnd() - 4 >= BIG_ASSET_BYTES) problems.push('a slow reader got the whole file: the server never gave up on it');
  }
  return problems;
}

/**
 * Server descriptors the hanging connections may hold: a socket each, and a slow reader's file too, until
 * its bound (a paused reader does not see the server's close, so its own socket tells nothing).
 */
function openHanging(): number {
  const readers = slowReaders.filter((reader) => Date.now() - reader.openedAt < SLOW_READER_BOUND_MS).length;
  return hanging.filter((entry) => !entry.connection.closed).length + 2 * readers;
}

function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

// ── the campaign ────────────────────────────────────────────────────────────────────────────────────

let live: Page;
let baselineFds: number;
const savedHosts: string[] = [];

beforeAll(async () => {
  assertCliBuilt();
  scratch = mkdtempSync(join(tmpdir(), 'cnlab-fault-browser-'));
  serve = await startServe();
  live = await authorizedPage();
  expect(await call(live, 'getAppInfo')).toMatchObject({ ok: true, value: { shell: 'browser' } });
  const warm = await authorizedPage();
  await call(warm, 'listHosts');
  warm.socket.close();
  await warm.close;
  await new Promise((resolve) => setTimeout(resolve, 300));
  baselineFds = fdCount();
}, 60_000);

afterAll(async () => {
  for (const entry of hanging) {
    entry.stop?.();
    entry.connection.destroy();
  }
  for (const reader of slowReaders) reader.destroy();
  live?.socket.terminate();
  if (serve && serve.exited() === null) {
    const exited = new Promise((resolve) => serve.child.once('exit', resolve));
    serve.child.kill('SIGTERM');
    const timer = setTimeout(() => serve.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** A fresh authorized page gets right answers: the app, a host saved now, and exactly the hosts saved so far. */
async function expectAuthorizedAnswers(round: number): Promise<void> {
  const page = await authorizedPage();
  expect(await call(page, 'getAppInfo')).toMatchObject({ ok: true, value: { shell: 'browser', workspaceDir: join(scratch, 'ws') } });
  const name = `ok-r${round}`;
  expect(await call(page, 'saveHost', { host: { name, kind: 'ssh', address: '198.18.0.77', auth: { type: 'agent' } } })).toMatchObject({ ok: true, value: { host: { name } } });
  savedHosts.push(name);
  const listed = await call(page, 'listHosts');
  expect(listed.ok).toBe(true);
  const names = (listed.value as { host: { name: string } }[]).map((view) => view.host.name).sort();
  expect(names).toEqual([...savedHosts].sort());
  expect(names.filter((host) => evilNames.includes(host))).toEqual([]);
  page.socket.close();
  await page.close;
}

/** The live page asks every 50 ms while `during` runs; every answer must be right. */
async function liveAnswersDuring(during: Promise<unknown>): Promise<number> {
  let done = false;
  void during.finally(() => (done = true)).catch(() => undefined);
  let answered = 0;
  while (!done) {
    const answer = await call(live, 'getAppInfo', null, 15_000);
    expect(answer).toMatchObject({ ok: true, value: { shell: 'browser' } });
    answered++;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return answered;
}

async function expectFdsWithin(bound: () => number, timeoutMs: number, what: string): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let count = fdCount();
  while (count > bound()) {
    if (Date.now() > deadline) throw new Error(`${what}: the server holds ${count} file descriptors, more than ${bound()} (baseline ${baselineFds})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    count = fdCount();
  }
  return count;
}

describe('browser mode under a hostile campaign', () => {
  it(`refuses ${ROUNDS} rounds of mixed hostile requests in their own ways and keeps serving with bounded sockets and memory`, async () => {
    let warmRss = 0;
    const log: string[] = [];
    try {
      for (let round = 1; round <= ROUNDS; round++) {
        const started = Date.now();
        await startHanging(round);
        const burst = shuffled([...tokenRefusals(round), ...upgradeRefusals(), ...oversized(), ...badRequests(), ...httpRefusals()]);
        const outcomes = Promise.allSettled(burst.map((hostile) => hostile.run()));
        const liveAnswers = await liveAnswersDuring(outcomes);
        const failures = (await outcomes).flatMap((outcome, index) => (outcome.status === 'rejected' ? [`${burst[index]?.name}: ${outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason)}`] : []));
        expectServing();
        expect(failures).toEqual([]);
        expect(liveAnswers).toBeGreaterThan(0);
        await expectAuthorizedAnswers(round);
        const fds = await expectFdsWithin(() => baselineFds + openHanging() + FD_SLACK, 5000, `after round ${round}`);
        const rss = rssKb();
        if (round === 1) warmRss = rss;
        log.push(`round ${round}: ${burst.length} hostile requests, ${liveAnswers} live answers, ${fds} fds (baseline ${baselineFds}, ${openHanging()} hanging), rss ${Math.round(rss / 1024)} MB, ${Date.now() - started} ms`);
      }
      // Every slow or silent connection is closed by the server, not by this client, and in time.
      const waited = await Promise.all(hanging.map((entry) => entry.connection.until(() => entry.connection.closed, entry.boundMs - (Date.now() - entry.connection.openedAt))));
      for (const entry of hanging) entry.stop?.();
      const late = hanging.filter((_, index) => !waited[index]).map((entry) => `${entry.name} still open after ${entry.boundMs} ms`);
      expect(late).toEqual([]);
      expect(hanging.filter((entry) => entry.name.includes('half-way') && !/^HTTP\/1\.1 408 /.test(entry.connection.text())).map((entry) => entry.name)).toEqual([]);
      expect(hanging.filter((entry) => entry.name.includes('close frame') && entry.connection.closeCode() !== 4401).map((entry) => entry.name)).toEqual([]);
      expect(await expectSlowReadersCutOff()).toEqual([]);
      // A download the server gave up on must not keep its file open.
      expect(openDescriptorsOn(join(scratch, 'renderer', BIG_ASSET))).toBe(0);
      const finalFds = await expectFdsWithin(() => baselineFds + FD_SLACK, 5000, 'after the campaign');
      const finalRss = rssKb();
      log.push(`end: ${finalFds} fds (baseline ${baselineFds}), rss ${Math.round(finalRss / 1024)} MB (after round 1: ${Math.round(warmRss / 1024)} MB)`);
      expect(finalRss - warmRss).toBeLessThan(RSS_GROWTH_LIMIT_KB);
    } finally {
      console.log(log.join('\n'));
    }
    expectServing();
    await expectAuthorizedAnswers(ROUNDS + 1);
  }, campaignTimeout(ROUNDS, 6000, 40_000));

  it(`holds at most ${MAX_CONNECTIONS} connections under a flood, keeps the open page answering, and ends the flood's silent connections`, async () => {
    const flood = await Promise.all(Array.from({ length: MAX_CONNECTIONS + 100 }, () => RawConnection.open()));
    let peak = 0;
    const watch = setInterval(() => (peak = Math.max(peak, fdCount())), 20);
    try {
      // The connections past the cap are dropped at once; the page connected before keeps answering.
      expect(await liveAnswersDuring(new Promise((resolve) => setTimeout(resolve, 1500)))).toBeGreaterThan(5);
      const dropped = flood.filter((connection) => connection.closed).length;
      expect(dropped).toBeGreaterThanOrEqual(100);
      expect(peak).toBeLessThanOrEqual(baselineFds + MAX_CONNECTIONS + FD_SLACK);
      const ended = await Promise.all(flood.map((connection) => connection.until(() => connection.closed, IDLE_SOCKET_TIMEOUT_MS + 3000)));
      expect(ended.filter((closed) => !closed)).toHaveLength(0);
    } finally {
      clearInterval(watch);
      for (const connection of flood) connection.destroy();
    }
    await expectFdsWithin(() => baselineFds + FD_SLACK, 5000, 'after the flood');
    expectServing();
    await expectAuthorizedAnswers(ROUNDS + 2);
  }, 60_000);
});
