/**
 * The intent: a YAML service card (README "Service card"), a stack card (README "Stack card") or
 * free text.
 */
import { LineCounter, parseDocument, isMap, type Node } from 'yaml';
import { bulletList, IntentError } from './errors';
import type { RouteSegment } from './route';
import { readServiceCard } from './service-card';
import { readStackCard } from './stack-card';

export interface ServiceEndpoint {
  method: string;
  /** The path as the card wrote it, in whichever parameter style (see core/route.ts). */
  path: string;
  /** The path parsed: literals and typed parameters, for the templates to render. */
  segments: RouteSegment[];
  description?: string;
}

export interface EnvSetting {
  name: string;
  description?: string;
  default?: string;
  /** A secret is read from the environment and never given a default. */
  secret: boolean;
}

/** A validated service card. */
export interface ServiceCard {
  name: string;
  language: string;
  framework: string;
  description: string;
  port: number;
  endpoints: ServiceEndpoint[];
  dependencies: string[];
  env: EnvSetting[];
}

/** A gateway route: requests whose path starts with `path` (whole segments) go to `service`, path unchanged. */
export interface StackRoute {
  path: string;
  service: string;
}

/** The stack's entry point: a Kubernetes Ingress routing path prefixes to services. */
export interface StackGateway {
  /** The host name the Ingress answers; every host when absent. */
  host?: string;
  /** The Ingress's `ingressClassName`; the cluster's default class when absent. */
  className?: string;
  /** A Secret of type kubernetes.io/tls in the stack's namespace, for HTTPS on `host`. */
  tlsSecret?: string;
  routes: StackRoute[];
}

/** `from` calls `to`: `from` gets the URL of `to` in the variable `<TO>_URL` (see callEnvName). */
export interface StackCall {
  from: string;
  to: string;
}

/** A value this stack gives a service's (non-secret) environment variable. */
export interface StackEnv {
  service: string;
  name: string;
  value: string;
}

/** A validated stack card: several services and what they share. */
export interface StackCard {
  name: string;
  description: string;
  /** Each as a service card would give it; names unique, none of them `k8s`. */
  services: ServiceCard[];
  shared: {
    /** The Kubernetes namespace; the stack's name unless the card gives one. */
    namespace: string;
    gateway?: StackGateway;
    env: StackEnv[];
    calls: StackCall[];
  };
}

export type Intent =
  | { kind: 'card'; card: ServiceCard; text: string }
  | { kind: 'stack'; stack: StackCard; text: string }
  | { kind: 'text'; text: string };

const CARD_HINT = 'See "Service card" in the README for the fields and their format.';
const STACK_HINT = 'See "Stack card" in the README for the fields and their format.';

/**
 * Parse intent text. Text whose YAML has a top-level `service` key is a service card, one with a
 * top-level `stack` key a stack card; both are validated. Anything else is free text, passed through.
 * @throws IntentError for empty text, broken YAML that starts like a card, or card fields that fail
 *   validation (all problems together, each with its line).
 */
export function parseIntent(text: string): Intent {
  const trimmed = text.replace(/^\uFEFF/, '').trim();
  if (!trimmed)
    throw new IntentError(
      'the intent is empty.',
      'Describe the service to generate, as a YAML service card or free text.',
    );
  const lines = new LineCounter();
  const doc = parseDocument(trimmed, { lineCounter: lines, uniqueKeys: true });
  const looksLike = /^(service|stack)\s*:/m.exec(trimmed)?.[1];
  const hint = looksLike === 'stack' ? STACK_HINT : CARD_HINT;
  if (doc.errors.length > 0) {
    if (!looksLike) return { kind: 'text', text: trimmed };
    const first = doc.errors[0]!;
    const line = first.linePos?.[0]?.line;
    throw new IntentError(`the ${looksLike} card is not valid YAML (${first.code}).`, hint, line);
  }
  const root = doc.contents;
  const kind = !isMap(root)
    ? undefined
    : root.has('stack')
      ? 'stack'
      : root.has('service')
        ? 'service'
        : undefined;
  if (!isMap(root) || !kind) {
    if (looksLike) throw new IntentError(`'${looksLike}' must be a mapping at the top level.`, hint, 1);
    return { kind: 'text', text: trimmed };
  }
  const lineOf = (node: unknown): number | undefined => {
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    return range ? lines.linePos(range[0]).line : undefined;
  };
  if (kind === 'stack' && root.has('service'))
    throw new IntentError(
      "a card is either a 'service' or a 'stack', not both.",
      "Move the service into the stack's 'services' list.",
      1,
    );
  const body = root.get(kind, true) as Node | undefined;
  const cardHint = kind === 'stack' ? STACK_HINT : CARD_HINT;
  if (!isMap(body))
    throw new IntentError(`'${kind}' must be a mapping of fields.`, cardHint, lineOf(body) ?? 1);

  const found: { line?: number; message: string }[] = [];
  const reader = {
    fail: (node: unknown, message: string) => found.push({ line: lineOf(node), message }),
    lineOf,
  };
  const parsed =
    kind === 'stack'
      ? ({ kind: 'stack', stack: readStackCard(body, reader), text: trimmed } as const)
      : ({ kind: 'card', card: readServiceCard(body, 'service', reader), text: trimmed } as const);
  // A stack's cross-references are checked after its services: list the problems in line order.
  if (kind === 'stack')
    found.sort((a, b) => (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER));
  const problems = found.map(({ line, message }) => (line ? `line ${line}: ${message}` : message));
  if (problems.length > 0)
    throw new IntentError(
      `the ${kind} card has ${problems.length} problem(s):${bulletList(problems)}`,
      cardHint,
    );
  return parsed;
}

/** One line naming the intent for the log: the service card's name, language and framework, the stack card's services, or free text. */
export function describeIntent(intent: Intent): string {
  switch (intent.kind) {
    case 'card':
      return `service card '${intent.card.name}' (${intent.card.language}/${intent.card.framework})`;
    case 'stack':
      return `stack card '${intent.stack.name}' (${intent.stack.services
        .map((s) => `${s.name} ${s.language}/${s.framework}`)
        .join(', ')})`;
    case 'text':
      return 'free text';
  }
}
