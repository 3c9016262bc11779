/**
 * The agent's network settings (proxy, TLS) turned into what the HTTP stacks we use understand:
 * an https.Agent for every @azure SDK client and credential, and an undici fetch for the openai client.
 *
 * Everything is passed explicitly: the SDKs' own environment lookups (HTTPS_PROXY, NO_PROXY) never
 * apply, because a client given an `agent` skips its proxy policy (see proxyPolicy in
 * @typespec/ts-http-runtime: `setProxyAgentOnRequest` returns when `request.agent` is set).
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { Agent as UndiciAgent, Dispatcher, ProxyAgent, fetch as undiciFetch } from 'undici';
import { SynthesisError } from '../../core/errors';
import type { CertSettings, ProxySettings } from '../pipeline/agent-host';

/** The agent's TLS material, read from the files CertSettings names. */
export interface LoadedCerts {
  /** Extra trusted CA(s), PEM (Agent.CAInfo). Trusted in addition to Node's bundled roots. */
  ca?: string;
  /** Client certificate, PEM (Agent.ClientCert). */
  cert?: string;
  /** Client key, PEM (Agent.ClientCertKey). */
  key?: string;
  passphrase?: string;
  /** The agent skips certificate validation (--sslskipcertvalidation): the task does too. */
  skipValidation?: boolean;
}

/** How the task reaches the network: the agent's proxy (with its bypass list) and TLS material. */
export interface Network {
  proxy?: ProxySettings;
  certs?: LoadedCerts;
}

/** The proxy refused a CONNECT tunnel: 407 (EPROXYAUTH) or any other status (EPROXYREFUSED). Not retried by the SDKs. */
export class ProxyTunnelError extends Error {
  constructor(
    message: string,
    readonly code: 'EPROXYAUTH' | 'EPROXYREFUSED',
    readonly status: number,
  ) {
    super(message);
    this.name = 'ProxyTunnelError';
  }
}

/**
 * Read the CA and client certificate files the agent names, and validate the proxy URL.
 * Passwords and keys are passed to `setSecret` before anything else happens with them.
 * @throws SynthesisError naming the agent setting whose file cannot be read or whose proxy URL is invalid.
 */
export async function loadNetwork(
  proxy: ProxySettings | undefined,
  certs: CertSettings | undefined,
  readFile: (path: string) => Promise<string>,
  setSecret: (value: string) => void,
): Promise<Network> {
  if (proxy?.password) setSecret(proxy.password);
  if (certs?.passphrase) setSecret(certs.passphrase);
  const network: Network = {};
  if (proxy) {
    proxyUrl(proxy); // validates
    network.proxy = proxy;
  }
  if (certs) {
    const read = async (path: string | undefined, setting: string): Promise<string | undefined> => {
      if (!path) return undefined;
      try {
        return await readFile(path);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
        throw new SynthesisError(
          `The agent's ${setting} file '${path}' cannot be read (${code}).`,
          setting,
          `Fix the agent's TLS settings (${setting}, see https://learn.microsoft.com/azure/devops/pipelines/agents/certificate) or remove them.`,
        );
      }
    };
    const loaded: LoadedCerts = {};
    const ca = await read(certs.caFile, 'Agent.CAInfo');
    const cert = await read(certs.certFile, 'Agent.ClientCert');
    const key = await read(certs.keyFile, 'Agent.ClientCertKey');
    if (key) setSecret(key);
    if (ca) loaded.ca = ca;
    if (cert) loaded.cert = cert;
    if (key) loaded.key = key;
    if (certs.passphrase) loaded.passphrase = certs.passphrase;
    if (certs.skipValidation) loaded.skipValidation = true;
    if (Object.keys(loaded).length) network.certs = loaded;
  }
  return network;
}

/** True when the agent's bypass list exempts `url` from the proxy (task-lib's rule: each entry is a case-insensitive regex tested on the URL). */
export function isBypassed(proxy: ProxySettings, url: string): boolean {
  return proxy.bypass.some((pattern) => {
    try {
      return new RegExp(pattern, 'i').test(url);
    } catch {
      return false;
    }
  });
}

/** The proxy to use for `url`, or undefined when there is none or the URL is bypassed. */
export function proxyFor(network: Network, url: string): ProxySettings | undefined {
  return network.proxy && !isBypassed(network.proxy, url) ? network.proxy : undefined;
}

/** Proxy URL without credentials, safe for messages. */
export function describeProxy(proxy: ProxySettings): string {
  const url = proxyUrl(proxy);
  return `${url.protocol}//${url.host}`;
}

/** TLS options: Node's bundled roots plus the agent's CA (a `ca` option replaces the roots, so both are listed), and the client certificate. */
function tlsOptions(certs: LoadedCerts | undefined): tls.ConnectionOptions {
  if (!certs) return {};
  return {
    ...(certs.ca ? { ca: [...tls.rootCertificates, certs.ca] } : {}),
    ...(certs.cert ? { cert: certs.cert } : {}),
    ...(certs.key ? { key: certs.key } : {}),
    ...(certs.passphrase ? { passphrase: certs.passphrase } : {}),
    ...(certs.skipValidation ? { rejectUnauthorized: false } : {}),
  };
}

function basicAuth(proxy: ProxySettings): string | undefined {
  if (!proxy.username) return undefined;
  return 'Basic ' + Buffer.from(`${proxy.username}:${proxy.password ?? ''}`).toString('base64');
}

function proxyUrl(proxy: ProxySettings): URL {
  let url: URL | undefined;
  try {
    url = new URL(proxy.url);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new SynthesisError(
      `The agent's proxy URL is not an http(s) URL.`,
      'Agent.ProxyUrl',
      'Fix the proxy in the agent configuration (config --proxyurl), e.g. http://proxy.example.com:8080.',
    );
  }
  return url;
}

/**
 * An https.Agent that opens each connection directly or through an HTTP CONNECT tunnel, choosing
 * per target host with the bypass list, and verifies the target with the agent's TLS settings.
 * Why not the SDK's `proxyOptions` + `tlsOptions`: @azure/core-rest-pipeline drops tlsOptions when a
 * proxy is set ("TLS settings are not supported in combination with custom Proxy"), so a private CA
 * behind a proxy would fail.
 */
class NetworkAgent extends https.Agent {
  constructor(private readonly network: Network) {
    super({ keepAlive: true, ...tlsOptions(network.certs) });
  }

  override createConnection(
    options: http.RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const host = String(options.hostname ?? options.host ?? '');
    const port = Number(options.port) || 443;
    const proxy = proxyFor(this.network, `https://${host}${port === 443 ? '' : `:${port}`}/`);
    if (!proxy) return super.createConnection(options, callback);
    const done = callback ?? (() => undefined);
    this.tunnel(proxy, host, port, options as tls.ConnectionOptions, done);
    return undefined;
  }

  private tunnel(
    proxy: ProxySettings,
    host: string,
    port: number,
    options: tls.ConnectionOptions,
    done: (err: Error | null, stream: Duplex) => void,
  ): void {
    const url = proxyUrl(proxy);
    const auth = basicAuth(proxy);
    const target = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    const request = (url.protocol === 'https:' ? https : http).request({
      host: url.hostname,
      port: Number(url.port) || (url.protocol === 'https:' ? 443 : 80),
      method: 'CONNECT',
      path: target,
      headers: { host: target, ...(auth ? { 'proxy-authorization': auth } : {}) },
      agent: false,
      ...(url.protocol === 'https:' ? tlsOptions(this.network.certs) : {}),
    });
    let settled = false;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      done(err, undefined as unknown as Duplex);
    };
    request.once('connect', (res: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      const status = res.statusCode ?? 0;
      if (status !== 200) {
        socket.destroy();
        const where = describeProxy(proxy);
        fail(
          status === 407
            ? new ProxyTunnelError(
                `The proxy ${where} requires authentication${auth ? " and rejected the agent's proxy credentials" : ''} (HTTP 407) for ${target}.`,
                'EPROXYAUTH',
                status,
              )
            : new ProxyTunnelError(
                `The proxy ${where} refused the tunnel to ${target} (HTTP ${status}).`,
                'EPROXYREFUSED',
                status,
              ),
        );
        return;
      }
      if (head.length) socket.unshift(head);
      // The request's host/port/path must not reach tls.connect: with `socket` given, `path` would mean an IPC path.
      const rest: tls.ConnectionOptions & { path?: string } = { ...options };
      delete rest.host;
      delete rest.port;
      delete rest.path;
      const secure = tls.connect({ ...rest, socket, servername: net.isIP(host) ? undefined : host });
      settled = true;
      done(null, secure);
    });
    request.once('error', fail);
    request.end();
  }
}

/** Options for every @azure SDK client and credential: one agent that applies the proxy, bypass list and TLS settings. */
export function azureClientOptions(network: Network): { agent: https.Agent } {
  return { agent: new NetworkAgent(network) };
}

/** What the openai client needs: a fetch bound to a dispatcher that applies the agent's network settings. */
export interface NetworkFetch {
  /** undici's own fetch (not Node's global one, whose bundled undici may not accept this undici's dispatcher). */
  fetch: typeof globalThis.fetch;
  dispatcher: Dispatcher;
}

/** Sends each request directly or through the proxy, per origin, by the bypass list. */
class RoutingDispatcher extends Dispatcher {
  constructor(
    private readonly network: Network,
    private readonly direct: Dispatcher,
    private readonly proxied: Dispatcher | undefined,
  ) {
    super();
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const origin = String(options.origin ?? '');
    const useProxy =
      this.proxied &&
      this.network.proxy &&
      !isBypassed(this.network.proxy, origin.endsWith('/') ? origin : `${origin}/`);
    return (useProxy ? this.proxied! : this.direct).dispatch(options, handler);
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    const all = Promise.all([this.direct.close(), this.proxied?.close()]).then(() => undefined);
    if (!callback) return all;
    void all.then(callback, callback);
  }

  override destroy(): Promise<void>;
  override destroy(err: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(a?: Error | null | (() => void), b?: () => void): Promise<void> | void {
    const err = typeof a === 'function' ? null : (a ?? null);
    const callback = typeof a === 'function' ? a : b;
    const all = Promise.all([this.direct.destroy(err), this.proxied?.destroy(err)]).then(() => undefined);
    if (!callback) return all;
    void all.then(callback, callback);
  }
}

/** A fetch for the openai client that applies the proxy (Basic auth), bypass list and TLS settings. */
export function createFetch(network: Network): NetworkFetch {
  const connect = tlsOptions(network.certs);
  const hasTls = Object.keys(connect).length > 0;
  const direct = new UndiciAgent(hasTls ? { connect } : {});
  let proxied: Dispatcher | undefined;
  if (network.proxy) {
    const token = basicAuth(network.proxy);
    const url = proxyUrl(network.proxy);
    proxied = new ProxyAgent({
      uri: `${url.protocol}//${url.host}`,
      ...(token ? { token } : {}),
      ...(hasTls ? { requestTls: connect, proxyTls: connect } : {}),
    });
  }
  const dispatcher = new RoutingDispatcher(network, direct, proxied);
  const fetch = ((input: Parameters<typeof undiciFetch>[0], init?: Parameters<typeof undiciFetch>[1]) =>
    undiciFetch(input, { ...init, dispatcher })) as unknown as typeof globalThis.fetch;
  return { fetch, dispatcher };
}
