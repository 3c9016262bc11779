/**
 * Errors from the SDKs wrap their causes (fetch failed -> cause -> socket error). These read the chain,
 * for the adapters that turn such errors into messages.
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
