import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { IntentError } from '../../tasks/CodeSynthesis/src/core/errors';
import { describeIntent, parseIntent, type StackCard } from '../../tasks/CodeSynthesis/src/core/intent';
import { callEnvName, underPrefix } from '../../tasks/CodeSynthesis/src/core/stack-card';

const EXAMPLES = path.resolve(__dirname, '../../../examples');

function stackOf(text: string): StackCard {
  const intent = parseIntent(text);
  assert.equal(intent.kind, 'stack');
  return (intent as { stack: StackCard }).stack;
}

function problemsOf(text: string): string {
  try {
    parseIntent(text);
  } catch (e) {
    assert.ok(e instanceof IntentError, String(e));
    return e.describe();
  }
  return assert.fail('should throw');
}

/** The lines of `text` that are problems ("  - line N: ..."), in order. */
const problemLines = (text: string) => text.split('\n').filter((l) => l.startsWith('  - '));

const TWO = `stack:
  name: shop
  services:
    - name: weather
      language: python
      framework: flask
      endpoint: /weather
    - name: orders
      language: go
      framework: net-http
      endpoints: [GET /orders]
`;

describe('stack card', () => {
  it('parses examples/stack.yaml: services as service cards, namespace, gateway, env, calls', () => {
    const stack = stackOf(fs.readFileSync(path.join(EXAMPLES, 'stack.yaml'), 'utf8'));
    assert.equal(stack.name, 'shop');
    assert.equal(stack.description, 'Weather, orders and inventory behind one gateway');
    assert.deepEqual(
      stack.services.map((s) => [s.name, s.language, s.framework, s.port]),
      [
        ['weather', 'python', 'flask', 8080],
        ['orders', 'node', 'express', 3000],
        ['inventory', 'go', 'net-http', 8081],
      ],
    );
    assert.deepEqual(stack.services[1]!.env, [
      { name: 'ORDERS_DB_URL', secret: true, description: 'Connection string of the orders database' },
    ]);
    assert.deepEqual(stack.shared, {
      namespace: 'shop',
      gateway: {
        host: 'shop.example.com',
        className: 'nginx',
        routes: [
          { path: '/weather', service: 'weather' },
          { path: '/orders', service: 'orders' },
          { path: '/inventory', service: 'inventory' },
        ],
      },
      env: [{ service: 'inventory', name: 'LOG_LEVEL', value: 'debug' }],
      calls: [{ from: 'orders', to: 'inventory' }],
    });
  });

  it('needs only a name and services; the namespace defaults to the name; nothing else is invented', () => {
    const stack = stackOf(TWO);
    assert.deepEqual(stack.shared, { namespace: 'shop', env: [], calls: [] });
    assert.equal(stack.description, '');
    assert.equal(stack.services[0]!.endpoints[0]!.path, '/weather');
  });

  it('accepts the `- service: {...}` wrapper for an entry, parsed exactly as the bare form', () => {
    const wrapped = TWO.replace(
      '    - name: orders\n      language: go\n      framework: net-http\n      endpoints: [GET /orders]\n',
      '    - service:\n        name: orders\n        language: go\n        framework: net-http\n        endpoints: [GET /orders]\n',
    );
    assert.notEqual(wrapped, TWO);
    assert.deepEqual(stackOf(wrapped), stackOf(TWO));
  });

  it('describes itself for the log with each service and its stack', () => {
    assert.equal(
      describeIntent(parseIntent(TWO)),
      "stack card 'shop' (weather python/flask, orders go/net-http)",
    );
  });

  it('validates each service as a service card, naming its place in the list and its line', () => {
    const text = problemsOf(`stack:
  name: shop
  services:
    - name: weather
      language: python
      framework: flask
      colour: blue
    - name: orders
      language: go
      port: 70000
`);
    assert.match(text, /^Intent: the stack card has 3 problem\(s\):/);
    assert.deepEqual(problemLines(text), [
      "  - line 7: unknown field 'colour' (known: name, language, framework, description, endpoint, endpoints, port, dependencies, env).",
      "  - line 8: 'stack.services[1].framework' is required.",
      "  - line 10: 'stack.services[1].port' must be a whole number from 1 to 65535.",
    ]);
    assert.match(text, /See "Stack card" in the README/);
  });

  it('reports every problem of the services and the gateway with its line, all together and in line order', () => {
    const text = problemsOf(`stack:
  name: shop
  colour: red
  services:
    - name: weather
      language: python
      framework: flask
      port: 3000
      endpoint: /weather
    - name: orders
      language: node
      framework: express
      port: 3000
      endpoints: [GET /orders]
    - name: Weather
      language: go
      framework: net-http
    - name: k8s
      language: go
      framework: net-http
    - just text
  shared:
    namespace: Shop
    flavour: x
    gateway:
      host: Shop.Example.com
      className: -nginx
      routes:
        - { path: /weather, service: weather }
        - { path: /orders/, service: orders }
        - { path: /weather, service: orders }
        - { path: /billing, service: billing }
        - { path: /stock, service: orders }
        - { path: /a/../b, service: orders }
        - just text
`);
    assert.match(text, /^Intent: the stack card has 16 problem\(s\):/);
    assert.deepEqual(problemLines(text), [
      "  - line 3: unknown field 'colour' in stack (known: name, description, services, shared).",
      "  - line 13: service 'orders' gives port 3000, as 'weather' does (line 8): give each service its own port, or leave 'port' out.",
      "  - line 15: 'stack.services[2].name' must be lower-case letters, digits and '-', starting with a letter and not ending with '-' (got 'Weather').",
      "  - line 15: service name 'Weather' is used twice (also on line 5): names become folder names and DNS labels, so they must differ, also in letter case.",
      "  - line 18: 'k8s' is the folder of the stack's Kubernetes files: name the service otherwise.",
      "  - line 21: 'stack.services[4]' must be a mapping of service card fields (name, language, framework, ...).",
      "  - line 23: 'stack.shared.namespace' must be a Kubernetes namespace: lower-case letters, digits and '-', at most 63 (got 'Shop').",
      "  - line 24: unknown field 'flavour' in stack.shared (known: namespace, gateway, env, calls).",
      "  - line 26: 'stack.shared.gateway.host' must be a lower-case DNS name such as shop.example.com or *.example.com (got 'Shop.Example.com').",
      "  - line 27: 'stack.shared.gateway.className' must be the name of an IngressClass, such as nginx (got '-nginx').",
      "  - line 30: route path '/orders/' must be '/' or a prefix such as /orders or /api/v1: letters, digits, '-', '.', '_', '~' between single '/', no '/' at the end.",
      "  - line 31: route path '/weather' is listed twice (also on line 29).",
      "  - line 32: route '/billing' names service 'billing', which the stack does not have (services: weather, orders).",
      "  - line 33: route '/stock' leads to 'orders', none of whose endpoints (/orders) is under it: the gateway passes the path unchanged, so route a prefix the service serves.",
      "  - line 34: route path '/a/../b' must be '/' or a prefix such as /orders or /api/v1: letters, digits, '-', '.', '_', '~' between single '/', no '/' at the end.",
      '  - line 35: each route must be {path: /prefix, service: <service>}.',
    ]);
  });

  it('reports every problem of the environment and the calls with its line, all together and in line order', () => {
    const text = problemsOf(`stack:
  name: shop
  services:
    - name: weather
      language: python
      framework: flask
    - name: orders
      language: node
      framework: express
      env:
        - { name: WEATHER_URL, secret: true }
        - { name: DB_URL, secret: true }
  shared:
    env:
      orders: { PORT: 1, DB_URL: x, lower: y, LEVEL: [1] }
      ghost: { A: b }
      weather: text
    calls:
      - { from: orders, to: inventory }
      - { from: orders, to: orders }
      - { from: weather, to: orders }
      - { from: weather, to: orders }
      - { from: weather }
      - { from: orders, to: weather }
      - { from: weather, to: orders, via: http }
      - just text
`);
    assert.deepEqual(problemLines(text), [
      "  - line 15: 'stack.shared.env.orders.PORT': set the service's 'port' instead.",
      "  - line 15: 'stack.shared.env.orders.DB_URL' is a secret of 'orders': secrets never get a value in a card; they come from the environment or a Kubernetes Secret.",
      "  - line 15: 'stack.shared.env.orders': 'lower' must be UPPER_SNAKE_CASE.",
      "  - line 15: 'stack.shared.env.orders.LEVEL' must be a text, number or true/false value.",
      "  - line 16: 'stack.shared.env' names service 'ghost', which the stack does not have (services: weather, orders).",
      "  - line 17: 'stack.shared.env.weather' must map variable names to values.",
      "  - line 19: the call's 'to' names service 'inventory', which the stack does not have (services: weather, orders).",
      "  - line 20: service 'orders' cannot call itself.",
      "  - line 22: the call from 'weather' to 'orders' is listed twice.",
      "  - line 23: 'call.to' is required.",
      "  - line 24: service 'orders' declares 'WEATHER_URL' as a secret, but its call to 'weather' sets it to the URL of 'weather': make it a plain env entry, or remove it.",
      "  - line 25: unknown field 'via' in a call (known: from, to).",
      "  - line 25: the call from 'weather' to 'orders' is listed twice.",
      '  - line 26: each call must be {from: <service>, to: <service>}.',
    ]);
  });

  it('refuses a value for the variable a call sets, and a secret of that name, each with its line', () => {
    const text = problemsOf(`${TWO}  shared:
    calls:
      - { from: weather, to: orders }
    env:
      weather: { ORDERS_URL: http://elsewhere }
`);
    assert.deepEqual(problemLines(text), [
      "  - line 16: 'stack.shared.env.weather.ORDERS_URL' is set by the call from 'weather' to 'orders': remove it here.",
    ]);
  });

  it('refuses a gateway without routes, and a TLS secret without a host', () => {
    const text = problemsOf(`${TWO}  shared:
    gateway:
      tlsSecret: shop-tls
`);
    assert.deepEqual(problemLines(text), [
      "  - line 14: 'stack.shared.gateway.tlsSecret' needs 'stack.shared.gateway.host': a certificate is for a host name.",
      "  - line 14: 'stack.shared.gateway.routes' must be a list of one or more {path, service}.",
    ]);
  });

  it('takes a reference to a service whose name is refused as naming no service, without failing itself', () => {
    const text = problemsOf(`stack:
  name: shop
  services:
    - { name: Orders, language: go, framework: net-http, endpoint: /orders }
  shared:
    env: { orders: { A: b } }
    calls: [{ from: orders, to: orders }]
    gateway: { routes: [{ path: /orders, service: orders }] }
`);
    assert.match(text, /line 4: 'stack\.services\[0\]\.name' must be lower-case/);
    assert.match(text, /line 6: 'stack\.shared\.env' names service 'orders', which the stack does not have/);
    assert.match(text, /line 7: the call's 'from' names service 'orders'/);
    assert.match(text, /line 8: route '\/orders' names service 'orders'/);
  });

  it('needs a name and at least one service', () => {
    assert.deepEqual(problemLines(problemsOf('stack:\n  description: nothing\n')), [
      "  - line 2: 'stack.name' is required.",
      "  - line 2: 'stack.services' is required.",
    ]);
    assert.deepEqual(problemLines(problemsOf('stack:\n  name: shop\n  services: []\n')), [
      "  - line 3: 'stack.services' must be a list of one or more services (each like a service card).",
    ]);
  });

  it('tells a stack from a service card and from free text', () => {
    assert.throws(
      () => parseIntent('stack:\n  name: [\n'),
      (e: unknown) => e instanceof IntentError && /the stack card is not valid YAML/.test(e.message),
    );
    assert.throws(
      () => parseIntent('stack: shop\n'),
      (e: unknown) => e instanceof IntentError && /'stack' must be a mapping of fields/.test(e.message),
    );
    assert.throws(
      () => parseIntent(`${TWO}service:\n  name: x\n`),
      (e: unknown) => e instanceof IntentError && /either a 'service' or a 'stack', not both/.test(e.message),
    );
    assert.equal(parseIntent('Build a stack: three services behind a gateway.').kind, 'text');
  });

  it('routes whole path segments, as an Ingress Prefix path does', () => {
    assert.ok(underPrefix('/orders', '/orders'));
    assert.ok(underPrefix('/orders/{id}', '/orders'));
    assert.ok(underPrefix('/anything', '/'));
    assert.ok(!underPrefix('/orders-old', '/orders'));
    assert.ok(!underPrefix('/order', '/orders'));
  });

  it('names the variable of a call after the service called', () => {
    assert.equal(callEnvName('inventory'), 'INVENTORY_URL');
    assert.equal(callEnvName('price-list'), 'PRICE_LIST_URL');
  });
});
