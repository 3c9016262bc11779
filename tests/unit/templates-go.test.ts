import assert from 'node:assert/strict';
import { IntentError } from '../../tasks/CodeSynthesis/src/core/errors';
import type { ServiceCard } from '../../tasks/CodeSynthesis/src/core/intent';
import type { FileToWrite } from '../../tasks/CodeSynthesis/src/core/ports';
import { parseRoute } from '../../tasks/CodeSynthesis/src/core/route';
import { renderService } from '../../tasks/CodeSynthesis/src/core/templates';
import { endpointsOf, quote } from '../../tasks/CodeSynthesis/src/core/templates/common';
import { goRegistrations, goRoute } from '../../tasks/CodeSynthesis/src/core/templates/go-routes';
import { endpoint } from '../support/endpoint';

const HOSTILE =
  'Evil """ \'\'\' */ ${process.exit(1)} `id` \\ \n__import__("os").system("id")\u2028 \u{1F600} </script> | x';

function card(overrides: Partial<ServiceCard>): ServiceCard {
  return {
    name: 'svc',
    language: 'go',
    framework: 'net-http',
    description: '',
    port: 8080,
    endpoints: [endpoint('GET', '/items')],
    dependencies: [],
    env: [],
    ...overrides,
  };
}
const file = (files: FileToWrite[], p: string): string => {
  const found = files.find((f) => f.path === p);
  assert.ok(found, `expected ${p} among ${files.map((f) => f.path).join(', ')}`);
  return found.content;
};
/** The `mux.Handle(pattern, route(...))` registrations of handlers.go: pattern -> the endpoints' paths, in order. */
function registrations(handlers: string): [string, string[]][] {
  return [
    ...handlers.matchAll(/^\tmux\.Handle\("([^"]*)", route\(\n((?:\t\tendpoint\{.*\},\n)+)\t\)\)$/gm),
  ].map((m) => [m[1]!, [...m[2]!.matchAll(/Path: "([^"]*)"/g)].map((p) => p[1]!)]);
}

describe('go/net-http template', () => {
  describe('ServeMux patterns', () => {
    it('renders every parameter style as a Go 1.22 pattern; what a pattern cannot say, as a regexp on one wildcard', () => {
      for (const [path, pattern, captures] of [
        ['/weather/<city>', 'GET /weather/{city}', [['city', undefined, 'city:string']]],
        ['/weather/{city}', 'GET /weather/{city}', [['city', undefined, 'city:string']]],
        ['/weather/:city', 'GET /weather/{city}', [['city', undefined, 'city:string']]],
        ['/orders/<int:id>', 'GET /orders/{id}', [['id', undefined, 'id:int']]],
        ['/prices/<float:amount>', 'GET /prices/{amount}', [['amount', undefined, 'amount:float']]],
        ['/keys/<uuid:key>', 'GET /keys/{key}', [['key', undefined, 'key:uuid']]],
        ['/files/<path:rest>', 'GET /files/{rest...}', [['rest', undefined, 'rest:path']]],
        ['/files/<path:rest>/meta', 'GET /files/{rest...}', [['rest', '^([^/].*?)/meta$', 'rest:path']]],
        ['/dl/<path:rest>x', 'GET /dl/{rest...}', [['rest', '^([^/].*?)x$', 'rest:path']]],
        ['/files/:name.json', 'GET /files/{name}', [['name', '^([^/]+)\\.json$', 'name:string']]],
        ['/v1/items{sku}x', 'GET /v1/{sku}', [['sku', '^items([^/]+)x$', 'sku:string']]],
        ['/p/<int:a>-<float:b>', 'GET /p/{a}', [['a', '^([0-9]+)-([0-9]+\\.[0-9]+)$', 'a:int b:float']]],
        ['/items:batchUpdate', 'GET /items:batchUpdate', []],
        ['/', 'GET /{$}', []],
        ['/orders/', 'GET /orders/{$}', []],
        [
          '/a/{x}/b/:y/c/<int:z>',
          'GET /a/{x}/b/{y}/c/{z}',
          [
            ['x', undefined, 'x:string'],
            ['y', undefined, 'y:string'],
            ['z', undefined, 'z:int'],
          ],
        ],
      ] as const) {
        const route = goRoute('GET', parseRoute(path).segments);
        assert.equal(route.pattern, pattern, path);
        assert.deepEqual(
          route.captures.map((c) => [
            c.wildcard,
            c.regexp,
            c.params.map((p) => `${p.name}:${p.type}`).join(' '),
          ]),
          captures,
          path,
        );
      }
    });

    it('the regexps match as Flask would: a path is at least one character, lazily; literals are literal', () => {
      const regexp = (path: string) =>
        new RegExp(goRoute('GET', parseRoute(path).segments).captures[0]!.regexp!);
      assert.deepEqual(regexp('/files/<path:rest>/meta').exec('a/b/meta')?.slice(1), ['a/b']);
      assert.equal(regexp('/files/<path:rest>/meta').exec('/meta'), null);
      assert.deepEqual(regexp('/files/:name.json').exec('a.b.json')?.slice(1), ['a.b']);
      assert.equal(regexp('/files/:name.json').exec('axjson'), null, 'the . is literal');
      assert.deepEqual(regexp('/p/<int:a>-<float:b>').exec('4-2.5')?.slice(1), ['4', '2.5']);
      assert.equal(regexp('/p/<int:a>-<float:b>').exec('4-2'), null);
    });

    it('endpoints whose patterns differ only in names share one registration, the most specific first', () => {
      const files = renderService(
        card({
          endpoints: [
            endpoint('GET', '/orders/<name>'),
            endpoint('GET', '/files/<other>'),
            endpoint('GET', '/orders/<int:id>'),
            endpoint('GET', '/files/:name.json'),
            endpoint('GET', '/orders/<path:rest>'),
            endpoint('GET', '/orders/latest'),
            endpoint('DELETE', '/orders/<int:id>'),
          ],
        }),
      );
      const handlers = file(files, 'svc/handlers.go');
      assert.deepEqual(registrations(handlers), [
        ['GET /orders/{name}', ['/orders/<int:id>', '/orders/<name>']],
        ['GET /files/{other}', ['/files/:name.json', '/files/<other>']],
        ['GET /orders/{rest...}', ['/orders/<path:rest>']],
        ['GET /orders/latest', ['/orders/latest']],
        ['DELETE /orders/{id}', ['/orders/<int:id>']],
      ]);
      assert.ok(
        handlers.includes(
          `endpoint{Method: "GET", Path: "/orders/<int:id>", Status: http.StatusOK, Captures: []capture{{Wildcard: "name", Params: []param{{"id", "int"}}}}},`,
        ),
        'a member reads the shared wildcard by its position, under its own parameter name',
      );
      assert.ok(
        handlers.includes(
          'Captures: []capture{{Wildcard: "other", Pattern: regexp.MustCompile(`^([^/]+)\\.json$`), Params: []param{{"name", "string"}}}}',
        ),
      );
      assert.match(handlers, /^\tmux\.HandleFunc\("GET \/healthz", /m);
    });

    it('refuses endpoints whose patterns ServeMux would refuse to register together, naming both', () => {
      for (const [a, b] of [
        ['/a/{x}/c', '/a/b/{y}'],
        ['/{x}/b', '/a/<path:rest>'],
        ['/healthz/<path:rest>', '/<name>/x'],
      ])
        assert.throws(
          () => renderService(card({ endpoints: [endpoint('GET', a!), endpoint('GET', b!)] })),
          (e: unknown) =>
            e instanceof IntentError &&
            e.message.includes(`endpoints 'GET ${a}' and 'GET ${b}' conflict in Go's ServeMux`) &&
            /azureOpenAI or openAICompatible/.test(e.describe()),
          `${a} ${b}`,
        );
      // Different methods, and patterns of which one is more specific, are fine.
      for (const [a, b] of [
        ['GET /a/{x}/c', 'POST /a/b/{y}'],
        ['GET /orders/latest', 'GET /orders/{id}'],
        ['GET /orders/{id}', 'GET /orders/<path:rest>'],
        ['GET /a/<path:rest>', 'GET /a/b/{y}'],
        ['GET /', 'GET /{x}'],
        ['GET /a/', 'GET /a/<path:rest>'],
        ['GET /<name>', 'GET /healthz/'],
      ]) {
        const [m1, p1] = a!.split(' ');
        const [m2, p2] = b!.split(' ');
        const { problems } = goRegistrations(
          endpointsOf(card({ endpoints: [endpoint(m1!, p1!), endpoint(m2!, p2!)] })),
        );
        assert.deepEqual(problems, [], `${a} ${b}`);
      }
    });

    it('refuses paths ServeMux never matches (it cleans request paths) and module dependencies', () => {
      assert.throws(
        () =>
          renderService(
            card({
              endpoints: [endpoint('GET', '/a//b'), endpoint('GET', '/a/./b'), endpoint('GET', '/a/../b')],
              dependencies: ['github.com/google/uuid@v1.6.0'],
            }),
          ),
        (e: unknown) =>
          e instanceof IntentError &&
          e.message.includes("'GET /a//b': it has an empty segment ('//')") &&
          e.message.includes("'GET /a/./b': it has a '.' segment") &&
          e.message.includes("'GET /a/../b': it has a '..' segment") &&
          e.message.includes('go.sum') &&
          e.message.includes("'github.com/google/uuid@v1.6.0'"),
      );
    });
  });

  describe('files', () => {
    it('a module on the standard library alone, for Go 1.22 or later', () => {
      const files = renderService(card({ name: 'weather-api' }));
      assert.equal(file(files, 'weather-api/go.mod'), 'module weather-api\n\ngo 1.22\n');
      for (const f of files.filter((f) => f.path.endsWith('.go'))) {
        const imports = /^import \(\n((?:\t"[^"]+"\n)+)\)$/m.exec(f.content)?.[1] ?? '';
        for (const [, pkg] of imports.matchAll(/"([^"]+)"/g))
          assert.ok(!pkg!.includes('.'), `${f.path} imports only the standard library (${pkg})`);
        assert.ok(
          f.content.split('\n').every((line) => !/^ /.test(line) && !/[ \t]$/.test(line)),
          `${f.path}: tabs for indentation, no trailing blanks, as gofmt writes`,
        );
      }
    });

    it('tests every endpoint with concrete values, and each typed one with a value that does not fit', () => {
      const files = renderService(
        card({
          endpoints: [
            endpoint('GET', '/weather/<city>'),
            endpoint('POST', '/orders'),
            endpoint('GET', '/orders/<int:id>'),
            endpoint('GET', '/a/{x}/<float:f>/<uuid:u>/<path:rest>'),
          ],
        }),
      );
      const test = file(files, 'svc/main_test.go');
      assert.deepEqual(
        [...test.matchAll(/^func (Test\w+)\(t \*testing\.T\) \{$/gm)].map((m) => m[1]),
        [
          'TestHealthz',
          'Test_get_weather_city',
          'Test_post_orders',
          'Test_get_orders_id',
          'Test_get_orders_id_refuses_a_value_its_type_does_not_match',
          'Test_get_a_x_f_u_rest',
          'Test_get_a_x_f_u_rest_refuses_a_value_its_type_does_not_match',
          'TestConfigComesFromTheEnvironmentWithTheCardDefaults',
        ],
      );
      for (const [call, params] of [
        ['call(t, "GET", "/weather/london", "")', '"{\\"city\\":\\"london\\"}"'],
        ['call(t, "POST", "/orders", "{\\"example\\":true}")', '"{}"'],
        ['call(t, "GET", "/orders/42", "")', '"{\\"id\\":42}"'],
        [
          'call(t, "GET", "/a/london/2.5/123e4567-e89b-12d3-a456-426614174000/a/b/c.txt", "")',
          '"{\\"x\\":\\"london\\",\\"f\\":2.5,\\"u\\":\\"123e4567-e89b-12d3-a456-426614174000\\",\\"rest\\":\\"a/b/c.txt\\"}"',
        ],
      ]) {
        assert.ok(test.includes(call!), call);
        assert.ok(test.includes(`, ${params})\n`), params);
      }
      assert.ok(test.includes('call(t, "GET", "/orders/x42", "")'));
      assert.ok(
        test.includes('call(t, "GET", "/a/london/2/123e4567-e89b-12d3-a456-426614174000/a/b/c.txt", "")'),
      );
    });

    it('configuration: settings keep their defaults, secrets have none, PORT defaults to the card port', () => {
      const files = renderService(
        card({
          port: 5005,
          env: [
            { name: 'LOG_LEVEL', default: 'info', secret: false },
            { name: 'PLAIN', secret: false },
            { name: 'DB_PASSWORD', secret: true },
            { name: 'PORT', default: '1', secret: false },
          ],
        }),
      );
      const config = file(files, 'svc/config.go');
      assert.match(config, /^const DefaultPort = 5005$/m);
      assert.match(
        config,
        /^var settingDefaults = \[\]struct\{ Name, Default string \}\{\n\t\{"LOG_LEVEL", "info"\},\n\t\{"PLAIN", ""\},\n\}$/m,
      );
      assert.match(config, /^var secretNames = \[\]string\{\n\t"DB_PASSWORD",\n\}$/m);
      assert.match(file(files, 'svc/main_test.go'), /\[\]string\{"DB_PASSWORD"\}/);
      const none = file(renderService(card({})), 'svc/config.go');
      assert.match(none, /^var settingDefaults = \[\]struct\{ Name, Default string \}\{\}$/m);
      assert.match(none, /^var secretNames = \[\]string\{\}$/m);
    });

    it('card text stays inside Go string literals: every file is printable ASCII', () => {
      const files = renderService(
        card({
          description: HOSTILE,
          endpoints: [endpoint('GET', '/a', HOSTILE)],
          env: [{ name: 'GREETING', default: HOSTILE, secret: false }],
        }),
      );
      for (const f of files.filter((f) => f.path.endsWith('.go')))
        assert.ok(/^[\x20-\x7e\n\t]*$/.test(f.content), `${f.path} is printable ASCII`);
      const literal = quote(HOSTILE, 'py');
      assert.ok(file(files, 'svc/handlers.go').includes(`Description: ${literal}, `));
      assert.ok(file(files, 'svc/config.go').includes(`{"GREETING", ${literal}},`));
      assert.ok(!file(files, 'svc/handlers.go').includes('system("id")\n'));
    });

    it('builds a static binary into a distroless image that runs as its nonroot user', () => {
      const docker = file(renderService(card({ port: 9000 })), 'svc/Dockerfile');
      assert.match(docker, /^FROM golang:[\d.]+-alpine AS build$/m);
      assert.match(docker, /^RUN CGO_ENABLED=0 go build /m);
      assert.match(docker, /^FROM gcr\.io\/distroless\/static-debian12:nonroot$/m);
      assert.match(docker, /^USER 65532$/m);
      assert.match(docker, /^ENV PORT=9000$/m);
    });
  });
});
