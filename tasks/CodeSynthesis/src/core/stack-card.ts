/**
 * A stack card's fields, read from YAML (README "Stack card"): several services, each written as a
 * service card's body, and what they share: the Kubernetes namespace, a gateway routing path
 * prefixes to services, environment values per service, and which service calls which.
 */
import { isMap, isScalar, isSeq, type Node, type YAMLMap } from 'yaml';
import type { ServiceCard, StackCall, StackCard, StackEnv, StackGateway, StackRoute } from './intent';
import { ENV_NAME, readServiceCard, SERVICE_NAME, type CardProblems } from './service-card';

const STACK_FIELDS = ['name', 'description', 'services', 'shared'];
const SHARED_FIELDS = ['namespace', 'gateway', 'env', 'calls'];
const GATEWAY_FIELDS = ['host', 'className', 'tlsSecret', 'routes'];
const ROUTE_FIELDS = ['path', 'service'];
const CALL_FIELDS = ['from', 'to'];

/** Names the stack's own files use at its top level, which no service may take as its folder. */
export const RESERVED_SERVICE_NAMES: readonly string[] = ['k8s'];

/** A Kubernetes namespace: an RFC 1123 label. */
export const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const LABEL = '[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?';
/** An Ingress host: lower-case DNS labels, optionally after '*.', at most 253 characters. */
export const INGRESS_HOST = new RegExp(`^(?=.{1,253}$)(\\*\\.)?${LABEL}(\\.${LABEL})*$`);
/** A Kubernetes object name (IngressClass, Secret): an RFC 1123 subdomain. */
export const OBJECT_NAME = new RegExp(`^(?=.{1,253}$)${LABEL}(\\.${LABEL})*$`);
/** A gateway path prefix: '/' or '/a/b', unreserved characters, no empty, '.' or '..' segment. */
export const ROUTE_PATH =
  /^\/(?:(?!\.\.?(?:\/|$))[A-Za-z0-9._~-]+(?:\/(?!\.\.?(?:\/|$))[A-Za-z0-9._~-]+)*)?$/;

/** The variable through which a caller reads the URL of the service it calls: `inventory` -> `INVENTORY_URL`. */
export function callEnvName(to: string): string {
  return `${to.toUpperCase().replace(/-/g, '_')}_URL`;
}

/**
 * True when an Ingress `Prefix` path sends `path` to its backend: the prefix matches whole segments
 * (`/orders` takes `/orders` and `/orders/42`, not `/orders-old`).
 */
export function underPrefix(path: string, prefix: string): boolean {
  return prefix === '/' || path === prefix || path.startsWith(`${prefix}/`);
}

/**
 * Read and validate a stack card's fields from the YAML mapping under `stack`. Never throws: every
 * problem goes to `problems.fail` with the node at fault (a name used twice, or a route, call or
 * environment value naming a service the stack does not have, names the line of both).
 */
export function readStackCard(stack: YAMLMap, problems: CardProblems): StackCard {
  const { fail, lineOf } = problems;
  unknownFields(stack, STACK_FIELDS, 'stack', problems);
  const name = text(stack, 'name', 'stack', problems, true);
  if (name.value && !SERVICE_NAME.test(name.value))
    fail(
      name.node,
      `'stack.name' must be lower-case letters, digits and '-', starting with a letter and not ending with '-' (got '${name.value}').`,
    );
  const description = text(stack, 'description', 'stack', problems, false).value;

  const services: ServiceCard[] = [];
  /** Each service's name node, by its name in lower case. */
  const where = new Map<string, unknown>();
  /** The ports services give explicitly, and the node of each. */
  const ports = new Map<number, { service: string; node: unknown }>();
  const servicesNode = stack.get('services', true) as Node | undefined;
  if (servicesNode === undefined) fail(stack, "'stack.services' is required.");
  else if (!isSeq(servicesNode) || servicesNode.items.length === 0)
    fail(servicesNode, "'stack.services' must be a list of one or more services (each like a service card).");
  else
    servicesNode.items.forEach((item, i) => {
      const at = `stack.services[${i}]`;
      const wrapped = isMap(item) && item.items.length === 1 && item.has('service');
      const body = wrapped ? item.get('service', true) : item;
      if (!isMap(body)) {
        fail(
          body ?? item,
          `'${at}' must be a mapping of service card fields (name, language, framework, ...).`,
        );
        return;
      }
      const card = readServiceCard(body, at, problems);
      services.push(card);
      const nameNode = body.get('name', true) ?? body;
      const key = card.name.toLowerCase();
      if (!key) return;
      if (where.has(key))
        fail(
          nameNode,
          `service name '${card.name}' is used twice (also on line ${lineOf(where.get(key))}): names become folder names and DNS labels, so they must differ, also in letter case.`,
        );
      else if (RESERVED_SERVICE_NAMES.includes(key))
        fail(
          nameNode,
          `'${card.name}' is the folder of the stack's Kubernetes files: name the service otherwise.`,
        );
      else where.set(key, nameNode);
      const portNode = body.get('port', true);
      if (!isScalar(portNode) || Number(portNode.value) !== card.port) return;
      const other = ports.get(card.port);
      if (other)
        fail(
          portNode,
          `service '${card.name}' gives port ${card.port}, as '${other.service}' does (line ${lineOf(other.node)}): give each service its own port, or leave 'port' out.`,
        );
      else ports.set(card.port, { service: card.name, node: portNode });
    });

  const known = (node: unknown, service: string, role: string): boolean => {
    if (where.has(service) && services.some((s) => s.name === service)) return true;
    const names = [...where.keys()];
    fail(
      node,
      `${role} names service '${service}', which the stack does not have (services: ${names.join(', ')}).`,
    );
    return false;
  };

  const shared = stack.get('shared', true) as Node | undefined;
  let namespace = name.value;
  let gateway: StackGateway | undefined;
  const env: StackEnv[] = [];
  const calls: StackCall[] = [];
  if (shared !== undefined && !isMap(shared))
    fail(shared, "'stack.shared' must be a mapping (namespace, gateway, env, calls).");
  if (isMap(shared)) {
    unknownFields(shared, SHARED_FIELDS, 'stack.shared', problems);
    const ns = text(shared, 'namespace', 'stack.shared', problems, false);
    if (ns.value && !NAMESPACE.test(ns.value))
      fail(
        ns.node,
        `'stack.shared.namespace' must be a Kubernetes namespace: lower-case letters, digits and '-', at most 63 (got '${ns.value}').`,
      );
    else if (ns.value) namespace = ns.value;

    const callsNode = shared.get('calls', true) as Node | undefined;
    if (callsNode !== undefined && !isSeq(callsNode))
      fail(callsNode, "'stack.shared.calls' must be a list of {from, to}.");
    if (isSeq(callsNode))
      for (const item of callsNode.items) {
        if (!isMap(item)) {
          fail(item, 'each call must be {from: <service>, to: <service>}.');
          continue;
        }
        unknownFields(item, CALL_FIELDS, 'a call', problems);
        const from = text(item, 'from', 'call', problems, true);
        const to = text(item, 'to', 'call', problems, true);
        if (!from.value || !to.value) continue;
        const ok =
          known(from.node, from.value, "the call's 'from'") && known(to.node, to.value, "the call's 'to'");
        if (!ok) continue;
        if (from.value === to.value) fail(item, `service '${from.value}' cannot call itself.`);
        else if (calls.some((c) => c.from === from.value && c.to === to.value))
          fail(item, `the call from '${from.value}' to '${to.value}' is listed twice.`);
        else {
          calls.push({ from: from.value, to: to.value });
          const declared = services
            .find((s) => s.name === from.value)
            ?.env.find((e) => e.name === callEnvName(to.value));
          if (declared?.secret)
            fail(
              item,
              `service '${from.value}' declares '${declared.name}' as a secret, but its call to '${to.value}' sets it to the URL of '${to.value}': make it a plain env entry, or remove it.`,
            );
        }
      }

    const gatewayNode = shared.get('gateway', true) as Node | undefined;
    if (gatewayNode !== undefined) gateway = readGateway(gatewayNode, services, problems, known);

    const envNode = shared.get('env', true) as Node | undefined;
    if (envNode !== undefined && !isMap(envNode))
      fail(envNode, "'stack.shared.env' must map service names to {VARIABLE: value}.");
    if (isMap(envNode))
      for (const pair of envNode.items) {
        const service = isScalar(pair.key) ? String(pair.key.value) : '';
        if (!known(pair.key, service, "'stack.shared.env'")) continue;
        if (!isMap(pair.value)) {
          fail(pair.value ?? pair.key, `'stack.shared.env.${service}' must map variable names to values.`);
          continue;
        }
        const card = services.find((s) => s.name === service)!;
        for (const setting of pair.value.items) {
          const variable = isScalar(setting.key) ? String(setting.key.value) : '';
          const value = setting.value;
          const declared = card.env.find((e) => e.name === variable);
          const called = calls.find((c) => c.from === service && callEnvName(c.to) === variable);
          if (!ENV_NAME.test(variable))
            fail(setting.key, `'stack.shared.env.${service}': '${variable}' must be UPPER_SNAKE_CASE.`);
          else if (variable === 'PORT')
            fail(setting.key, `'stack.shared.env.${service}.PORT': set the service's 'port' instead.`);
          else if (declared?.secret)
            fail(
              setting.key,
              `'stack.shared.env.${service}.${variable}' is a secret of '${service}': secrets never get a value in a card; they come from the environment or a Kubernetes Secret.`,
            );
          else if (called)
            fail(
              setting.key,
              `'stack.shared.env.${service}.${variable}' is set by the call from '${service}' to '${called.to}': remove it here.`,
            );
          else if (!isScalar(value) || value.value === null || typeof value.value === 'object')
            fail(
              value ?? setting.key,
              `'stack.shared.env.${service}.${variable}' must be a text, number or true/false value.`,
            );
          else env.push({ service, name: variable, value: String(value.value) });
        }
      }
  }

  return {
    name: name.value,
    description,
    services,
    shared: { namespace, ...(gateway ? { gateway } : {}), env, calls },
  };
}

function readGateway(
  node: Node,
  services: readonly ServiceCard[],
  problems: CardProblems,
  known: (node: unknown, service: string, role: string) => boolean,
): StackGateway | undefined {
  const { fail, lineOf } = problems;
  if (!isMap(node)) {
    fail(node, "'stack.shared.gateway' must be a mapping (host, className, tlsSecret, routes).");
    return undefined;
  }
  unknownFields(node, GATEWAY_FIELDS, 'stack.shared.gateway', problems);
  const at = 'stack.shared.gateway';
  const host = text(node, 'host', at, problems, false);
  if (host.value && !INGRESS_HOST.test(host.value))
    fail(
      host.node,
      `'${at}.host' must be a lower-case DNS name such as shop.example.com or *.example.com (got '${host.value}').`,
    );
  const className = text(node, 'className', at, problems, false);
  if (className.value && !OBJECT_NAME.test(className.value))
    fail(
      className.node,
      `'${at}.className' must be the name of an IngressClass, such as nginx (got '${className.value}').`,
    );
  const tlsSecret = text(node, 'tlsSecret', at, problems, false);
  if (tlsSecret.value && !OBJECT_NAME.test(tlsSecret.value))
    fail(tlsSecret.node, `'${at}.tlsSecret' must be the name of a Secret (got '${tlsSecret.value}').`);
  if (tlsSecret.value && !host.value)
    fail(tlsSecret.node, `'${at}.tlsSecret' needs '${at}.host': a certificate is for a host name.`);

  const routes: StackRoute[] = [];
  const routesNode = node.get('routes', true) as Node | undefined;
  const seen = new Map<string, unknown>();
  if (!isSeq(routesNode) || routesNode.items.length === 0)
    fail(routesNode ?? node, `'${at}.routes' must be a list of one or more {path, service}.`);
  else
    for (const item of routesNode.items) {
      if (!isMap(item)) {
        fail(item, 'each route must be {path: /prefix, service: <service>}.');
        continue;
      }
      unknownFields(item, ROUTE_FIELDS, 'a route', problems);
      const path = text(item, 'path', 'route', problems, true);
      const service = text(item, 'service', 'route', problems, true);
      if (path.value && !ROUTE_PATH.test(path.value)) {
        fail(
          path.node,
          `route path '${path.value}' must be '/' or a prefix such as /orders or /api/v1: letters, digits, '-', '.', '_', '~' between single '/', no '/' at the end.`,
        );
        continue;
      }
      if (path.value && seen.has(path.value)) {
        fail(
          path.node,
          `route path '${path.value}' is listed twice (also on line ${lineOf(seen.get(path.value))}).`,
        );
        continue;
      }
      if (path.value) seen.set(path.value, path.node);
      if (!path.value || !service.value || !known(service.node, service.value, `route '${path.value}'`))
        continue;
      const card = services.find((s) => s.name === service.value)!;
      if (card.endpoints.length > 0 && !card.endpoints.some((e) => underPrefix(e.path, path.value)))
        fail(
          path.node,
          `route '${path.value}' leads to '${service.value}', none of whose endpoints (${card.endpoints.map((e) => e.path).join(', ')}) is under it: the gateway passes the path unchanged, so route a prefix the service serves.`,
        );
      routes.push({ path: path.value, service: service.value });
    }
  return {
    ...(host.value ? { host: host.value } : {}),
    ...(className.value ? { className: className.value } : {}),
    ...(tlsSecret.value ? { tlsSecret: tlsSecret.value } : {}),
    routes,
  };
}

function unknownFields(map: YAMLMap, fields: readonly string[], at: string, problems: CardProblems): void {
  for (const pair of map.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    if (!fields.includes(key))
      problems.fail(pair.key, `unknown field '${key}' in ${at} (known: ${fields.join(', ')}).`);
  }
}

/** A text field: trimmed, '' when absent (a problem when required) or not text. */
function text(
  map: YAMLMap,
  key: string,
  at: string,
  problems: CardProblems,
  required: boolean,
): { value: string; node?: Node } {
  const node = map.get(key, true) as Node | undefined;
  if (node === undefined || (isScalar(node) && (node.value === null || node.value === ''))) {
    if (required) problems.fail(node ?? map, `'${at}.${key}' is required.`);
    return { value: '' };
  }
  if (!isScalar(node) || typeof node.value === 'object') {
    problems.fail(node, `'${at}.${key}' must be text.`);
    return { value: '', node };
  }
  return { value: String(node.value).trim(), node };
}
