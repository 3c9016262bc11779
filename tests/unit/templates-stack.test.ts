/**
 * The offline rendering of a stack card: each service exactly as its own template renders it, and
 * the stack's files fitting together: every compose build context holds a Dockerfile, every
 * kustomization resource is a rendered file, every Ingress backend names a rendered Service and port.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { IntentError } from '../../tasks/CodeSynthesis/src/core/errors';
import { parseIntent, type StackCard } from '../../tasks/CodeSynthesis/src/core/intent';
import type { FileToWrite } from '../../tasks/CodeSynthesis/src/core/ports';
import { addProvenanceHeaders } from '../../tasks/CodeSynthesis/src/core/provenance';
import { renderService } from '../../tasks/CodeSynthesis/src/core/templates';
import {
  dependsOn,
  hostPorts,
  renderStack,
  stackServiceCard,
  STACK_FILES,
} from '../../tasks/CodeSynthesis/src/core/templates/stack';
import { endpoint } from '../support/endpoint';
import { scanAll } from '../support/scan';

const EXAMPLES = path.resolve(__dirname, '../../../examples');
const example = (): StackCard => stackFrom(fs.readFileSync(path.join(EXAMPLES, 'stack.yaml'), 'utf8'));

function stackFrom(text: string): StackCard {
  const intent = parseIntent(text);
  assert.equal(intent.kind, 'stack');
  return (intent as { stack: StackCard }).stack;
}

/** The rendered files by path. */
const byPath = (files: readonly FileToWrite[]) => new Map(files.map((f) => [f.path, f.content]));
const read = (files: Map<string, string>, p: string): string => {
  const content = files.get(p);
  assert.ok(content !== undefined, `expected ${p} among ${[...files.keys()].join(', ')}`);
  return content;
};

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
}
const docsOf = (text: string): K8sObject[] =>
  parseAllDocuments(text).map((d) => {
    assert.deepEqual(d.errors, []);
    return d.toJS() as K8sObject;
  });

interface Compose {
  name: string;
  services: Record<
    string,
    {
      build: { context: string };
      depends_on?: string[];
      environment: Record<string, string | null>;
      ports: string[];
    }
  >;
}

describe('offline stack rendering', () => {
  const stack = example();
  const files = renderStack(stack);
  const all = byPath(files);
  const at = (p: string) => read(all, `shop/${p}`);

  it("renders each service into shop/<service>/ exactly as the service's own template does", () => {
    for (const card of stack.services) {
      const own = renderService(stackServiceCard(stack, card));
      const mine = files.filter((f) => f.path.startsWith(`shop/${card.name}/`));
      assert.deepEqual(
        mine,
        own.map((f) => ({ path: `shop/${f.path}`, content: f.content })),
      );
    }
    // A service the stack adds nothing to is byte for byte its service card's rendering.
    const weather = stack.services.find((s) => s.name === 'weather')!;
    assert.deepEqual(
      files.filter((f) => f.path.startsWith('shop/weather/')).map((f) => f.content),
      renderService(weather).map((f) => f.content),
    );
  });

  it("writes the stack's own files beside the services, and nothing outside shop/", () => {
    const own = files.filter((f) => !stack.services.some((s) => f.path.startsWith(`shop/${s.name}/`)));
    assert.deepEqual(
      own.map((f) => f.path),
      Object.values(STACK_FILES).map((p) => `shop/${p}`),
    );
    assert.ok(files.every((f) => f.path.startsWith('shop/')));
    assert.equal(new Set(files.map((f) => f.path)).size, files.length, 'no path twice');
  });

  it('gives each service the URLs of the services it calls and the values the stack sets, in its code and its manifest', () => {
    const orders = stackServiceCard(
      stack,
      stack.services.find((s) => s.name === 'orders')!,
    );
    assert.deepEqual(
      orders.env.find((e) => e.name === 'INVENTORY_URL'),
      {
        name: 'INVENTORY_URL',
        description: "URL of the 'inventory' service (set by the stack 'shop').",
        default: 'http://inventory',
        secret: false,
      },
    );
    assert.match(at('orders/src/config.ts'), /INVENTORY_URL/);
    const env = (service: string) => {
      const deployment = docsOf(at(`${service}/k8s/deployment.yaml`)).find((d) => d.kind === 'Deployment')!;
      const spec = deployment.spec as {
        template: { spec: { containers: { env: { name: string; value?: string }[] }[] } };
      };
      return Object.fromEntries(spec.template.spec.containers[0]!.env.map((e) => [e.name, e.value]));
    };
    assert.equal(env('orders')['INVENTORY_URL'], 'http://inventory');
    assert.equal(env('orders')['ORDERS_DB_URL'], undefined, 'a secret has no value, only a secretKeyRef');
    assert.equal(env('inventory')['LOG_LEVEL'], 'debug', "the stack's value replaces the card's default");
    assert.equal(env('weather')['INVENTORY_URL'], undefined, 'only the caller gets the URL');
  });

  it('docker-compose.yml builds every service from a folder holding its Dockerfile, on 127.0.0.1, with its environment', () => {
    const compose = parseYaml(at(STACK_FILES.compose)) as Compose;
    assert.equal(compose.name, 'shop');
    assert.deepEqual(Object.keys(compose.services), ['inventory', 'orders', 'weather']);
    for (const card of stack.services) {
      const service = compose.services[card.name]!;
      const context = path.posix.normalize(`shop/${service.build.context}`);
      assert.ok(all.has(`${context}/Dockerfile`), `${context}/Dockerfile is rendered`);
      assert.equal(service.ports.length, 1);
      assert.match(service.ports[0]!, new RegExp(`^127\\.0\\.0\\.1:\\d+:${card.port}$`));
      assert.equal(service.environment['PORT'], String(card.port));
    }
    const hostSide = Object.values(compose.services).map((s) => s.ports[0]!.split(':')[1]);
    assert.equal(new Set(hostSide).size, hostSide.length, 'host ports differ');
    assert.deepEqual(compose.services['orders']!.environment, {
      PORT: '3000',
      ORDERS_DB_URL: null,
      INVENTORY_URL: 'http://inventory:8081',
    });
    assert.deepEqual(compose.services['orders']!.depends_on, ['inventory']);
    assert.equal(compose.services['inventory']!.environment['LOG_LEVEL'], 'debug');
    assert.doesNotMatch(at(STACK_FILES.compose), /ORDERS_DB_URL: \S*[^#\s]\S*\s*#/);
  });

  it('kustomization.yaml sets the namespace and lists only rendered files inside its own folder', () => {
    const k = parseYaml(at(STACK_FILES.kustomization)) as {
      apiVersion: string;
      kind: string;
      namespace: string;
      resources: string[];
    };
    assert.equal(k.apiVersion, 'kustomize.config.k8s.io/v1beta1');
    assert.equal(k.kind, 'Kustomization');
    assert.equal(k.namespace, 'shop');
    for (const resource of k.resources) {
      assert.ok(!resource.startsWith('/') && !resource.split('/').includes('..'), resource);
      assert.ok(all.has(`shop/${resource}`), `${resource} is rendered`);
    }
    const manifests = files
      .map((f) => f.path.slice('shop/'.length))
      .filter((p) => /\.yaml$/.test(p) && /(^|\/)k8s\//.test(p));
    assert.deepEqual(
      [...k.resources].sort(),
      manifests.sort(),
      "every Kubernetes file, the services' own included",
    );
  });

  it('the Ingress routes each path prefix to a rendered Service, by a port that Service has', () => {
    const services = new Map<string, K8sObject>();
    for (const card of stack.services)
      for (const doc of docsOf(at(`${card.name}/k8s/deployment.yaml`)))
        if (doc.kind === 'Service') services.set(doc.metadata.name, doc);
    const [ingress] = docsOf(at(STACK_FILES.ingress));
    assert.equal(ingress!.apiVersion, 'networking.k8s.io/v1');
    const spec = ingress!.spec as {
      ingressClassName?: string;
      rules: {
        host?: string;
        http: {
          paths: {
            path: string;
            pathType: string;
            backend: { service: { name: string; port: { name?: string; number?: number } } };
          }[];
        };
      }[];
    };
    assert.equal(spec.ingressClassName, 'nginx');
    assert.equal(spec.rules[0]!.host, 'shop.example.com');
    const paths = spec.rules[0]!.http.paths;
    assert.deepEqual(
      paths.map((p) => [p.path, p.pathType, p.backend.service.name]),
      stack.shared.gateway!.routes.map((r) => [r.path, 'Prefix', r.service]),
    );
    for (const p of paths) {
      const service = services.get(p.backend.service.name);
      assert.ok(service, `the Service ${p.backend.service.name} is rendered`);
      const ports = (service.spec as { ports: { name: string; port: number }[] }).ports;
      assert.ok(
        ports.some((port) => port.name === p.backend.service.port.name),
        `${p.backend.service.name} has a port named ${p.backend.service.port.name}`,
      );
    }
  });

  it('every Kubernetes object validates against its API schema (kubernetes-models)', () => {
    const kinds: Record<string, { validate(): void }> = {};
    const models = { Deployment, Service, Namespace, Ingress } as const;
    let count = 0;
    for (const f of files.filter((f) => /(^|\/)k8s\/[^/]+\.yaml$/.test(f.path)))
      for (const doc of docsOf(f.content)) {
        const Model = models[doc.kind as keyof typeof models];
        assert.ok(Model, `${f.path}: ${doc.kind}`);
        const object = new Model(doc as never);
        object.validate();
        kinds[doc.kind] = object;
        count++;
      }
    assert.deepEqual(Object.keys(kinds).sort(), ['Deployment', 'Ingress', 'Namespace', 'Service']);
    assert.equal(count, 2 * stack.services.length + 2);
    const namespace = docsOf(at(STACK_FILES.namespace))[0]!;
    assert.equal(namespace.metadata.name, 'shop');
    assert.equal(namespace.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'restricted');
  });

  it("the README maps the services: a table row each, and a mermaid diagram of the gateway's routes and the calls", () => {
    const readme = at(STACK_FILES.readme);
    for (const card of stack.services)
      assert.match(readme, new RegExp(`^\\| \\[${card.name}\\]\\(${card.name}/README\\.md\\) \\|`, 'm'));
    assert.match(
      readme,
      /\| \[orders\]\(orders\/README\.md\) \| node\/express \| 3000 \| http:\/\/127\.0\.0\.1:3000 \| `\/orders` \| inventory \(`INVENTORY_URL`\) \|/,
    );
    const mermaid = /```mermaid\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    assert.match(mermaid, /^flowchart LR$/m);
    assert.match(mermaid, /^ {2}gw\(\["gateway: shop\.example\.com"\]\)$/m);
    assert.match(mermaid, /^ {2}gw -->\|"\/orders"\| s1$/m);
    assert.match(mermaid, /^ {2}s1 --> s2$/m, 'orders calls inventory');
    assert.match(
      readme,
      /kubectl -n shop create secret generic orders-secrets --from-literal=ORDERS_DB_URL="\$ORDERS_DB_URL"/,
    );
  });

  it('is deterministic: the same card gives byte-identical files', () => {
    assert.deepEqual(renderStack(example()), files);
  });

  it('scans clean with the whole scanner, with and without provenance headers', async () => {
    assert.deepEqual((await scanAll(files)).findings, []);
    const headed = addProvenanceHeaders(files, {
      version: '1.0.0',
      intentSha256: 'a'.repeat(64),
      promptFile: '.synthesis/prompts/offline-0123456789ab.json',
      model: 'builtin-templates',
      deployment: 'builtin-templates',
      buildId: '4242',
    });
    assert.deepEqual((await scanAll(headed)).findings, []);
  });
});

describe('offline stack rendering: choices', () => {
  const minimal = (extra = '') =>
    stackFrom(`stack:
  name: pair
  services:
    - name: a
      language: python
      framework: flask
    - name: b
      language: csharp
      framework: aspnetcore
${extra}`);

  it('without a gateway writes no Ingress and lists none; the namespace defaults to the stack name', () => {
    const files = byPath(renderStack(minimal()));
    assert.ok(!files.has(`pair/${STACK_FILES.ingress}`));
    const k = parseYaml(read(files, `pair/${STACK_FILES.kustomization}`)) as {
      namespace: string;
      resources: string[];
    };
    assert.equal(k.namespace, 'pair');
    assert.ok(!k.resources.includes(STACK_FILES.ingress));
    assert.doesNotMatch(read(files, `pair/${STACK_FILES.readme}`), /gateway|Ingress/);
  });

  it('gives services on the same port different host ports, each its own port when free', () => {
    const cards = minimal().services;
    assert.deepEqual(
      [...hostPorts(cards)],
      [
        ['a', 8080],
        ['b', 8081],
      ],
    );
    const three = [...cards, { ...cards[0]!, name: 'c', port: 8081 }, { ...cards[0]!, name: 'd' }];
    assert.deepEqual(
      [...hostPorts(three)],
      [
        ['a', 8080],
        ['b', 8082],
        ['c', 8081],
        ['d', 8083],
      ],
    );
    const compose = parseYaml(read(byPath(renderStack(minimal())), `pair/${STACK_FILES.compose}`)) as Compose;
    assert.deepEqual(compose.services['b']!.ports, ['127.0.0.1:8081:8080']);
  });

  it('leaves out of depends_on the calls that go round in a circle, which compose would refuse', () => {
    const stack = minimal(`  shared:
    calls:
      - { from: a, to: b }
      - { from: b, to: a }
`);
    assert.deepEqual(dependsOn(stack, 'a'), []);
    assert.deepEqual(dependsOn(stack, 'b'), []);
    const compose = parseYaml(read(byPath(renderStack(stack)), `pair/${STACK_FILES.compose}`)) as Compose;
    assert.equal(compose.services['a']!.depends_on, undefined);
    assert.equal(compose.services['a']!.environment['B_URL'], 'http://b:8080');
    const chain = { ...stack, shared: { ...stack.shared, calls: [{ from: 'a', to: 'b' }] } };
    assert.deepEqual(dependsOn(chain, 'a'), ['b']);
  });

  it('writes TLS for the host when the gateway names a secret, and no class when none is given', () => {
    const stack = minimal(`  shared:
    gateway:
      host: pair.example.com
      tlsSecret: pair-tls
      routes:
        - { path: /, service: a }
`);
    const [ingress] = docsOf(read(byPath(renderStack(stack)), `pair/${STACK_FILES.ingress}`));
    new Ingress(ingress as never).validate();
    assert.deepEqual((ingress!.spec as { tls: unknown }).tls, [
      { hosts: ['pair.example.com'], secretName: 'pair-tls' },
    ]);
    assert.equal((ingress!.spec as { ingressClassName?: string }).ingressClassName, undefined);
  });

  it('refuses, all together, every service whose language and framework have no offline template', () => {
    const stack = minimal();
    const bad = {
      ...stack,
      services: [
        { ...stack.services[0]!, language: 'rust', framework: 'axum' },
        stack.services[1]!,
        { ...stack.services[0]!, name: 'c', language: 'java', framework: 'spring' },
      ],
    };
    assert.throws(
      () => renderStack(bad),
      (e: unknown) =>
        e instanceof IntentError &&
        /stack\.services\[0\] 'a': language 'rust' with framework 'axum' has no offline template/.test(
          e.message,
        ) &&
        /stack\.services\[2\] 'c': language 'java' with framework 'spring' has no offline template/.test(
          e.message,
        ) &&
        /python\/flask/.test(e.hint) &&
        /azureOpenAI/.test(e.hint),
    );
  });

  it('refuses a hand-built stack card with names, paths or references parseIntent would refuse', () => {
    const stack = minimal();
    const hostile: StackCard[] = [
      { ...stack, name: 'pair\nx: 1' },
      { ...stack, services: [stack.services[0]!, { ...stack.services[1]!, name: 'a' }] },
      { ...stack, services: [{ ...stack.services[0]!, name: 'k8s' }] },
      { ...stack, shared: { ...stack.shared, namespace: 'Pair' } },
      { ...stack, shared: { ...stack.shared, calls: [{ from: 'a', to: 'ghost' }] } },
      { ...stack, shared: { ...stack.shared, gateway: { routes: [{ path: '/a"\n', service: 'a' }] } } },
      {
        ...stack,
        shared: { ...stack.shared, gateway: { host: 'x"', routes: [{ path: '/', service: 'a' }] } },
      },
      { ...stack, shared: { ...stack.shared, env: [{ service: 'a', name: 'PORT', value: '1' }] } },
    ];
    for (const card of hostile)
      assert.throws(
        () => renderStack(card),
        (e: unknown) => e instanceof IntentError && /cannot be rendered offline/.test(e.message),
        JSON.stringify(card.shared),
      );
  });

  it('keeps card text out of the YAML structure: a description cannot add keys', () => {
    const stack = minimal();
    stack.services[0] = {
      ...stack.services[0]!,
      description: 'x\n  evil: true\n"\'',
      endpoints: [endpoint('GET', '/a')],
    };
    const files = byPath(renderStack({ ...stack, description: '# x\n<script>|' }));
    const compose = parseYaml(read(files, `pair/${STACK_FILES.compose}`)) as Compose;
    assert.deepEqual(Object.keys(compose.services['a']!).sort(), [
      'build',
      'cap_drop',
      'environment',
      'ports',
      'read_only',
      'security_opt',
      'tmpfs',
    ]);
    const readme = read(files, `pair/${STACK_FILES.readme}`);
    assert.deepEqual(
      readme.split('\n').filter((l) => l.startsWith('#')),
      ['# pair', '## Services', '## Run it locally', '## Kubernetes'],
      'the description starts no heading',
    );
    assert.match(readme, /^\\# x &lt;script&gt;\\\|$/m);
  });
});
