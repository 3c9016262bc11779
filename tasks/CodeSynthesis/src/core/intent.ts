/**
 * The intent: a YAML service card (documented in README "Service card") or free text.
 */
import { LineCounter, parseDocument, isMap, isSeq, isScalar, type Node } from 'yaml';
import { bulletList, IntentError } from './errors';
import { parseRoute, type RouteSegment } from './route';

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

export type Intent = { kind: 'card'; card: ServiceCard; text: string } | { kind: 'text'; text: string };

const CARD_FIELDS = [
  'name',
  'language',
  'framework',
  'description',
  'endpoint',
  'endpoints',
  'port',
  'dependencies',
  'env',
];
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const NAME = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
const CARD_HINT = 'See "Service card" in the README for the fields and their format.';

/**
 * Parse intent text. Text whose YAML has a top-level `service` key is a service card and is validated;
 * anything else is free text, passed through.
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
  const looksLikeCard = /^service\s*:/m.test(trimmed);
  if (doc.errors.length > 0) {
    if (!looksLikeCard) return { kind: 'text', text: trimmed };
    const first = doc.errors[0]!;
    const line = first.linePos?.[0]?.line;
    throw new IntentError(`the service card is not valid YAML (${first.code}).`, CARD_HINT, line);
  }
  const root = doc.contents;
  if (!isMap(root) || !root.has('service')) {
    if (looksLikeCard) throw new IntentError("'service' must be a mapping at the top level.", CARD_HINT, 1);
    return { kind: 'text', text: trimmed };
  }
  const service = root.get('service', true) as Node | undefined;
  const lineOf = (node: unknown): number | undefined => {
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    return range ? lines.linePos(range[0]).line : undefined;
  };
  if (!isMap(service))
    throw new IntentError("'service' must be a mapping of fields.", CARD_HINT, lineOf(service) ?? 1);

  const problems: string[] = [];
  const fail = (node: unknown, message: string) => {
    const line = lineOf(node);
    problems.push(line ? `line ${line}: ${message}` : message);
  };
  for (const pair of service.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    if (!CARD_FIELDS.includes(key))
      fail(pair.key, `unknown field '${key}' (known: ${CARD_FIELDS.join(', ')}).`);
  }
  const field = (key: string): Node | undefined => service.get(key, true) as Node | undefined;
  const str = (key: string, required: boolean): string => {
    const node = field(key);
    if (node === undefined || (isScalar(node) && (node.value === null || node.value === ''))) {
      if (required) fail(service, `'service.${key}' is required.`);
      return '';
    }
    if (!isScalar(node) || typeof node.value === 'object') {
      fail(node, `'service.${key}' must be text.`);
      return '';
    }
    return String(node.value).trim();
  };

  const name = str('name', true);
  if (name && !NAME.test(name))
    fail(
      field('name'),
      `'service.name' must be lower-case letters, digits and '-', starting with a letter and not ending with '-' (got '${name}').`,
    );
  const language = str('language', true).toLowerCase();
  const framework = str('framework', true).toLowerCase();
  const description = str('description', false);

  let port = 8080;
  const portNode = field('port');
  if (portNode !== undefined) {
    const value = isScalar(portNode) ? Number(portNode.value) : NaN;
    if (!Number.isInteger(value) || value < 1 || value > 65535)
      fail(portNode, "'service.port' must be a whole number from 1 to 65535.");
    else port = value;
  }

  const endpoints: ServiceEndpoint[] = [];
  const addEndpoint = (node: unknown) => {
    let spec = '';
    let desc: string | undefined;
    let at = node;
    if (isScalar(node) && typeof node.value === 'string') spec = node.value;
    else if (isMap(node)) {
      const method = node.get('method');
      const path = node.get('path');
      const d = node.get('description');
      spec = `${typeof method === 'string' ? method : 'GET'} ${typeof path === 'string' ? path : ''}`;
      if (typeof d === 'string') desc = d;
      at = node.get('path', true) ?? node;
    } else {
      fail(node, "an endpoint must be a path ('/weather'), 'METHOD /path', or {method, path, description}.");
      return;
    }
    const match = /^\s*(?:([A-Za-z]+)\s+)?(\/\S*)\s*$/.exec(spec);
    const method = (match?.[1] ?? 'GET').toUpperCase();
    if (!match || !METHODS.includes(method)) {
      fail(
        node,
        `endpoint '${spec.trim()}' must be '/path' or 'METHOD /path' with METHOD one of ${METHODS.join(', ')}.`,
      );
      return;
    }
    const path = match[2]!;
    const { segments, problems: pathProblems } = parseRoute(path);
    for (const problem of pathProblems) fail(at, `endpoint '${path}': ${problem}`);
    if (pathProblems.length === 0)
      endpoints.push({ method, path, segments, ...(desc ? { description: desc } : {}) });
  };
  const one = field('endpoint');
  if (one !== undefined) addEndpoint(one);
  const many = field('endpoints');
  if (many !== undefined) {
    if (isSeq(many)) many.items.forEach(addEndpoint);
    else fail(many, "'service.endpoints' must be a list.");
  }

  const dependencies: string[] = [];
  const deps = field('dependencies');
  if (deps !== undefined) {
    if (!isSeq(deps)) fail(deps, "'service.dependencies' must be a list of package names.");
    else
      for (const item of deps.items) {
        if (
          isScalar(item) &&
          typeof item.value === 'string' &&
          /^[@A-Za-z0-9][\w.\-/@=<>~^ ]*$/.test(item.value)
        )
          dependencies.push(item.value.trim());
        else fail(item, 'each dependency must be a package name (optionally with a version).');
      }
  }

  const env: EnvSetting[] = [];
  const envNode = field('env');
  if (envNode !== undefined) {
    if (!isSeq(envNode))
      fail(envNode, "'service.env' must be a list of {name, description, default, secret}.");
    else
      for (const item of envNode.items) {
        const entry = isScalar(item) ? { name: item.value } : isMap(item) ? item.toJSON() : undefined;
        const envName = typeof entry?.name === 'string' ? entry.name : '';
        if (!ENV_NAME.test(envName)) {
          fail(item, `each env entry needs a 'name' in UPPER_SNAKE_CASE (got '${envName}').`);
          continue;
        }
        const secret = entry.secret === true;
        if (secret && entry.default !== undefined)
          fail(item, `env '${envName}' is secret and must not have a default.`);
        env.push({
          name: envName,
          secret,
          ...(typeof entry.description === 'string' ? { description: entry.description } : {}),
          ...(entry.default !== undefined && !secret ? { default: String(entry.default) } : {}),
        });
      }
  }

  if (problems.length > 0) {
    throw new IntentError(
      `the service card has ${problems.length} problem(s):${bulletList(problems)}`,
      CARD_HINT,
    );
  }
  return {
    kind: 'card',
    text: trimmed,
    card: { name, language, framework, description, port, endpoints, dependencies, env },
  };
}
