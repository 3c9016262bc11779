import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sinon from 'sinon';
import ts from 'typescript';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { IntentError } from '../../tasks/CodeSynthesis/src/core/errors';
import { parseIntent, type ServiceCard } from '../../tasks/CodeSynthesis/src/core/intent';
import type { FileToWrite } from '../../tasks/CodeSynthesis/src/core/ports';
import { parseRoute, quote } from '../../tasks/CodeSynthesis/src/core/templates/common';
import { renderService, SUPPORTED_TEMPLATES } from '../../tasks/CodeSynthesis/src/core/templates';
import { expressRoute, NODE_PINS } from '../../tasks/CodeSynthesis/src/core/templates/node-express';
import { PYTHON_PINS } from '../../tasks/CodeSynthesis/src/core/templates/python-flask';

const EXAMPLES = path.resolve(__dirname, '../../../examples');

function cardFrom(text: string): ServiceCard {
  const intent = parseIntent(text);
  assert.equal(intent.kind, 'card');
  return (intent as { card: ServiceCard }).card;
}
const example = (name: string) => cardFrom(fs.readFileSync(path.join(EXAMPLES, name), 'utf8'));
const file = (files: FileToWrite[], p: string): string => {
  const found = files.find((f) => f.path === p);
  assert.ok(found, `expected ${p} among ${files.map((f) => f.path).join(', ')}`);
  return found.content;
};

const HOSTILE =
  'Evil """ \'\'\' */ ${process.exit(1)} `id` \\ \n__import__("os").system("id")\u2028 \u{1F600} </script> | x';

function card(overrides: Partial<ServiceCard>): ServiceCard {
  return {
    name: 'svc',
    language: 'python',
    framework: 'flask',
    description: '',
    port: 8080,
    endpoints: [{ method: 'GET', path: '/items' }],
    dependencies: [],
    env: [],
    ...overrides,
  };
}

/** Every string literal in a TypeScript source, decoded, and the parse diagnostics. */
function tsStrings(source: string): { strings: string[]; errors: number } {
  const sf = ts.createSourceFile('x.ts', source, ts.ScriptTarget.ES2022, true);
  const strings: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) strings.push(node.text);
    node.forEachChild(visit);
  };
  visit(sf);
  return {
    strings,
    errors: ts.transpileModule(source, { reportDiagnostics: true }).diagnostics?.length ?? 0,
  };
}

describe('offline templates', () => {
  describe('choosing a template', () => {
    it('lists the supported pairs', () => {
      assert.deepEqual(
        SUPPORTED_TEMPLATES.map((t) => `${t.language}/${t.framework}`),
        ['python/flask', 'node/express', 'typescript/express'],
      );
    });

    it('rejects an unsupported pair with an IntentError naming it and the supported pairs', () => {
      assert.throws(
        () => renderService(card({ language: 'go', framework: 'gin' })),
        (e: unknown) =>
          e instanceof IntentError &&
          /language 'go' with framework 'gin' has no offline template; supported: python\/flask, node\/express, typescript\/express/.test(
            e.message,
          ) &&
          /azureOpenAI or openAICompatible/.test(e.describe()),
      );
    });

    it('renders node and typescript cards with the same Express template', () => {
      const node = renderService(card({ language: 'node', framework: 'express' }));
      const typescript = renderService(card({ language: 'typescript', framework: 'express' }));
      assert.deepEqual(node, typescript);
      assert.ok(node.some((f) => f.path === 'svc/src/app.ts'));
    });

    it('refuses a hand-built card whose name would escape its folder', () => {
      assert.throws(() => renderService(card({ name: '../evil' })), IntentError);
      assert.throws(() => renderService(card({ endpoints: [{ method: 'GET', path: '/a"b' }] })), IntentError);
      assert.throws(() => renderService(card({ env: [{ name: 'bad name', secret: false }] })), IntentError);
    });
  });

  for (const [label, exampleFile, expected] of [
    [
      'python/flask',
      'weather.yaml',
      [
        'app.py',
        'requirements.txt',
        'requirements-dev.txt',
        'pytest.ini',
        'tests/test_app.py',
        'Dockerfile',
        '.dockerignore',
        'k8s/deployment.yaml',
        'README.md',
      ],
    ],
    [
      'node/express',
      'orders-node.yaml',
      [
        'package.json',
        'tsconfig.json',
        'src/config.ts',
        'src/app.ts',
        'src/server.ts',
        'test/app.test.ts',
        'Dockerfile',
        '.dockerignore',
        'k8s/deployment.yaml',
        'README.md',
      ],
    ],
  ] as const) {
    describe(label, () => {
      const c = example(exampleFile);

      it('writes the whole service under a folder named after the card, with relative / paths', () => {
        const files = renderService(c);
        assert.deepEqual(
          files.map((f) => f.path),
          expected.map((p) => `${c.name}/${p}`),
        );
        for (const f of files) {
          assert.ok(
            !f.path.startsWith('/') && !f.path.includes('\\') && !f.path.split('/').includes('..'),
            f.path,
          );
          assert.ok(f.content.endsWith('\n'), `${f.path} ends with a newline`);
        }
      });

      it('is deterministic: the same card gives byte-identical files whatever the clock', () => {
        const clock = sinon.useFakeTimers({ now: new Date('2001-02-03T04:05:06Z') });
        let first: FileToWrite[];
        try {
          first = renderService(structuredClone(c));
        } finally {
          clock.restore();
        }
        const second = renderService(example(exampleFile));
        assert.equal(JSON.stringify(second), JSON.stringify(first));
        assert.ok(!JSON.stringify(first).includes('2001'), 'no date in the output');
      });

      it('has a Dockerfile with a non-root numeric user and EXPOSE of the card port', () => {
        const docker = file(renderService(c), `${c.name}/Dockerfile`);
        const user = /^USER (\d+)$/m.exec(docker);
        assert.ok(user && Number(user[1]) > 0, 'USER is a non-zero uid');
        assert.match(docker, new RegExp(`^EXPOSE ${c.port}$`, 'm'));
        const k8s = parseAllDocuments(file(renderService(c), `${c.name}/k8s/deployment.yaml`)).map((d) =>
          d.toJS(),
        );
        assert.equal(
          k8s[0].spec.template.spec.securityContext.runAsUser,
          Number(user[1]),
          'the pod runs as the image user',
        );
      });

      it('has a Kubernetes Deployment and Service with /healthz probes and the card port', () => {
        const docs = parseAllDocuments(file(renderService(c), `${c.name}/k8s/deployment.yaml`)).map((d) =>
          d.toJS(),
        );
        assert.deepEqual(
          docs.map((d) => d.kind),
          ['Deployment', 'Service'],
        );
        const container = docs[0].spec.template.spec.containers[0];
        assert.equal(container.ports[0].containerPort, c.port);
        assert.equal(container.readinessProbe.httpGet.path, '/healthz');
        assert.equal(container.livenessProbe.httpGet.path, '/healthz');
        assert.deepEqual(container.env[0], { name: 'PORT', value: String(c.port) });
        assert.deepEqual(docs[1].spec.selector, docs[0].spec.selector.matchLabels);
      });
    });
  }

  describe('endpoints', () => {
    const endpoints = [
      { method: 'GET', path: '/orders' },
      { method: 'POST', path: '/orders' },
      { method: 'GET', path: '/orders/{id}', description: 'One order' },
      { method: 'DELETE', path: '/orders/:id' },
      { method: 'PUT', path: '/items:batchUpdate' },
    ];

    it('python/flask: one route and one test per card endpoint, plus /healthz', () => {
      const files = renderService(card({ endpoints }));
      const app = file(files, 'svc/app.py');
      const test = file(files, 'svc/tests/test_app.py');
      const rules = [...app.matchAll(/@app\.route\("([^"]*)", methods=\["([A-Z]+)"\]/g)].map(
        (m) => `${m[2]} ${m[1]}`,
      );
      assert.deepEqual(rules, [
        'GET /orders',
        'POST /orders',
        'GET /orders/<id>',
        'DELETE /orders/<id>',
        'PUT /items:batchUpdate',
      ]);
      assert.match(app, /@app\.get\("\/healthz"\)/);
      for (const e of endpoints)
        assert.ok(
          test.includes(`assert body["endpoint"] == ${JSON.stringify(e.path)}`),
          `test for ${e.method} ${e.path}`,
        );
      assert.equal(
        (test.match(/^def test_/gm) ?? []).length,
        endpoints.length + 2,
        'healthz + endpoints + config',
      );
      for (const e of endpoints)
        assert.ok(file(files, 'svc/README.md').includes(`| ${e.method} | \`${e.path}\` |`));
    });

    it('node/express: one route and one test per card endpoint, plus /healthz', () => {
      const files = renderService(card({ language: 'node', framework: 'express', endpoints }));
      const app = file(files, 'svc/src/app.ts');
      const rules = [...app.matchAll(/app\.(get|post|put|delete)\("([^"]*)", placeholder/g)].map(
        (m) => `${m[1]!.toUpperCase()} ${m[2]}`,
      );
      assert.deepEqual(rules, [
        'GET /orders',
        'POST /orders',
        'GET /orders/:id',
        'DELETE /orders/:id',
        'PUT /items\\\\:batchUpdate',
      ]);
      assert.match(app, /app\.get\("\/healthz"/);
      const test = file(files, 'svc/test/app.test.ts');
      for (const e of endpoints)
        assert.ok(
          test.includes(`assert.equal(body["endpoint"], ${JSON.stringify(e.path)});`),
          `test for ${e.method} ${e.path}`,
        );
    });

    it('keeps each (method, path) once and leaves GET /healthz to the built-in health route', () => {
      const files = renderService(
        card({
          endpoints: [
            { method: 'GET', path: '/healthz' },
            { method: 'GET', path: '/a' },
            { method: 'GET', path: '/a' },
          ],
        }),
      );
      const app = file(files, 'svc/app.py');
      assert.equal((app.match(/"\/healthz"/g) ?? []).length, 1);
      assert.equal((app.match(/@app\.route\("\/a"/g) ?? []).length, 1);
    });

    it('turns card paths into framework routes: parameters, repeats, literal colons and braces', () => {
      assert.deepEqual(parseRoute('/a/{id}/b/{id}'), [
        { kind: 'text', text: '/a/' },
        { kind: 'param', name: 'id' },
        { kind: 'text', text: '/b/' },
        { kind: 'param', name: 'id_2' },
      ]);
      assert.equal(expressRoute(parseRoute('/files/:name.json')), '/files/:name.json');
      assert.equal(expressRoute(parseRoute('/v1/items{sku}x')), '/v1/items:"sku"x');
      assert.equal(expressRoute(parseRoute('/time:now')), '/time\\:now');
      assert.equal(expressRoute(parseRoute('/x/{1}/y{')), '/x/%7B1%7D/y%7B');
    });
  });

  describe('escaping card text', () => {
    it('quote() round-trips hostile text as a printable-ASCII literal in JS and YAML', () => {
      for (const text of [HOSTILE, '', '\u0000\u007f\u0085\t\r', 'caf\u00e9 \u{10FFFF}']) {
        for (const lang of ['js', 'py', 'yaml'] as const) assert.match(quote(text, lang), /^"[\x20-\x7e]*"$/);
        assert.equal(new Function(`return ${quote(text, 'js')};`)(), text);
        assert.equal(parseYaml(quote(text, 'yaml')), text);
      }
      assert.equal(parseYaml(quote('a\uD800b', 'yaml')), 'a\uFFFDb', 'a lone surrogate becomes U+FFFD');
    });

    it('a hostile description and env default stay inside string literals in the Express source', () => {
      const files = renderService(
        card({
          language: 'node',
          framework: 'express',
          description: HOSTILE,
          endpoints: [{ method: 'GET', path: '/a', description: HOSTILE }],
          env: [{ name: 'GREETING', default: HOSTILE, secret: false }],
        }),
      );
      for (const p of ['svc/src/app.ts', 'svc/src/config.ts', 'svc/test/app.test.ts']) {
        const source = file(files, p);
        assert.ok(
          /^[\x20-\x7e\n]*$/.test(source),
          `${p} is printable ASCII, so no literal can be broken across lines`,
        );
        const { strings, errors } = tsStrings(source);
        assert.equal(errors, 0, `${p} parses`);
        if (p !== 'svc/test/app.test.ts')
          assert.ok(strings.includes(HOSTILE), `${p} holds the text as one literal`);
      }
      const pkg = JSON.parse(file(files, 'svc/package.json'));
      assert.equal(pkg.description, HOSTILE);
    });

    it('a hostile description stays inside Python literals, a YAML scalar and plain README text', () => {
      const files = renderService(
        card({
          description: HOSTILE,
          endpoints: [{ method: 'GET', path: '/a', description: HOSTILE }],
          env: [{ name: 'GREETING', default: HOSTILE, secret: false }],
        }),
      );
      const app = file(files, 'svc/app.py');
      assert.ok(/^[\x20-\x7e\n]*$/.test(app), 'app.py is printable ASCII');
      const literal = quote(HOSTILE, 'py');
      assert.ok(app.includes(`return placeholder("GET", "/a", ${literal}, params, 200)`));
      assert.ok(app.includes(`"GREETING": ${literal},`));
      assert.ok(!app.includes('system("id")\n'), 'no injected statement');
      const [deployment] = parseAllDocuments(file(files, 'svc/k8s/deployment.yaml')).map((d) => d.toJS());
      assert.equal(deployment.metadata.annotations.description, HOSTILE);
      assert.equal(deployment.spec.template.spec.containers[0].env[1].value, HOSTILE);
      const readme = file(files, 'svc/README.md');
      assert.ok(!readme.includes('</script>') && readme.includes('&lt;/script&gt;'));
      assert.equal(readme.split('\n')[2], readme.split('\n')[2]!.trim(), 'the description is one line');
      assert.ok(readme.split('\n')[2]!.startsWith('Evil'));
    });
  });

  describe('configuration from the environment', () => {
    const env = [
      { name: 'LOG_LEVEL', default: 'info', secret: false },
      { name: 'PLAIN', secret: false },
      { name: 'DB_PASSWORD', secret: true },
      { name: 'PORT', default: '1', secret: false },
    ];

    it('python/flask: settings keep their defaults, secrets have none, PORT defaults to the card port', () => {
      const files = renderService(card({ port: 5005, env }));
      const app = file(files, 'svc/app.py');
      assert.match(app, /ENV_DEFAULTS = \{\n {4}"LOG_LEVEL": "info",\n {4}"PLAIN": "",\n\}/);
      assert.match(app, /SECRET_NAMES = \(\n {4}"DB_PASSWORD",\n\)/);
      assert.match(app, /^DEFAULT_PORT = 5005$/m);
      assert.ok(!/"PORT": "1"/.test(app), 'a card PORT entry does not override the port setting');
      const test = file(files, 'svc/tests/test_app.py');
      assert.match(test, /assert config\["DB_PASSWORD"\] is None/);
      assert.match(test, /assert missing_secrets\(config\) == \["DB_PASSWORD"\]/);
    });

    it('node/express: settings keep their defaults, secrets are read with no fallback', () => {
      const files = renderService(card({ language: 'node', framework: 'express', port: 5005, env }));
      const config = file(files, 'svc/src/config.ts');
      assert.match(config, /"LOG_LEVEL": env\["LOG_LEVEL"\] \?\? "info",/);
      assert.match(config, /"PLAIN": env\["PLAIN"\] \?\? "",/);
      assert.match(config, /"DB_PASSWORD": env\["DB_PASSWORD"\],\n/);
      assert.match(config, /^export const DEFAULT_PORT = 5005;$/m);
    });

    it('Kubernetes: secrets come from secretKeyRef, settings from their default, no secret value anywhere', () => {
      const files = renderService(card({ name: 'pay', env }));
      const [deployment] = parseAllDocuments(file(files, 'pay/k8s/deployment.yaml')).map((d) => d.toJS());
      assert.deepEqual(deployment.spec.template.spec.containers[0].env, [
        { name: 'PORT', value: '8080' },
        { name: 'LOG_LEVEL', value: 'info' },
        { name: 'PLAIN', value: '' },
        { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'pay-secrets', key: 'DB_PASSWORD' } } },
      ]);
      const readme = file(files, 'pay/README.md');
      assert.match(
        readme,
        /kubectl create secret generic pay-secrets --from-literal=DB_PASSWORD="\$DB_PASSWORD"/,
      );
      assert.match(readme, /\| `DB_PASSWORD` \|  \| secret, no default \|/);
    });
  });

  describe('dependencies', () => {
    it('python/flask: pins its own, adds the card dependencies, lets a card version override a pin', () => {
      const files = renderService(
        card({
          dependencies: ['requests==2.32.3', 'PyYAML 6.0.2', 'httpx@0.28.1', 'rich', 'flask', 'gunicorn>=22'],
        }),
      );
      assert.equal(
        file(files, 'svc/requirements.txt'),
        `Flask==${PYTHON_PINS.flask}\ngunicorn>=22\nrequests==2.32.3\nPyYAML==6.0.2\nhttpx==0.28.1\nrich\n`,
      );
      assert.equal(
        file(files, 'svc/requirements-dev.txt'),
        `-r requirements.txt\npytest==${PYTHON_PINS.pytest}\n`,
      );
    });

    it('python/flask: lists every dependency that is not a pip requirement', () => {
      assert.throws(
        () => renderService(card({ dependencies: ['@types/node', 'ok', 'a==', 'b @ ./x'] })),
        (e: unknown) =>
          e instanceof IntentError &&
          /'@types\/node'/.test(e.message) &&
          /'a=='/.test(e.message) &&
          /'b @ \.\/x'/.test(e.message) &&
          !/'ok'/.test(e.message),
      );
    });

    it('node/express: pins its own, adds the card dependencies (unversioned as latest)', () => {
      const files = renderService(
        card({
          language: 'node',
          framework: 'express',
          dependencies: [
            'zod@3.24.1',
            '@scope/pkg@^1.2.0',
            'pino',
            'express',
            'typescript==5.8.3',
            'lodash >=4 <5',
          ],
        }),
      );
      const pkg = JSON.parse(file(files, 'svc/package.json'));
      assert.deepEqual(pkg.dependencies, {
        '@scope/pkg': '^1.2.0',
        express: NODE_PINS.dependencies.express,
        lodash: '>=4 <5',
        pino: 'latest',
        zod: '3.24.1',
      });
      assert.deepEqual(pkg.devDependencies, { ...NODE_PINS.devDependencies, typescript: '5.8.3' });
      assert.equal(pkg.scripts.test, 'tsc -p . && node --test dist/test/app.test.js');
    });

    it('node/express: lists every dependency that is not an npm package spec', () => {
      assert.throws(
        () =>
          renderService(
            card({ language: 'node', framework: 'express', dependencies: ['Express', 'fine', 'x@'] }),
          ),
        (e: unknown) =>
          e instanceof IntentError &&
          /'Express'/.test(e.message) &&
          /'x@'/.test(e.message) &&
          !/'fine'/.test(e.message),
      );
    });
  });
});
