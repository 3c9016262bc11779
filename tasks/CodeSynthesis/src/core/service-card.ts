/**
 * The fields of a service card, read from YAML: shared by a `service:` card and by each entry of a
 * stack card's `services:` list (core/stack-card.ts).
 */
import { isMap, isScalar, isSeq, type Node, type YAMLMap } from 'yaml';
import type { EnvSetting, ServiceCard, ServiceEndpoint } from './intent';
import { parseRoute } from './route';

/** How a card reader reports a problem: at the line of a YAML node, gathered with all the others. */
export interface CardProblems {
  fail(node: unknown, message: string): void;
  /** The line a YAML node starts on, to name it in another problem's message. */
  lineOf(node: unknown): number | undefined;
}

/** The fields a service card may have. */
export const CARD_FIELDS = [
  'name',
  'language',
  'framework',
  'description',
  'endpoint',
  'endpoints',
  'port',
  'dependencies',
  'env',
] as const;
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
/** A service name: lower-case letters, digits and '-', a DNS label (at most 63 characters). */
export const SERVICE_NAME = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** An environment variable name: UPPER_SNAKE_CASE. */
export const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

/**
 * Read and validate a service card's fields from a YAML mapping. Never throws: every problem goes
 * to `problems.fail` with the node at fault, and fields in error get a neutral value.
 * @param at how messages name the card, e.g. `service` (`'service.port' must be ...`) or
 *   `stack.services[1]`.
 */
export function readServiceCard(service: YAMLMap, at: string, problems: CardProblems): ServiceCard {
  const { fail } = problems;
  for (const pair of service.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    if (!(CARD_FIELDS as readonly string[]).includes(key))
      fail(pair.key, `unknown field '${key}' (known: ${CARD_FIELDS.join(', ')}).`);
  }
  const field = (key: string): Node | undefined => service.get(key, true) as Node | undefined;
  const str = (key: string, required: boolean): string => {
    const node = field(key);
    if (node === undefined || (isScalar(node) && (node.value === null || node.value === ''))) {
      if (required) fail(service, `'${at}.${key}' is required.`);
      return '';
    }
    if (!isScalar(node) || typeof node.value === 'object') {
      fail(node, `'${at}.${key}' must be text.`);
      return '';
    }
    return String(node.value).trim();
  };

  const name = str('name', true);
  if (name && !SERVICE_NAME.test(name))
    fail(
      field('name'),
      `'${at}.name' must be lower-case letters, digits and '-', starting with a letter and not ending with '-' (got '${name}').`,
    );
  const language = str('language', true).toLowerCase();
  const framework = str('framework', true).toLowerCase();
  const description = str('description', false);

  let port = 8080;
  const portNode = field('port');
  if (portNode !== undefined) {
    const value = isScalar(portNode) ? Number(portNode.value) : NaN;
    if (!Number.isInteger(value) || value < 1 || value > 65535)
      fail(portNode, `'${at}.port' must be a whole number from 1 to 65535.`);
    else port = value;
  }

  const endpoints: ServiceEndpoint[] = [];
  const addEndpoint = (node: unknown) => {
    let spec = '';
    let desc: string | undefined;
    let where = node;
    if (isScalar(node) && typeof node.value === 'string') spec = node.value;
    else if (isMap(node)) {
      const method = node.get('method');
      const path = node.get('path');
      const d = node.get('description');
      spec = `${typeof method === 'string' ? method : 'GET'} ${typeof path === 'string' ? path : ''}`;
      if (typeof d === 'string') desc = d;
      where = node.get('path', true) ?? node;
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
    for (const problem of pathProblems) fail(where, `endpoint '${path}': ${problem}`);
    if (pathProblems.length === 0)
      endpoints.push({ method, path, segments, ...(desc ? { description: desc } : {}) });
  };
  const one = field('endpoint');
  if (one !== undefined) addEndpoint(one);
  const many = field('endpoints');
  if (many !== undefined) {
    if (isSeq(many)) many.items.forEach(addEndpoint);
    else fail(many, `'${at}.endpoints' must be a list.`);
  }

  const dependencies: string[] = [];
  const deps = field('dependencies');
  if (deps !== undefined) {
    if (!isSeq(deps)) fail(deps, `'${at}.dependencies' must be a list of package names.`);
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
    if (!isSeq(envNode)) fail(envNode, `'${at}.env' must be a list of {name, description, default, secret}.`);
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

  return { name, language, framework, description, port, endpoints, dependencies, env };
}
