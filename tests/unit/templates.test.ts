import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sinon from 'sinon';
import ts from 'typescript';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { IntentError } from '../../tasks/CodeSynthesis/src/core/errors';
import { parseIntent, type ServiceCard } from '../../tasks/CodeSynthesis/src/core/intent';
import type { FileToWrite } from '../../tasks/CodeSynthesis/src/core/ports';
import { parseRoute } from '../../tasks/CodeSynthesis/src/core/route';
import {
  endpointsOf,
  mismatchedUrl,
  quote,
  sampleRequest,
} from '../../tasks/CodeSynthesis/src/core/templates/common';
import { renderService, SUPPORTED_TEMPLATES } from '../../tasks/CodeSynthesis/src/core/templates';
import { expressRoute, NODE_PINS } from '../../tasks/CodeSynthesis/src/core/templates/node-express';
import { flaskRule, PYTHON_PINS } from '../../tasks/CodeSynthesis/src/core/templates/python-flask';
import { endpoint } from '../support/endpoint';

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
    endpoints: [endpoint('GET', '/items')],
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
        ['python/flask', 'node/express', 'typescript/express', 'go/net-http', 'csharp/aspnetcore'],
      );
    });

    it('rejects an unsupported pair with an IntentError naming it and the supported pairs', () => {
      assert.throws(
        () => renderService(card({ language: 'go', framework: 'gin' })),
        (e: unknown) =>
          e instanceof IntentError &&
          /language 'go' with framework 'gin' has no offline template; supported: python\/flask, node\/express, typescript\/express, go\/net-http, csharp\/aspnetcore\./.test(
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

    it("accepts the other names of Go's and .NET's language and framework", () => {
      const go = renderService(card({ language: 'go', framework: 'net-http' }));
      for (const [language, framework] of [
        ['golang', 'net-http'],
        ['go', 'nethttp'],
        ['go', 'net/http'],
      ])
        assert.deepEqual(renderService(card({ language, framework })), go, `${language}/${framework}`);
      const dotnet = renderService(card({ language: 'csharp', framework: 'aspnetcore' }));
      for (const [language, framework] of [
        ['c#', 'aspnetcore'],
        ['dotnet', 'asp.net core'],
        ['csharp', 'asp.net-core'],
        ['csharp', 'aspnet-core'],
      ])
        assert.deepEqual(renderService(card({ language, framework })), dotnet, `${language}/${framework}`);
      assert.throws(() => renderService(card({ language: 'go', framework: 'aspnetcore' })), IntentError);
    });

    it('the README names every supported pair and its other names', () => {
      const readme = fs.readFileSync(path.resolve(__dirname, '../../../README.md'), 'utf8');
      for (const t of SUPPORTED_TEMPLATES) {
        assert.ok(readme.includes(`\`${t.language}/${t.framework}\``), `${t.language}/${t.framework}`);
        for (const alias of [...(t.aliases?.language ?? []), ...(t.aliases?.framework ?? [])])
          assert.ok(readme.includes(`\`${alias}\``), alias);
      }
    });

    it('refuses a hand-built card whose name would escape its folder', () => {
      assert.throws(() => renderService(card({ name: '../evil' })), IntentError);
      assert.throws(
        () =>
          renderService(
            card({
              endpoints: [{ method: 'GET', path: '/a"b', segments: [{ kind: 'literal', text: '/a"b' }] }],
            }),
          ),
        IntentError,
      );
      assert.throws(
        () =>
          renderService(
            card({
              endpoints: [
                {
                  method: 'GET',
                  path: '/a/<int:id>',
                  segments: [
                    { kind: 'literal', text: '/a/' },
                    { kind: 'param', name: 'id"); x("', type: 'int' },
                  ],
                },
              ],
            }),
          ),
        /endpoint 'GET \/a\/<int:id>' is not valid/,
        'segments that are not what the path means',
      );
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
    [
      'go/net-http',
      'orders-go.yaml',
      [
        'go.mod',
        'main.go',
        'config.go',
        'handlers.go',
        'main_test.go',
        'Dockerfile',
        '.dockerignore',
        'k8s/deployment.yaml',
        'README.md',
      ],
    ],
    [
      'csharp/aspnetcore',
      'orders-dotnet.yaml',
      [
        'src/Orders/Orders.csproj',
        'src/Orders/Program.cs',
        'src/Orders/Endpoints.cs',
        'src/Orders/ServiceConfig.cs',
        'src/Orders/appsettings.json',
        'tests/Orders.Tests/Orders.Tests.csproj',
        'tests/Orders.Tests/ServiceTests.cs',
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
      endpoint('GET', '/orders'),
      endpoint('POST', '/orders'),
      endpoint('GET', '/orders/{id}', 'One order'),
      endpoint('DELETE', '/orders/:id'),
      endpoint('PUT', '/items:batchUpdate'),
      endpoint('PATCH', '/orders/<int:id>'),
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
        'PATCH /orders/<int:id>',
      ]);
      assert.match(app, /@app\.get\("\/healthz"\)/);
      for (const e of endpoints)
        assert.ok(
          test.includes(`assert body["endpoint"] == ${JSON.stringify(e.path)}`),
          `test for ${e.method} ${e.path}`,
        );
      assert.equal(
        (test.match(/^def test_/gm) ?? []).length,
        endpoints.length + 3,
        'healthz + endpoints + the int parameter refusing a non-integer + config',
      );
      for (const e of endpoints)
        assert.ok(file(files, 'svc/README.md').includes(`| ${e.method} | \`${e.path}\` |`));
    });

    it('node/express: one route and one test per card endpoint, plus /healthz', () => {
      const files = renderService(card({ language: 'node', framework: 'express', endpoints }));
      const app = file(files, 'svc/src/app.ts');
      const rules = [...app.matchAll(/app\.(get|post|put|patch|delete)\("([^"]*)", placeholder/g)].map(
        (m) => `${m[1]!.toUpperCase()} ${m[2]}`,
      );
      assert.deepEqual(
        rules,
        [
          'GET /orders',
          'POST /orders',
          'PUT /items\\\\:batchUpdate',
          'PATCH /orders/:id',
          'GET /orders/:id',
          'DELETE /orders/:id',
        ],
        'routes without parameters first, then typed, then string parameters (see expressOrder)',
      );
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
          endpoints: [endpoint('GET', '/healthz'), endpoint('GET', '/a'), endpoint('GET', '/a')],
        }),
      );
      const app = file(files, 'svc/app.py');
      assert.equal((app.match(/"\/healthz"/g) ?? []).length, 1);
      assert.equal((app.match(/@app\.route\("\/a"/g) ?? []).length, 1);
    });

    it("renders every parameter style in each framework's syntax", () => {
      const routes = (path: string) => {
        const { segments, problems } = parseRoute(path);
        assert.deepEqual(problems, [], path);
        return [flaskRule(segments), expressRoute(segments)];
      };
      for (const [path, flask, express] of [
        ['/weather/<city>', '/weather/<city>', '/weather/:city'],
        ['/weather/{city}', '/weather/<city>', '/weather/:city'],
        ['/weather/:city', '/weather/<city>', '/weather/:city'],
        ['/weather/<string:city>', '/weather/<city>', '/weather/:city'],
        ['/orders/<int:id>', '/orders/<int:id>', '/orders/:id'],
        ['/prices/<float:amount>', '/prices/<float:amount>', '/prices/:amount'],
        ['/keys/<uuid:key>', '/keys/<uuid:key>', '/keys/:key'],
        ['/files/<path:rest>', '/files/<path:rest>', '/files/*rest'],
        ['/files/<path:rest>/meta', '/files/<path:rest>/meta', '/files/*rest/meta'],
        ['/files/:name.json', '/files/<name>.json', '/files/:name.json'],
        ['/v1/items{sku}x', '/v1/items<sku>x', '/v1/items:"sku"x'],
        ['/dl/<path:rest>x', '/dl/<path:rest>x', '/dl/*"rest"x'],
        ['/items:batchUpdate', '/items:batchUpdate', '/items\\:batchUpdate'],
        ['/a/{x}/b/:y/c/<int:z>', '/a/<x>/b/<y>/c/<int:z>', '/a/:x/b/:y/c/:z'],
      ])
        assert.deepEqual(routes(path!), [flask, express], path);
    });

    it('a typed parameter: Flask converts it natively, Express through convertParam in the handler', () => {
      const flask = renderService(card({ endpoints: [endpoint('GET', '/orders/<int:id>')] }));
      assert.match(file(flask, 'svc/app.py'), /@app\.route\("\/orders\/<int:id>", methods=\["GET"\]/);
      const express = renderService(
        card({ language: 'node', framework: 'express', endpoints: [endpoint('GET', '/orders/<int:id>')] }),
      );
      assert.ok(
        file(express, 'svc/src/app.ts').includes(
          `app.get("/orders/:id", placeholder("GET", "/orders/<int:id>", "", 200, { "id": "int" }));`,
        ),
      );
    });

    it("the Express service's convertParam converts and refuses values as Flask's converters do", () => {
      const files = renderService(card({ language: 'node', framework: 'express' }));
      const { outputText } = ts.transpileModule(file(files, 'svc/src/app.ts'), {
        compilerOptions: {
          module: ts.ModuleKind.CommonJS,
          target: ts.ScriptTarget.ES2022,
          esModuleInterop: true,
        },
      });
      const exports: { convertParam?: (type: string, raw: unknown) => unknown } = {};
      // The module imports express only for createApp, which this test does not call.
      new Function('require', 'exports', outputText)(() => ({}), exports);
      const convert = exports.convertParam!;
      assert.equal(convert('int', '42'), 42);
      assert.equal(convert('int', '007'), 7);
      for (const bad of ['x42', '-1', '4.2', '', '99999999999999999999'])
        assert.equal(convert('int', bad), undefined, bad);
      assert.equal(convert('float', '2.5'), 2.5);
      for (const bad of ['2', '.5', '2.', '-2.5', '1e3']) assert.equal(convert('float', bad), undefined, bad);
      assert.equal(
        convert('uuid', '123E4567-E89B-12D3-A456-426614174000'),
        '123e4567-e89b-12d3-a456-426614174000',
      );
      assert.equal(convert('uuid', 'not-a-uuid'), undefined);
      assert.equal(convert('path', ['a', 'b', 'c.txt']), 'a/b/c.txt');
      assert.equal(convert('path', 'one'), 'one');
      assert.equal(convert('string', 'london'), 'london');
      assert.equal(convert('string', ['a', 'b']), undefined);
      assert.equal(convert('int', undefined), undefined);
    });

    for (const [label, language, framework, testFile, callOf, paramsOf] of [
      [
        'python/flask',
        'python',
        'flask',
        'svc/tests/test_app.py',
        (url: string) => `make_client().open(${JSON.stringify(url)}, method="GET"`,
        (params: string) => `assert body["params"] == {${params}}`,
      ],
      [
        'node/express',
        'node',
        'express',
        'svc/test/app.test.ts',
        (url: string) => `await call("GET", ${JSON.stringify(url)}`,
        (params: string) => `assert.deepEqual(body["params"], { ${params} });`,
      ],
    ] as const) {
      it(`${label}: the generated tests request concrete values and check each reaches the response`, () => {
        const files = renderService(
          card({
            language,
            framework,
            endpoints: [
              endpoint('GET', '/weather/<city>'),
              endpoint('GET', '/orders/<int:id>'),
              endpoint('GET', '/a/{x}/b/:y/<float:f>/<uuid:u>/<path:rest>'),
            ],
          }),
        );
        const test = file(files, testFile);
        for (const [url, params] of [
          ['/weather/london', '"city": "london"'],
          ['/orders/42', '"id": 42'],
          [
            '/a/london/b/paris/2.5/123e4567-e89b-12d3-a456-426614174000/a/b/c.txt',
            '"x": "london", "y": "paris", "f": 2.5, "u": "123e4567-e89b-12d3-a456-426614174000", "rest": "a/b/c.txt"',
          ],
        ]) {
          assert.ok(test.includes(callOf(url!)), `requests ${url}`);
          assert.ok(test.includes(paramsOf(params!)), `checks ${params}`);
        }
        assert.ok(test.includes(callOf('/orders/x42')), 'requests a non-integer id');
        assert.ok(
          test.includes(callOf('/a/london/b/paris/2/123e4567-e89b-12d3-a456-426614174000/a/b/c.txt')),
          'requests a float without a fraction',
        );
        assert.ok(!test.includes(callOf('/weather/x42')), 'a string parameter takes any value');
      });
    }

    it('samples differ for each parameter; a mismatch spoils only the first convertible one', () => {
      const { segments } = parseRoute('/a/<x>/<y>/<int:n>/<int:m>/<uuid:u>');
      assert.deepEqual(sampleRequest(segments), {
        url: '/a/london/paris/42/43/123e4567-e89b-12d3-a456-426614174000',
        params: [
          { name: 'x', value: 'london' },
          { name: 'y', value: 'paris' },
          { name: 'n', value: 42 },
          { name: 'm', value: 43 },
          { name: 'u', value: '123e4567-e89b-12d3-a456-426614174000' },
        ],
      });
      assert.equal(mismatchedUrl(segments), '/a/london/paris/x42/42/123e4567-e89b-12d3-a456-426614174000');
      assert.equal(mismatchedUrl(parseRoute('/w/<city>/<path:rest>').segments), undefined);
    });

    it('node/express: tries routes from the most to the least specific, as Flask matches them', () => {
      const files = renderService(
        card({
          language: 'node',
          framework: 'express',
          endpoints: [
            endpoint('GET', '/files/<path:rest>'),
            endpoint('GET', '/orders/<name>'),
            endpoint('GET', '/orders/<a>/<int:b>'),
            endpoint('GET', '/orders/<int:id>'),
            endpoint('POST', '/orders/<name>'),
            endpoint('GET', '/orders/latest'),
          ],
        }),
      );
      const app = file(files, 'svc/src/app.ts');
      assert.deepEqual(
        [...app.matchAll(/app\.(get|post)\("[^"]*", placeholder\("[A-Z]+", "([^"]*)"/g)].map(
          (m) => `${m[1]} ${m[2]}`,
        ),
        [
          'get /orders/latest',
          'get /orders/<int:id>',
          'get /orders/<name>',
          'post /orders/<name>',
          'get /orders/<a>/<int:b>',
          'get /files/<path:rest>',
        ],
      );
    });

    it('one route per (method, literals, types), whatever the style and names; ids stay unique', () => {
      const c = card({
        endpoints: [
          endpoint('GET', '/orders/{id}'),
          endpoint('GET', '/orders/:other'),
          endpoint('GET', '/orders/<int:id>'),
          endpoint('DELETE', '/orders/<id>'),
        ],
      });
      assert.deepEqual(
        endpointsOf(c).map((e) => [e.method, e.path, e.id]),
        [
          ['GET', '/orders/{id}', 'get_orders_id'],
          ['GET', '/orders/<int:id>', 'get_orders_id_2'],
          ['DELETE', '/orders/<id>', 'delete_orders_id'],
        ],
      );
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
          endpoints: [endpoint('GET', '/a', HOSTILE)],
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
          endpoints: [endpoint('GET', '/a', HOSTILE)],
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
