/**
 * The loopback transport: the same handlers as the Electron app, for a browser on this machine.
 * Listens on 127.0.0.1 only and requires a random token on every request (query `?token=` once, after which
 * an HttpOnly SameSite=Strict cookie carries it, or an `Authorization: Bearer` header). The Host header must
 * name the loopback address, so a web page elsewhere cannot reach the server through DNS rebinding.
 *
 *   GET  /…              the built renderer (out/renderer), index.html for unknown paths
 *   POST /api/<channel>  JSON argument in, JSON result out (400 with {error, where, problem} on bad input)
 *   GET  /api/events     server-sent events: every event of preload/api Events
 */
import http from 'node:http';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { ApiErrorBody, EventName, Events } from '../../preload/api';
import { isInputError } from '../core/errors';
import { isChannel, type Handlers } from './handlers';

export const TOKEN_COOKIE = 'tractus_token';
const MAX_BODY_BYTES = 32 * 1024 * 1024;
const HEARTBEAT_MS = 15_000;

export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

export interface LoopbackServer {
  url: string;
  port: number;
  token: string;
  /** Send an event to every connected browser. */
  broadcast<E extends EventName>(event: E, payload: Events[E]): void;
  close(): Promise<void>;
}

export interface LoopbackOptions {
  /** Folder of the built renderer (index.html + assets). */
  rendererDir: string;
  port?: number;
  /** Defaults to 32 random bytes; tests may fix it. */
  token?: string;
  /** Late-bound because the handlers' emit needs the server's broadcast. */
  handlers: () => Handlers;
}

function sameToken(given: string | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(text);
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startLoopbackServer(opts: LoopbackOptions): Promise<LoopbackServer> {
  const token = opts.token ?? randomBytes(32).toString('base64url');
  const rendererDir = path.resolve(opts.rendererDir);
  const clients = new Set<http.ServerResponse>();
  let port = 0;

  function authorised(req: http.IncomingMessage, url: URL): 'query' | 'other' | false {
    if (sameToken(url.searchParams.get('token') ?? undefined, token)) return 'query';
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (sameToken(bearer, token) || sameToken(cookieValue(req.headers.cookie, TOKEN_COOKIE), token))
      return 'other';
    return false;
  }

  function hostAllowed(req: http.IncomingMessage): boolean {
    const host = req.headers.host ?? '';
    return host === `127.0.0.1:${port}` || host === `localhost:${port}`;
  }

  async function serveStatic(url: URL, res: http.ServerResponse, setCookie: boolean): Promise<void> {
    let rel = decodeURIComponent(url.pathname);
    if (rel.endsWith('/')) rel += 'index.html';
    let file = path.resolve(rendererDir, '.' + rel);
    if (file !== rendererDir && !file.startsWith(rendererDir + path.sep)) {
      res.writeHead(404).end();
      return;
    }
    let body: Buffer;
    try {
      body = await fs.readFile(file);
    } catch {
      // Unknown paths are the single-page app's own routes.
      file = path.join(rendererDir, 'index.html');
      try {
        body = await fs.readFile(file);
      } catch {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`renderer not built: ${file} missing`);
        return;
      }
    }
    const headers: http.OutgoingHttpHeaders = {
      'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    };
    if (setCookie) headers['set-cookie'] = `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`;
    res.writeHead(200, headers).end(body);
  }

  async function serveApi(
    channel: string,
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): Promise<void> {
    if (!isChannel(channel))
      return sendJson(res, 404, { error: `unknown channel ${channel}` } satisfies ApiErrorBody);
    let args: unknown;
    try {
      const text = await readBody(req);
      args = text ? JSON.parse(text) : {};
    } catch (e) {
      return sendJson(res, 400, {
        error: `bad request body: ${(e as Error).message}`,
      } satisfies ApiErrorBody);
    }
    try {
      const result = await opts.handlers()[channel](args);
      sendJson(res, 200, { result: result ?? null });
    } catch (e) {
      if (isInputError(e)) {
        sendJson(res, 400, { error: e.message, where: e.where, problem: e.problem } satisfies ApiErrorBody);
      } else {
        process.stderr.write(`tractus serve: ${channel} failed: ${(e as Error).stack ?? String(e)}\n`);
        sendJson(res, 500, {
          error: `internal error in ${channel}: ${(e as Error).message}`,
        } satisfies ApiErrorBody);
      }
    }
  }

  function serveEvents(res: http.ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    res.write(': connected\n\n');
    clients.add(res);
    res.on('close', () => clients.delete(res));
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (!hostAllowed(req)) return void res.writeHead(403, { 'content-type': 'text/plain' }).end('bad host');
    const auth = authorised(req, url);
    if (!auth) return void res.writeHead(401, { 'content-type': 'text/plain' }).end('token required');
    if (url.pathname === '/api/events' && req.method === 'GET') return serveEvents(res);
    if (url.pathname.startsWith('/api/')) {
      if (req.method !== 'POST') return void res.writeHead(405, { allow: 'POST' }).end();
      void serveApi(url.pathname.slice('/api/'.length), req, res);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405).end();
    void serveStatic(url, res, auth === 'query');
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const heartbeat = setInterval(() => {
    for (const c of clients) c.write(': keep-alive\n\n');
  }, HEARTBEAT_MS);
  heartbeat.unref();

  return {
    port,
    token,
    url: `http://127.0.0.1:${port}/?token=${token}`,
    broadcast(event, payload) {
      const frame = `event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`;
      for (const c of clients) c.write(frame);
    },
    close() {
      clearInterval(heartbeat);
      for (const c of clients) c.end();
      clients.clear();
      return new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
