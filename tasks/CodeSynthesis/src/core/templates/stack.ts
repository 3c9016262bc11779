/**
 * A stack card rendered offline: each service by its own template into `<stack>/<service>/`, exactly
 * as its service card would render (plus the environment the stack gives it), and the stack's own
 * files beside them: docker-compose.yml, kustomization.yaml with k8s/namespace.yaml and
 * k8s/ingress.yaml, and a README with the map of services. Pure and deterministic.
 *
 * Layout, relative to the output directory:
 *
 *     shop/                      the stack's folder, named after it
 *       README.md                the map of services: a table and a mermaid diagram of the calls
 *       docker-compose.yml       every service built from its folder, published on 127.0.0.1
 *       kustomization.yaml       `kubectl apply -k shop/`: the namespace, each service's k8s/*.yaml, the ingress
 *       k8s/namespace.yaml, k8s/ingress.yaml
 *       weather/ orders/ ...     one folder per service, as a service card renders it
 *
 * The kustomization sits at the stack's top so that every resource it lists lies inside its own
 * folder tree: kustomize refuses files outside the kustomization root (unless run with
 * `--load-restrictor LoadRestrictionsNone`), and the services' manifests are not copied.
 */
import { bulletList, IntentError } from '../errors';
import type { EnvSetting, ServiceCard, StackCard } from '../intent';
import type { FileToWrite } from '../ports';
import { ENV_NAME, SERVICE_NAME } from '../service-card';
import {
  callEnvName,
  INGRESS_HOST,
  NAMESPACE,
  OBJECT_NAME,
  RESERVED_SERVICE_NAMES,
  ROUTE_PATH,
} from '../stack-card';
import { envOf, markdownText, quote, resourceName } from './common';
import { findTemplate, renderService, SUPPORTED_TEMPLATES } from './index';

/** The stack's own files, relative to its folder. */
export const STACK_FILES = {
  readme: 'README.md',
  compose: 'docker-compose.yml',
  kustomization: 'kustomization.yaml',
  namespace: 'k8s/namespace.yaml',
  ingress: 'k8s/ingress.yaml',
} as const;

const STACK_HINT = 'See "Stack card" in the README for the fields and their format.';

/**
 * Render a stack card: every service's files under `<stack>/<service>/`, then the stack's own files
 * under `<stack>/` (the ingress only when the card has a gateway).
 * @throws IntentError listing every service whose (language, framework) has no offline template,
 *   or every problem of a stack card that parseIntent did not validate; or what renderService
 *   throws for a service.
 */
export function renderStack(stack: StackCard): FileToWrite[] {
  checkStack(stack);
  const cards = stack.services.map((card) => stackServiceCard(stack, card));
  const rendered = cards.flatMap(renderService);
  // Each service's Kubernetes files, `<service>/k8s/*.yaml`, as its template writes them.
  const manifests = rendered.map((f) => f.path).filter((p) => /^[^/]+\/k8s\/[^/]+\.yaml$/.test(p));
  const own: FileToWrite[] = [
    { path: STACK_FILES.readme, content: readme(stack, cards) },
    { path: STACK_FILES.compose, content: composeFile(stack, cards) },
    { path: STACK_FILES.kustomization, content: kustomization(stack, manifests) },
    { path: STACK_FILES.namespace, content: namespaceManifest(stack) },
    ...(stack.shared.gateway ? [{ path: STACK_FILES.ingress, content: ingressManifest(stack) }] : []),
  ];
  return [...rendered, ...own].map((f) => ({ path: `${stack.name}/${f.path}`, content: f.content }));
}

/**
 * A service's card as the stack renders it: its own card, plus `<TO>_URL` (the Kubernetes URL of
 * each service it calls, `http://<to>`) and the values `shared.env` gives it, as env defaults.
 */
export function stackServiceCard(stack: StackCard, card: ServiceCard): ServiceCard {
  const env: EnvSetting[] = card.env.map((e) => ({ ...e }));
  const set = (name: string, value: string, description: string) => {
    const declared = env.find((e) => e.name === name);
    if (declared) declared.default = value;
    else env.push({ name, description, default: value, secret: false });
  };
  for (const call of stack.shared.calls.filter((c) => c.from === card.name))
    set(
      callEnvName(call.to),
      `http://${call.to}`,
      `URL of the '${call.to}' service (set by the stack '${stack.name}').`,
    );
  for (const e of stack.shared.env.filter((x) => x.service === card.name))
    set(e.name, e.value, `Set by the stack '${stack.name}'.`);
  return { ...card, env };
}

/**
 * Ports on 127.0.0.1 for docker compose: each service's own port, unless an earlier service took it;
 * then the next port no service uses.
 */
export function hostPorts(cards: readonly ServiceCard[]): Map<string, number> {
  const used = new Set(cards.map((c) => c.port));
  const out = new Map<string, number>();
  for (const card of cards) {
    let port = card.port;
    while ([...out.values()].includes(port) || (port !== card.port && used.has(port)))
      port = port >= 65535 ? 1024 : port + 1;
    out.set(card.name, port);
  }
  return out;
}

/**
 * The services `from` waits for in docker compose: those it calls, except where the calls go round
 * in a circle back to `from` (compose refuses a cycle of depends_on).
 */
export function dependsOn(stack: StackCard, from: string): string[] {
  const reaches = (start: string, goal: string): boolean => {
    const seen = new Set<string>();
    const queue = [start];
    while (queue.length) {
      const at = queue.shift()!;
      if (at === goal) return true;
      if (seen.has(at)) continue;
      seen.add(at);
      queue.push(...stack.shared.calls.filter((c) => c.from === at).map((c) => c.to));
    }
    return false;
  };
  return stack.shared.calls
    .filter((c) => c.from === from && !reaches(c.to, from))
    .map((c) => c.to)
    .sort();
}

/** The canonical `language/framework` of a card's template, e.g. `go/net-http` for golang/net/http. */
function stackOf(card: ServiceCard): string {
  const t = findTemplate(card.language, card.framework);
  return t ? `${t.language}/${t.framework}` : `${card.language}/${card.framework}`;
}

function composeFile(stack: StackCard, cards: readonly ServiceCard[]): string {
  const q = (s: string) => quote(s, 'yaml');
  const ports = hostPorts(cards);
  const byName = new Map(cards.map((c) => [c.name, c]));
  const lines = [
    `# The stack '${stack.name}' on one machine: docker compose up --build`,
    `# Each service is built from its folder and published on 127.0.0.1 only. Secrets come from your`,
    `# shell's environment (export them first); no value of theirs is stored here.`,
    `name: ${q(stack.name)}`,
    `services:`,
  ];
  for (const card of [...cards].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const calls = new Map(
      stack.shared.calls.filter((c) => c.from === card.name).map((c) => [callEnvName(c.to), c.to]),
    );
    const deps = dependsOn(stack, card.name);
    lines.push(`  ${card.name}:`, `    build:`, `      context: ${q(`./${card.name}`)}`);
    if (deps.length) lines.push(`    depends_on:`, ...deps.map((d) => `      - ${d}`));
    lines.push(`    environment:`, `      PORT: ${q(String(card.port))}`);
    for (const e of envOf(card)) {
      const to = calls.get(e.name);
      const target = to === undefined ? undefined : byName.get(to);
      if (target) lines.push(`      ${e.name}: ${q(`http://${target.name}:${target.port}`)}`);
      else if (e.secret) lines.push(`      ${e.name}: # secret: from your shell's environment`);
      else lines.push(`      ${e.name}: ${q(e.default ?? '')}`);
    }
    lines.push(
      `    ports:`,
      // Single quotes, as the compose linter dclint asks (require-quotes-in-ports); digits and ':' only.
      `      - '127.0.0.1:${ports.get(card.name)}:${card.port}'`,
      `    cap_drop:`,
      `      - ALL`,
      `    read_only: true`,
      `    security_opt:`,
      `      - ${q('no-new-privileges:true')}`,
      `    tmpfs:`,
      `      - /tmp`,
    );
  }
  return lines.join('\n') + '\n';
}

function kustomization(stack: StackCard, manifests: readonly string[]): string {
  return [
    `# The stack '${stack.name}' on Kubernetes: kubectl apply -k . (from this folder)`,
    `apiVersion: kustomize.config.k8s.io/v1beta1`,
    `kind: Kustomization`,
    `namespace: ${quote(stack.shared.namespace, 'yaml')}`,
    `resources:`,
    `  - ${STACK_FILES.namespace}`,
    ...manifests.map((m) => `  - ${m}`),
    ...(stack.shared.gateway ? [`  - ${STACK_FILES.ingress}`] : []),
    ``,
  ].join('\n');
}

function namespaceManifest(stack: StackCard): string {
  const q = (s: string) => quote(s, 'yaml');
  return [
    `apiVersion: v1`,
    `kind: Namespace`,
    `metadata:`,
    `  name: ${q(stack.shared.namespace)}`,
    `  labels:`,
    `    app.kubernetes.io/part-of: ${q(stack.name)}`,
    `    # Every Deployment of the stack meets the 'restricted' Pod Security Standard.`,
    `    pod-security.kubernetes.io/enforce: restricted`,
    ``,
  ].join('\n');
}

function ingressManifest(stack: StackCard): string {
  const q = (s: string) => quote(s, 'yaml');
  const gateway = stack.shared.gateway!;
  const byName = new Map(stack.services.map((c) => [c.name, c]));
  const paths = gateway.routes.flatMap((r) => [
    `          - path: ${q(r.path)}`,
    `            pathType: Prefix`,
    `            backend:`,
    `              service:`,
    `                name: ${q(resourceName(byName.get(r.service)!))}`,
    `                port:`,
    `                  name: http`,
  ]);
  return [
    `# The gateway of the stack '${stack.name}': path prefixes to services, paths passed unchanged.`,
    `apiVersion: networking.k8s.io/v1`,
    `kind: Ingress`,
    `metadata:`,
    `  name: ${q(stack.name)}`,
    `  labels:`,
    `    app.kubernetes.io/part-of: ${q(stack.name)}`,
    `spec:`,
    ...(gateway.className ? [`  ingressClassName: ${q(gateway.className)}`] : []),
    ...(gateway.tlsSecret && gateway.host
      ? [
          `  tls:`,
          `    - hosts:`,
          `        - ${q(gateway.host)}`,
          `      secretName: ${q(gateway.tlsSecret)}`,
        ]
      : []),
    `  rules:`,
    ...(gateway.host ? [`    - host: ${q(gateway.host)}`, `      http:`] : [`    - http:`]),
    `        paths:`,
    ...paths,
    ``,
  ].join('\n');
}

function readme(stack: StackCard, cards: readonly ServiceCard[]): string {
  const { gateway, calls, namespace } = stack.shared;
  const ports = hostPorts(cards);
  const routesOf = (name: string) =>
    (gateway?.routes ?? []).filter((r) => r.service === name).map((r) => `\`${r.path}\``);
  const rows = cards.map((card) => {
    const called = calls.filter((c) => c.from === card.name).map((c) => `${c.to} (\`${callEnvName(c.to)}\`)`);
    return `| [${card.name}](${card.name}/README.md) | ${stackOf(card)} | ${card.port} | http://127.0.0.1:${ports.get(card.name)} | ${routesOf(card.name).join(', ')} | ${called.join(', ')} |`;
  });
  const id = new Map(cards.map((c, i) => [c.name, `s${i}`]));
  const diagram = [
    '```mermaid',
    'flowchart LR',
    ...(gateway ? [`  gw(["gateway${gateway.host ? `: ${gateway.host}` : ''}"])`] : []),
    ...cards.map((c) => `  ${id.get(c.name)}["${c.name}<br/>${stackOf(c)}"]`),
    ...(gateway?.routes ?? []).map((r) => `  gw -->|"${r.path}"| ${id.get(r.service)}`),
    ...calls.map((c) => `  ${id.get(c.from)} --> ${id.get(c.to)}`),
    '```',
  ];
  const secrets = cards.flatMap((c) =>
    envOf(c)
      .filter((e) => e.secret)
      .map((e) => ({ card: c, e })),
  );
  const byName = new Map(cards.map((c) => [c.name, c]));
  const set = [
    ...calls.map(
      (c) =>
        `| ${c.from} | \`${callEnvName(c.to)}\` | \`http://${c.to}\` | \`http://${c.to}:${byName.get(c.to)!.port}\` |`,
    ),
    ...stack.shared.env.map((e) => {
      const value = `\`${markdownText(e.value)}\``;
      return `| ${e.service} | \`${e.name}\` | ${value} | ${value} |`;
    }),
  ];
  return [
    `# ${stack.name}`,
    ``,
    // Escaped so that a description cannot start a heading or a list.
    stack.description
      ? markdownText(stack.description).replace(/^([#+-])/, '\\$1')
      : `A stack of ${cards.length} services.`,
    ``,
    `Generated by CodeSynthesis from a stack card with the built-in templates. Each service has its own`,
    `folder, with its own README, tests, Dockerfile and Kubernetes manifest (\`<service>/k8s/\`).`,
    ``,
    `## Services`,
    ``,
    `| Service | Stack | Port | Local URL | Gateway paths | Calls |`,
    `| --- | --- | --- | --- | --- | --- |`,
    ...rows,
    ``,
    ...diagram,
    ``,
    ...(set.length
      ? [
          `## Configuration the stack sets`,
          ``,
          `On Kubernetes each value is in the service's \`k8s/deployment.yaml\` (and is its default in code);`,
          `docker compose sets its own. A service's Kubernetes Service listens on port 80.`,
          ``,
          `| Service | Variable | Kubernetes | docker compose |`,
          `| --- | --- | --- | --- |`,
          ...set,
          ``,
        ]
      : []),
    `## Run it locally`,
    ``,
    '```sh',
    ...secrets.map(({ e }) => `export ${e.name}=...        # secret: never stored in these files`),
    `docker compose up --build`,
    '```',
    ``,
    `Each service is published on 127.0.0.1 at the port in the table above.`,
    ...(gateway
      ? [`The gateway exists only on Kubernetes; locally, call each service at its own port.`]
      : []),
    ``,
    `## Kubernetes`,
    ``,
    `\`kustomization.yaml\` gathers the namespace \`${namespace}\` (Pod Security Standard \`restricted\`),`,
    `every service's Deployment and Service${gateway ? ' and the Ingress (`k8s/ingress.yaml`)' : ''}. Build and push each image, set its`,
    `reference in an \`images:\` entry of \`kustomization.yaml\` (\`- name: orders\` / \`newName: registry.example.com/orders\` /`,
    `\`newTag: "1.0.0"\`), then:`,
    ``,
    '```sh',
    ...(secrets.length ? [`kubectl create namespace ${namespace}`] : []),
    ...cards
      .filter((c) => envOf(c).some((e) => e.secret))
      .map(
        (c) =>
          `kubectl -n ${namespace} create secret generic ${resourceName(c)}-secrets ${envOf(c)
            .filter((e) => e.secret)
            .map((e) => `--from-literal=${e.name}="$${e.name}"`)
            .join(' ')}`,
      ),
    `kubectl apply -k .`,
    '```',
    ...(gateway
      ? [
          ``,
          `The Ingress needs an ingress controller${gateway.className ? ` of the class \`${gateway.className}\`` : " (the cluster's default IngressClass)"}. It matches whole path`,
          `segments (\`/orders\` takes \`/orders/42\`, not \`/orders-old\`) and passes the path unchanged, so each`,
          `service serves its endpoints under its own prefix.`,
        ]
      : []),
    ``,
  ].join('\n');
}

/**
 * Names and paths go into YAML, Markdown and mermaid as they are: parseIntent guarantees their
 * shape, and this re-check keeps a hand-built stack card from reaching the files with a hostile one.
 */
function checkStack(stack: StackCard): void {
  const problems: string[] = [];
  const names = new Set<string>();
  if (!SERVICE_NAME.test(stack.name)) problems.push(`'stack.name' is not a valid name (got '${stack.name}')`);
  if (!NAMESPACE.test(stack.shared.namespace))
    problems.push(`'stack.shared.namespace' is not a Kubernetes namespace`);
  if (stack.services.length === 0) problems.push(`the stack has no service`);
  stack.services.forEach((card, i) => {
    if (!SERVICE_NAME.test(card.name) || RESERVED_SERVICE_NAMES.includes(card.name) || names.has(card.name))
      problems.push(`stack.services[${i}]: the name '${card.name}' is invalid, reserved or used twice`);
    names.add(card.name);
    if (!findTemplate(card.language, card.framework))
      problems.push(
        `stack.services[${i}] '${card.name}': language '${card.language}' with framework '${card.framework}' has no offline template`,
      );
  });
  const gateway = stack.shared.gateway;
  if (gateway) {
    if (gateway.host !== undefined && !INGRESS_HOST.test(gateway.host))
      problems.push(`the gateway's host is invalid`);
    for (const value of [gateway.className, gateway.tlsSecret])
      if (value !== undefined && !OBJECT_NAME.test(value))
        problems.push(`the gateway's '${value}' is not a valid name`);
    if (gateway.routes.length === 0) problems.push(`the gateway has no route`);
    for (const r of gateway.routes)
      if (!ROUTE_PATH.test(r.path) || !names.has(r.service))
        problems.push(`the route '${r.path}' to '${r.service}' is invalid`);
  }
  for (const c of stack.shared.calls)
    if (!names.has(c.from) || !names.has(c.to) || c.from === c.to)
      problems.push(`the call from '${c.from}' to '${c.to}' is invalid`);
  for (const e of stack.shared.env) {
    const card = stack.services.find((s) => s.name === e.service);
    if (
      !card ||
      !ENV_NAME.test(e.name) ||
      e.name === 'PORT' ||
      card.env.some((d) => d.name === e.name && d.secret)
    )
      problems.push(`the value of '${e.name}' for '${e.service}' is invalid`);
  }
  for (const c of stack.shared.calls) {
    const caller = stack.services.find((s) => s.name === c.from);
    if (caller?.env.some((d) => d.name === callEnvName(c.to) && d.secret))
      problems.push(
        `'${c.from}' declares '${callEnvName(c.to)}' as a secret, which its call to '${c.to}' sets`,
      );
  }
  if (problems.length) {
    const supported = SUPPORTED_TEMPLATES.map((t) => `${t.language}/${t.framework}`).join(', ');
    throw new IntentError(
      `the stack card cannot be rendered offline:${bulletList(problems)}`,
      `Offline templates: ${supported}. Change the services' language and framework, or use provider azureOpenAI or openAICompatible for other stacks. ${STACK_HINT}`,
    );
  }
}
