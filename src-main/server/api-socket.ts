// The LabApi over a WebSocket at /api: who may connect (token, own origin, expected Host), and the
// protocol of lab-client.ts: `{id, method, payload}` in, `{id, envelope}` out, `{events}` pushed.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { LabApiDispatcher } from '../api/lab-api-dispatcher';
import type { LabApiEnvelope } from '../contract/lab-api';
import { tokenMatches } from './access-token';

export const API_PATH = '/api';
/** The page's close code for "wrong or missing token" (lab-client.ts turns it into a specific message). */
export const CLOSE_UNAUTHORIZED = 4401;
/** A topology is at most 2 MB of text; anything over 4 MB is not a request. */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
/**
 * How long a refused page's socket waits for the client's close frame before it is cut off: ws waits 30 s,
 * so a client refused with 4401 that never answered would hold the server's socket that long.
 */
export const CLOSE_TIMEOUT_MS = 2000;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

export interface ApiSocketOptions {
  dispatcher: LabApiDispatcher;
  token: string;
  /** Listening on loopback only: then the Host header must name loopback too (stops DNS rebinding). */
  loopbackOnly: boolean;
}

function hostName(host: string): string {
  return host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : (host.split(':')[0] ?? '');
}

/** Why an upgrade must be refused before it happens, or null. The token is checked after, see below. */
export function upgradeRefusal(request: IncomingMessage, loopbackOnly: boolean): { status: number; reason: string } | null {
  const host = request.headers.host ?? '';
  if (!host || (loopbackOnly && !LOOPBACK_HOSTS.has(hostName(host).toLowerCase()))) return { status: 403, reason: 'unexpected Host header' };
  const origin = request.headers.origin;
  // Browsers always send Origin on WebSocket upgrades: another site's page would send its own, and is refused.
  if (origin !== undefined && origin !== `http://${host}`) return { status: 403, reason: 'cross-origin WebSocket refused' };
  return null;
}

/** The request target as a URL, or null: `GET //[` is not one, and new URL() throwing here would end the server. */
function requestUrl(target: string | undefined): URL | null {
  try {
    return new URL(target ?? '/', 'http://placeholder');
  } catch {
    return null;
  }
}

function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${reason.length + 1}\r\n\r\n${reason}\n`);
}

interface ApiRequest {
  id: number;
  method: string;
  payload: unknown;
}

function parseRequest(data: RawData, isBinary: boolean): { request: ApiRequest } | { id: number | null; problem: string } {
  if (isBinary) return { id: null, problem: 'binary messages are not requests' };
  let message: unknown;
  try {
    message = JSON.parse(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8'));
  } catch {
    return { id: null, problem: 'a request must be JSON' };
  }
  if (typeof message !== 'object' || message === null) return { id: null, problem: 'a request must be a JSON object' };
  const { id, method, payload } = message as Record<string, unknown>;
  const validId = typeof id === 'number' && Number.isSafeInteger(id) ? id : null;
  if (validId === null) return { id: null, problem: 'a request needs a numeric id' };
  if (typeof method !== 'string' || method.length === 0 || method.length > 200) return { id: validId, problem: 'a request needs a method name, e.g. "listHosts"' };
  return { request: { id: validId, method, payload } };
}

function send(socket: WebSocket, message: unknown): void {
  if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
}

function serveConnection(socket: WebSocket, dispatcher: LabApiDispatcher): void {
  const unsubscribe = dispatcher.subscribe((events) => send(socket, { events }));
  socket.on('close', unsubscribe);
  socket.on('message', (data, isBinary) => {
    const parsed = parseRequest(data, isBinary);
    if (!('request' in parsed)) {
      // Without an id the page cannot match an answer: the message is dropped.
      if (parsed.id !== null) send(socket, { id: parsed.id, envelope: { ok: false, error: { code: 'invalid-input', message: `invalid request: ${parsed.problem}` } } });
      return;
    }
    const { id, method, payload } = parsed.request;
    void dispatcher.invoke(method, payload).then(
      (envelope) => send(socket, { id, envelope }),
      (error: unknown) => {
        const envelope: LabApiEnvelope<never> = { ok: false, error: { code: 'internal', message: `internal error: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}` } };
        send(socket, { id, envelope });
      },
    );
  });
}

/** Attaches the API to an HTTP server's upgrade requests; returns the WebSocket server (close it on shutdown). */
export function attachApiSocket(server: Server, options: ApiSocketOptions): WebSocketServer {
  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = requestUrl(request.url);
    if (!url) {
      refuseUpgrade(socket, 400, 'bad request target');
      return;
    }
    if (url.pathname !== API_PATH) {
      refuseUpgrade(socket, 404, 'no WebSocket here: the API is at /api');
      return;
    }
    const refusal = upgradeRefusal(request, options.loopbackOnly);
    if (refusal) {
      refuseUpgrade(socket, refusal.status, refusal.reason);
      return;
    }
    sockets.handleUpgrade(request, socket, head, (ws) => {
      // ws closes the socket itself on protocol errors (1009 for an oversized message); without a listener
      // the 'error' event would crash the whole server.
      ws.on('error', () => undefined);
      // The page only sees close codes, not HTTP statuses: a bad token is refused with 4401 before any message is read.
      if (!tokenMatches(options.token, url.searchParams.get('token'))) {
        ws.close(CLOSE_UNAUTHORIZED, 'missing or wrong token');
        const cutOff = setTimeout(() => ws.terminate(), CLOSE_TIMEOUT_MS);
        ws.once('close', () => clearTimeout(cutOff));
        return;
      }
      serveConnection(ws, options.dispatcher);
    });
  });
  return sockets;
}
