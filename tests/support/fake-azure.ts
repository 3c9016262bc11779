/**
 * One HTTPS server on 127.0.0.1 that stands for every Azure host, routing each request by its Host
 * header to a fake (Entra ID, Key Vault, Azure OpenAI, Azure DevOps), and a CONNECT proxy that sends
 * every tunnel to it. Clients reach Azure's real host names through the proxy, or the server directly
 * at https://127.0.0.1:<port>.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { testPki } from './test-ca';

/** A fake service: answers requests whose host (without port) matches `host`. */
export interface Route {
  host: RegExp;
  handle(req: IncomingMessage, res: ServerResponse, body: Buffer): void | Promise<void>;
}

/** A request as a fake saw it, for assertions. */
export interface SeenRequest {
  host: string;
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface FakeAzure {
  /** https://127.0.0.1:<port> */
  url: string;
  port: number;
  caPem: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

export async function startFakeAzure(routes: Route[]): Promise<FakeAzure> {
  const pki = testPki();
  const requests: SeenRequest[] = [];
  const server = https.createServer({ key: pki.keyPem, cert: pki.certPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const host = (req.headers.host ?? '').replace(/:\d+$/, '');
      requests.push({
        host,
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: body.toString(),
      });
      const route = routes.find((r) => r.host.test(host));
      if (!route) {
        res.writeHead(599, { 'content-type': 'text/plain' }).end(`no fake for host ${host}`);
        return;
      }
      Promise.resolve(route.handle(req, res, body)).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(err));
      });
    });
  });
  await listen(server);
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    caPem: pki.caPem,
    requests,
    close: () => closeServer(server),
  };
}

export interface FakeProxy {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  /** Every CONNECT target (host:port) and plain request the proxy handled. */
  tunnels: string[];
  /** Proxy-Authorization values seen. */
  authorizations: string[];
  close(): Promise<void>;
}

/**
 * An authenticating HTTP CONNECT proxy, like a corporate one. Every tunnel goes to `target`
 * whatever host it names (so real Azure host names reach the fakes). With `credentials`, requests
 * without the right Proxy-Authorization get 407. Hosts for which `options.unknownHost` is true get
 * 502 Bad Gateway, as a proxy answers when the name of a CONNECT does not resolve.
 */
export async function startFakeProxy(
  target: { port: number },
  credentials?: { username: string; password: string },
  options: { unknownHost?: (host: string) => boolean } = {},
): Promise<FakeProxy> {
  const tunnels: string[] = [];
  const authorizations: string[] = [];
  const expected = credentials
    ? 'Basic ' + Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')
    : undefined;
  const server = http.createServer((req, res) => {
    tunnels.push(`${req.method} ${req.url}`);
    res.writeHead(501).end('this proxy only tunnels');
  });
  const sockets = new Set<net.Socket>();
  server.on('connect', (req: IncomingMessage, client: net.Socket, head: Buffer) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    const auth = req.headers['proxy-authorization'];
    if (auth) authorizations.push(auth);
    if (expected && auth !== expected) {
      client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="corp"\r\nContent-Length: 0\r\n\r\n',
      );
      return;
    }
    tunnels.push(req.url ?? '');
    if (options.unknownHost?.((req.url ?? '').replace(/:\d+$/, ''))) {
      client.end(
        'HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: 26\r\n\r\nDNS lookup failed for host',
      );
      return;
    }
    const upstream = net.connect(target.port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await listen(server);
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    tunnels,
    authorizations,
    close: async () => {
      for (const s of sockets) s.destroy();
      await closeServer(server);
    },
  };
}

function listen(server: net.Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
}

function closeServer(server: http.Server | https.Server): Promise<void> {
  server.closeAllConnections?.();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Send a JSON response. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}
