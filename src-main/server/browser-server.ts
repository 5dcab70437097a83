// Browser mode: one plain node:http server that serves the built renderer and the LabApi WebSocket at /api,
// bound to 127.0.0.1 unless told otherwise, with a fresh token per start that the printed URL carries.
import { createServer, type Server } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { LabApiDispatcher } from '../api/lab-api-dispatcher';
import { createAccessToken } from './access-token';
import { attachApiSocket } from './api-socket';
import { serveStaticFile } from './static-files';

export const DEFAULT_LISTEN_ADDRESS = '127.0.0.1';

// Slow or silent clients (slowloris) must not hold the server's sockets: a browser sends its request at
// once. Node's own defaults (60 s for headers, checked every 30 s; no limit at all for a connection that
// never sends a byte) let anyone who can connect keep sockets open for minutes.
/** A request's headers must be complete within this (408 otherwise). */
export const HEADERS_TIMEOUT_MS = 5_000;
/** A whole request (GET and HEAD have no body; anything else is refused with 405). */
export const REQUEST_TIMEOUT_MS = 10_000;
/** A connection silent this long is closed; an accepted WebSocket is exempt (ws clears the timeout). */
export const IDLE_SOCKET_TIMEOUT_MS = 8_000;
/**
 * Connections at once; past it new ones are dropped, so a flood cannot use up the process's file
 * descriptors, which the SSH sessions and the run files of the same process need too. A page uses a
 * handful (its assets and one WebSocket).
 */
export const MAX_CONNECTIONS = 256;

export interface BrowserServerOptions {
  dispatcher: LabApiDispatcher;
  /** The built renderer folder (index.html + assets). */
  rendererDir: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1; anything else exposes the API to the network (the token still guards it). */
  listen?: string;
}

export interface BrowserServer {
  /** The URL to open, token in the fragment so it never reaches a server log or a Referer header. */
  url: string;
  token: string;
  address: AddressInfo;
  close(): Promise<void>;
}

export function isLoopbackAddress(address: string): boolean {
  return address === 'localhost' || address === '::1' || (isIP(address) === 4 && address.startsWith('127.'));
}

/** How a browser on this machine reaches the server: a wildcard bind is still reachable on loopback. */
function pageHost(address: AddressInfo): string {
  if (address.address === '0.0.0.0' || address.address === '::') return DEFAULT_LISTEN_ADDRESS;
  return address.family === 'IPv6' ? `[${address.address}]` : address.address;
}

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolveListen, reject) => {
    server.once('error', reject);
    server.listen({ port, host, exclusive: true }, () => {
      server.off('error', reject);
      resolveListen(server.address() as AddressInfo);
    });
  });
}

export async function startBrowserServer(options: BrowserServerOptions): Promise<BrowserServer> {
  const rendererDir = resolve(options.rendererDir);
  const listenAddress = options.listen ?? DEFAULT_LISTEN_ADDRESS;
  const token = createAccessToken();
  const server = createServer({ headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, connectionsCheckingInterval: 1000 }, (request, response) => {
    serveStaticFile(rendererDir, request, response).catch(() => {
      if (!response.headersSent) response.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      response.end('internal error while serving a file\n');
    });
  });
  server.timeout = IDLE_SOCKET_TIMEOUT_MS;
  server.maxConnections = MAX_CONNECTIONS;
  const sockets = attachApiSocket(server, { dispatcher: options.dispatcher, token, loopbackOnly: isLoopbackAddress(listenAddress) });
  const address = await listen(server, options.port ?? 0, listenAddress);
  return {
    url: `http://${pageHost(address)}:${address.port}/#token=${token}`,
    token,
    address,
    async close() {
      for (const client of sockets.clients) client.terminate();
      await new Promise<void>((done) => sockets.close(() => done()));
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}
