/**
 * The one place that reads a failed request's error and says what kind of network failure it was: the
 * proxy (407, or a refused tunnel), DNS, TLS trust or host name, or the connection itself. Every adapter
 * that talks to the network (the model clients, Entra ID sign-in, Key Vault, Azure DevOps) classifies
 * through here, so a code added for one is known to all.
 *
 * SDK errors wrap their causes (fetch failed -> cause -> socket error), and some SDKs rewrap socket errors
 * keeping only the message and the code: the classification reads the whole cause chain, codes first,
 * then the messages.
 */

/** A plain object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The error and its causes, outermost first, at most `depth` of them. */
export function causeChain(err: unknown, depth = 8): unknown[] {
  const chain: unknown[] = [];
  for (let current = err; current !== undefined && current !== null && chain.length < depth;) {
    chain.push(current);
    current = isRecord(current) ? current['cause'] : undefined;
  }
  return chain;
}

/** The messages of the error and its causes, joined by ' | ': for pattern matching, never for display. */
export function chainText(err: unknown): string {
  return causeChain(err)
    .map((e) =>
      isRecord(e) && typeof e['message'] === 'string' ? e['message'] : isRecord(e) ? '' : String(e),
    )
    .filter(Boolean)
    .join(' | ');
}

/** The first Node-style error code (ECONNRESET, CERT_HAS_EXPIRED, ...) on the error or its causes. */
export function chainCode(err: unknown): string | undefined {
  for (const e of causeChain(err)) {
    const code = isRecord(e) ? e['code'] : undefined;
    if (typeof code === 'string' && /^[A-Z0-9_]{2,64}$/.test(code)) return code;
  }
  return undefined;
}

/** Certificate codes of a server the agent does not trust (expired, self-signed, unknown issuer, ...). */
const TLS_TRUST_CODES = [
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
];
/** A certificate for another host name than the one asked for. */
const TLS_HOST_CODES = ['ERR_TLS_CERT_ALTNAME_INVALID'];
const DNS_CODES = ['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME'];
const CONNECT_CODES = [
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
];
const PROXY_CODES = ['EPROXYAUTH', 'EPROXYREFUSED'];
const ALL_CODES = [...PROXY_CODES, ...DNS_CODES, ...TLS_TRUST_CODES, ...TLS_HOST_CODES, ...CONNECT_CODES];

/**
 * What went wrong on the way to a service:
 * - `proxy-auth`: the proxy asked for credentials, or refused the agent's (407);
 * - `proxy-refused`: the proxy refused the tunnel for another reason (502 for a host it cannot resolve, 403);
 * - `dns`: the host name does not resolve;
 * - `tls-trust`: the server's certificate is not trusted; `tls-host`: it is for another host name;
 * - `connect`: the connection was refused, reset or timed out.
 */
export type NetworkFailureKind =
  'proxy-auth' | 'proxy-refused' | 'dns' | 'tls-trust' | 'tls-host' | 'connect';

export interface NetworkFailure {
  kind: NetworkFailureKind;
  /** The error code found (EPROXYAUTH for a 407 seen only in a message). */
  code: string;
  /** The proxy's HTTP status, when the failure is the proxy's and the status is known. */
  proxyStatus?: number;
}

/** The first network error code found on the error, its causes, or their messages. */
export function networkErrorCode(err: unknown): string | undefined {
  for (const e of causeChain(err, 8)) {
    const code = isRecord(e) ? e['code'] : undefined;
    if (typeof code === 'string' && ALL_CODES.includes(code)) return code;
  }
  const text = chainText(err);
  // Our CONNECT tunnel (network.ts) says "(HTTP 407)"; undici's ProxyAgent "Proxy response (407) !== 200".
  if (/\(HTTP 407\)|Proxy response \(407\)/i.test(text)) return 'EPROXYAUTH';
  if (/refused the tunnel|Proxy response \(\d{3}\)/i.test(text)) return 'EPROXYREFUSED';
  return ALL_CODES.find((code) => new RegExp(`\\b${code}\\b`).test(text));
}

/** Classify a failed request's error; undefined when it is not a network failure (an HTTP answer, a bug). */
export function classifyNetworkError(err: unknown): NetworkFailure | undefined {
  const code = networkErrorCode(err);
  if (!code) return undefined;
  const status = /(?:HTTP |Proxy response \()(\d{3})\)/i.exec(chainText(err))?.[1];
  const proxyStatus = status ? { proxyStatus: Number(status) } : {};
  if (code === 'EPROXYAUTH') return { kind: 'proxy-auth', code, ...proxyStatus };
  if (code === 'EPROXYREFUSED') return { kind: 'proxy-refused', code, ...proxyStatus };
  if (DNS_CODES.includes(code)) return { kind: 'dns', code };
  if (TLS_TRUST_CODES.includes(code)) return { kind: 'tls-trust', code };
  if (TLS_HOST_CODES.includes(code)) return { kind: 'tls-host', code };
  return { kind: 'connect', code };
}

/**
 * True when a network failure cannot go away by retrying: the proxy asked for credentials (407), or the
 * TLS certificate is not trusted or is for another host. A caller that retries stops at once instead of
 * spending its time budget (and reporting a timeout instead of the cause).
 */
export function isPermanentNetworkFailure(err: unknown): boolean {
  const kind = classifyNetworkError(err)?.kind;
  return kind === 'proxy-auth' || kind === 'tls-trust' || kind === 'tls-host';
}

/**
 * A one-line cause for a failure to reach `service` (proxy refused, DNS, TLS trust, connection), the
 * agent setting at fault and what to do; undefined when the error is not a network failure. Never
 * includes proxy credentials.
 */
export function describeNetworkFailure(
  err: unknown,
  service: string,
): { message: string; subject: string; hint: string } | undefined {
  const failure = classifyNetworkError(err);
  if (!failure) return undefined;
  const { kind, code } = failure;
  if (kind === 'proxy-auth' || kind === 'proxy-refused') {
    // The SDKs rewrap socket errors keeping only message and code, so look for our message by its shape.
    let detail =
      kind === 'proxy-auth'
        ? 'The proxy requires authentication (HTTP 407).'
        : `The proxy refused the tunnel${failure.proxyStatus ? ` (HTTP ${failure.proxyStatus})` : ''}.`;
    for (const e of causeChain(err, 6)) {
      const message = e instanceof Error ? e.message : '';
      if (/^The proxy \S+ (requires authentication|refused the tunnel)[^\n]*\(HTTP \d{3}\)/.test(message)) {
        detail = message;
        break;
      }
    }
    return kind === 'proxy-auth'
      ? {
          message: `Cannot reach ${service}: ${detail}`,
          subject: 'Agent.ProxyUsername',
          hint: "Set the proxy user name and password in the agent's proxy configuration (config --proxyusername --proxypassword), or add the host to the agent's .proxybypass list.",
        }
      : {
          message: `Cannot reach ${service}: ${detail}`,
          subject: 'Agent.ProxyUrl',
          hint: "Ask the proxy's administrators to allow the host, or add it to the agent's .proxybypass list.",
        };
  }
  if (kind === 'dns') {
    return {
      message: `Cannot reach ${service}: the host name was not found (${code}).`,
      subject: service,
      hint: "Check the name, and that the agent's DNS (or its proxy) can resolve it.",
    };
  }
  if (kind === 'tls-trust' || kind === 'tls-host') {
    return {
      message:
        kind === 'tls-host'
          ? `Cannot reach ${service}: its TLS certificate is for another host name (${code}).`
          : `Cannot reach ${service}: its TLS certificate is not trusted (${code}).`,
      subject: 'Agent.CAInfo',
      hint: "If a proxy or firewall inspects TLS, give the agent its CA certificate (config --sslcacert, Agent.CAInfo); the task trusts it in addition to Node's bundled roots.",
    };
  }
  return {
    message: `Cannot reach ${service}: the connection failed (${code}).`,
    subject: service,
    hint: "Check the agent's network and proxy settings (Agent.ProxyUrl) and that the host allows the agent's address.",
  };
}
