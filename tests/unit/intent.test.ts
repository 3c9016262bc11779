import assert from 'node:assert/strict';
import { IntentError } from '../../tasks/CodeSynthesis/src/core/errors';
import { parseIntent } from '../../tasks/CodeSynthesis/src/core/intent';
import { WEATHER_CARD } from '../fakes/ports';

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
      endpoints: [{ method: 'GET', path: '/weather' }],
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
      { method: 'GET', path: '/orders' },
      { method: 'POST', path: '/orders' },
      { method: 'DELETE', path: '/orders/{id}', description: 'Cancel' },
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
});
