import assert from 'node:assert/strict';
import { IntentError } from '../../tasks/CodeSynthesis/src/core/errors';
import { parseIntent } from '../../tasks/CodeSynthesis/src/core/intent';
import { WEATHER_CARD } from '../fakes/ports';

const literal = (text: string) => ({ kind: 'literal', text });
const param = (name: string, type = 'string') => ({ kind: 'param', name, type });
const cardWith = (endpoints: string) =>
  `service:\n  name: weather-api\n  language: python\n  framework: flask\n${endpoints}`;

function endpointsOf(text: string): unknown {
  const intent = parseIntent(text);
  assert.equal(intent.kind, 'card');
  return intent.kind === 'card' ? intent.card.endpoints : undefined;
}

function problemsOf(text: string): string {
  try {
    parseIntent(text);
  } catch (e) {
    assert.ok(e instanceof IntentError);
    return e.describe();
  }
  return assert.fail('should throw');
}

function rejects(text: string, pattern: RegExp): void {
  assert.throws(
    () => parseIntent(text),
    (e: unknown) => e instanceof IntentError && pattern.test(e.describe()),
  );
}

describe('intent', () => {
  it('parses the seed weather card', () => {
    const intent = parseIntent(WEATHER_CARD);
    assert.equal(intent.kind, 'card');
    if (intent.kind !== 'card') return;
    assert.deepEqual(intent.card, {
      name: 'weather',
      language: 'python',
      framework: 'flask',
      description: 'Returns the current weather for a city',
      port: 8080,
      endpoints: [{ method: 'GET', path: '/weather', segments: [{ kind: 'literal', text: '/weather' }] }],
      dependencies: [],
      env: [],
    });
  });

  it('parses a full card: several endpoints, port, dependencies, env', () => {
    const intent = parseIntent(`service:
  name: orders
  language: TypeScript
  framework: express
  port: 3000
  endpoints:
    - GET /orders
    - POST /orders
    - { method: delete, path: "/orders/{id}", description: Cancel }
  dependencies: [zod@3.23.8]
  env:
    - { name: DB_URL, secret: true }
    - { name: LOG_LEVEL, default: info }
`);
    assert.equal(intent.kind, 'card');
    if (intent.kind !== 'card') return;
    assert.equal(intent.card.language, 'typescript');
    assert.equal(intent.card.port, 3000);
    assert.deepEqual(intent.card.endpoints, [
      { method: 'GET', path: '/orders', segments: [literal('/orders')] },
      { method: 'POST', path: '/orders', segments: [literal('/orders')] },
      {
        method: 'DELETE',
        path: '/orders/{id}',
        segments: [literal('/orders/'), param('id')],
        description: 'Cancel',
      },
    ]);
    assert.deepEqual(intent.card.dependencies, ['zod@3.23.8']);
    assert.deepEqual(intent.card.env, [
      { name: 'DB_URL', secret: true },
      { name: 'LOG_LEVEL', secret: false, default: 'info' },
    ]);
  });

  it('passes free text through', () => {
    assert.deepEqual(parseIntent('  A REST API that returns the weather.\n'), {
      kind: 'text',
      text: 'A REST API that returns the weather.',
    });
    assert.equal(parseIntent('Build: a thing: with colons').kind, 'text');
  });

  it('rejects an empty intent', () => rejects(' \n ', /empty/));

  it('gives the line of broken YAML in a card', () => rejects('service:\n  name: a\n   bad: [\n', /line \d/));

  it('reports every card problem with its line', () => {
    try {
      parseIntent(
        'service:\n  name: Bad_Name\n  language: python\n  colour: blue\n  port: 99999\n  endpoint: FETCH /x\n',
      );
      assert.fail('should throw');
    } catch (e) {
      assert.ok(e instanceof IntentError);
      const text = e.describe();
      assert.match(text, /5 problem/);
      assert.match(text, /line 2: 'service.name'/);
      assert.match(text, /'service.framework' is required/);
      assert.match(text, /line 4: unknown field 'colour'/);
      assert.match(text, /line 5: 'service.port'/);
      assert.match(text, /line 6: endpoint 'FETCH \/x'/);
      // Each problem ends with a full stop; the hint starts on a line of its own.
      assert.match(text, /\.\nSee "Service card" in the README/);
      assert.equal(text.split('\n  - ').length - 1, 5);
    }
  });

  it('rejects a secret env entry with a default', () =>
    rejects(
      'service:\n  name: a\n  language: node\n  framework: express\n  env:\n    - {name: KEY, secret: true, default: x}\n',
      /secret and must not have a default/,
    ));

  it('rejects a service that is not a mapping', () => rejects('service: weather\n', /must be a mapping/));

  it('rejects duplicate keys', () => rejects('service:\n  name: a\n  name: b\n', /not valid YAML/));

  describe('path parameters', () => {
    it('reads the OpenAPI, Express and Flask styles into one form', () => {
      for (const path of ['/weather/<city>', '/weather/{city}', '/weather/:city', '/weather/<string:city>'])
        assert.deepEqual(
          endpointsOf(cardWith(`  endpoint: ${path}\n`)),
          [{ method: 'GET', path, segments: [literal('/weather/'), param('city')] }],
          path,
        );
    });

    it("reads the issue's one-line card in each style (braces quoted, as YAML flow mappings need)", () => {
      for (const endpoint of ['/weather/<city>', '/weather/:city', '"/weather/{city}"'])
        assert.deepEqual(
          endpointsOf(
            `service: {name: weather-api, language: python, framework: flask, endpoint: ${endpoint}}`,
          ),
          [
            {
              method: 'GET',
              path: endpoint.replace(/"/g, ''),
              segments: [literal('/weather/'), param('city')],
            },
          ],
          endpoint,
        );
    });

    it('reads the Flask types int, float, path and uuid, and keeps the path as written', () => {
      assert.deepEqual(
        endpointsOf(
          cardWith(
            '  endpoints:\n' +
              '    - GET /orders/<int:id>\n' +
              '    - PUT /prices/<float:amount>/<uuid:key>\n' +
              '    - { method: GET, path: /files/<path:rest> }\n',
          ),
        ),
        [
          { method: 'GET', path: '/orders/<int:id>', segments: [literal('/orders/'), param('id', 'int')] },
          {
            method: 'PUT',
            path: '/prices/<float:amount>/<uuid:key>',
            segments: [literal('/prices/'), param('amount', 'float'), literal('/'), param('key', 'uuid')],
          },
          {
            method: 'GET',
            path: '/files/<path:rest>',
            segments: [literal('/files/'), param('rest', 'path')],
          },
        ],
      );
    });

    it('reads parameters inside a segment; a colon inside a segment is literal', () => {
      assert.deepEqual(
        endpointsOf(
          cardWith(
            '  endpoints:\n    - /v1/items{sku}x\n    - /files/:name.json\n    - { method: POST, path: /items:batchGet }\n',
          ),
        ),
        [
          {
            method: 'GET',
            path: '/v1/items{sku}x',
            segments: [literal('/v1/items'), param('sku'), literal('x')],
          },
          {
            method: 'GET',
            path: '/files/:name.json',
            segments: [literal('/files/'), param('name'), literal('.json')],
          },
          { method: 'POST', path: '/items:batchGet', segments: [literal('/items:batchGet')] },
        ],
      );
    });

    it('reports every malformed parameter with its line', () => {
      const text = problemsOf(
        cardWith(
          '  endpoints:\n' +
            '    - /weather/{\n' +
            '    - /a/<>\n' +
            '    - /a/{x}/b/<int:x>\n' +
            '    - /a/<str:x>\n' +
            '    - /a/<1x>\n' +
            '    - /a/}\n' +
            '    - "/a/:"\n' +
            '    - /a/{id:int}\n' +
            '    - method: GET\n' +
            '      path: /a/<int:id\n' +
            '    - /a/b"c\n',
        ),
      );
      assert.match(text, /10 problem/);
      assert.match(text, /line 6: endpoint '\/weather\/\{': '\{' at character 10 has no closing '\}'/);
      assert.match(text, /line 7: endpoint '\/a\/<>': '<>' names no parameter/);
      assert.match(text, /line 8: endpoint '\/a\/\{x\}\/b\/<int:x>': parameter 'x' appears more than once/);
      assert.match(
        text,
        /line 9: endpoint '\/a\/<str:x>': parameter '<str:x>' has unknown type 'str' \(known: string, int, float, path, uuid\)/,
      );
      assert.match(
        text,
        /line 10: endpoint '\/a\/<1x>': parameter '<1x>': the name '1x' must be an identifier/,
      );
      assert.match(text, /line 11: endpoint '\/a\/\}': '\}' at character 4 has no opening '\{'/);
      assert.match(
        text,
        /line 12: endpoint '\/a\/:': ':' at character 4 starts a parameter and must be followed by its name/,
      );
      assert.match(
        text,
        /line 13: endpoint '\/a\/\{id:int\}': parameter '\{id:int\}': write a typed parameter as '<type:name>'/,
      );
      assert.match(text, /line 15: endpoint '\/a\/<int:id': '<' at character 4 has no closing '>'/);
      assert.match(text, /line 16: endpoint '\/a\/b"c': "\\"" may not appear in a path/);
    });
  });
});
