/**
 * The offline templates' output really works: each example (and a card full of awkward paths and
 * hostile text) is rendered to a temp dir, then the node/express services are installed from the npm
 * registry and run their own `npm test`, and the python/flask services are byte-compiled (and run
 * their pytest suite when Flask and pytest happen to be importable; PyPI is not reachable here).
 * The go/net-http services pass gofmt, go vet and their own go test with Go 1.22 or later (skipped,
 * saying why, without one; CODE_SYNTHESIS_REQUIRE_GO=1, set by .ci/run, makes that a failure). The
 * csharp/aspnetcore services run `dotnet test` only where a .NET SDK is on PATH (none is installable
 * here); everywhere, their C# is parsed and their projects, references and Dockerfile checked on disk.
 * Set CODE_SYNTHESIS_SKIP_NETWORK_E2E=1 to skip the parts that need the npm registry.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { parseIntent, type ServiceCard } from '../../tasks/CodeSynthesis/src/core/intent';
import { renderService } from '../../tasks/CodeSynthesis/src/core/templates';
import { parseCSharp } from '../support/csharp';
import { endpoint } from '../support/endpoint';
import { findGo, run, succeeds } from '../support/toolchain';

const EXAMPLES = path.resolve(__dirname, '../../../examples');
const SKIP_NETWORK = process.env['CODE_SYNTHESIS_SKIP_NETWORK_E2E'] === '1';
const HOSTILE =
  'Evil """ \'\'\' */ ${process.exit(1)} `id` \\ \n__import__("os").system("id")\u2028 \u{1F600} </script>';

function cardFile(name: string): ServiceCard {
  const intent = parseIntent(fs.readFileSync(path.join(EXAMPLES, name), 'utf8'));
  assert.equal(intent.kind, 'card');
  return (intent as { card: ServiceCard }).card;
}

/** Paths and text that stress routing and escaping; the generated tests must still pass. */
function edgeCard(language: string, framework: string, dependencies: string[]): ServiceCard {
  return {
    name: 'edge-case',
    language,
    framework,
    description: HOSTILE,
    port: 5001,
    endpoints: [
      endpoint('GET', '/'),
      endpoint('GET', '/a/{id}/b/<name>'),
      endpoint('GET', '/files/:name.json'),
      endpoint('POST', '/v1/items{sku}x', HOSTILE),
      endpoint('PUT', '/items:batchUpdate'),
      endpoint('DELETE', '/orders/:id'),
      endpoint('GET', '/healthz'),
      // Listed from the least to the most specific: Express must still try them as Flask does.
      endpoint('GET', '/orders/<path:rest>'),
      endpoint('GET', '/orders/<name>'),
      endpoint('GET', '/orders/<int:id>'),
      endpoint('GET', '/orders/latest'),
      endpoint('PATCH', '/prices/<float:amount>/<int:qty>'),
      endpoint('GET', '/keys/<uuid:key>'),
      endpoint('GET', '/dl/<path:rest>x'),
    ],
    dependencies,
    env: [
      { name: 'GREETING', default: HOSTILE, secret: false },
      { name: 'API_TOKEN', secret: true },
      { name: 'EMPTY_SETTING', secret: false },
    ],
  };
}

/** The card of the acceptance test, through parseIntent as a user would write it. */
function styleCard(language: string, framework: string, path: string): ServiceCard {
  const text = `service:\n  name: weather-api\n  language: ${language}\n  framework: ${framework}\n  endpoint: ${path}\n`;
  const intent = parseIntent(text);
  assert.equal(intent.kind, 'card');
  return (intent as { card: ServiceCard }).card;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function writeTree(root: string, card: ServiceCard): string {
  for (const f of renderService(card)) {
    const target = path.join(root, ...f.path.split('/'));
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, f.content);
  }
  return path.join(root, card.name);
}

function pyFiles(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((p) => p.endsWith('.py'));
}

describe('offline templates end to end: generated services build and pass their own tests', function () {
  this.timeout(180_000);
  let root = '';
  let python: { present: boolean; flask: boolean } = { present: false, flask: false };
  let go: { go?: string; reason: string } = { reason: 'not looked for yet' };
  let dotnet = false;

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-offline-e2e-'));
    const present = (await run('python3', ['--version'], root, 10_000)).code === 0;
    const flask = present && (await run('python3', ['-c', 'import flask, pytest'], root, 20_000)).code === 0;
    python = { present, flask };
    go = await findGo(root);
    dotnet = (await run('dotnet', ['--version'], root, 20_000)).code === 0;
  });

  after(() => {
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  /** A case; `calls` names the concrete request the generated tests must make and the tests that must pass. */
  type Case = [label: string, makeCard: () => ServiceCard, calls?: { url: string; tests: string[] }];
  const weatherCalls = { url: '/weather/london', tests: ['test_get_weather_city'] };
  const pythonCases: Case[] = [
    ['examples/weather.yaml', () => cardFile('weather.yaml')],
    [
      'a card with endpoint /weather/<city>',
      () => styleCard('python', 'flask', '/weather/<city>'),
      weatherCalls,
    ],
    [
      'a card with endpoint /weather/{city}',
      () => styleCard('python', 'flask', '/weather/{city}'),
      weatherCalls,
    ],
    [
      'a card with endpoint /weather/:city',
      () => styleCard('python', 'flask', '/weather/:city'),
      weatherCalls,
    ],
    [
      'a card with endpoint /orders/<int:id>',
      () => styleCard('python', 'flask', '/orders/<int:id>'),
      {
        url: '/orders/42',
        tests: ['test_get_orders_id', 'test_get_orders_id_refuses_a_value_its_converter_does_not_match'],
      },
    ],
    [
      'a card with awkward paths and hostile text',
      () => edgeCard('python', 'flask', ['requests==2.32.3', 'flask']),
    ],
  ];
  for (const [label, makeCard, calls] of pythonCases) {
    describe(`python/flask: ${label}`, () => {
      let dir = '';
      let card: ServiceCard;
      before(function () {
        if (!python.present) {
          console.log('      skipped: python3 is not on PATH');
          this.skip();
        }
        card = makeCard();
        dir = writeTree(fs.mkdtempSync(path.join(root, 'py-')), card);
      });

      it('byte-compiles every .py file', async () => {
        const files = pyFiles(dir);
        assert.ok(
          files.includes('app.py') && files.includes(path.join('tests', 'test_app.py')),
          files.join(', '),
        );
        await succeeds('python3', ['-m', 'py_compile', ...files], dir);
      });

      it('keeps card text in string constants: no call the card did not come from the template', async () => {
        const script = [
          'import ast, json, sys',
          'tree = ast.parse(open("app.py", encoding="utf-8").read())',
          'strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]',
          'calls = sorted({getattr(n.func, "attr", getattr(n.func, "id", "")) for n in ast.walk(tree) if isinstance(n, ast.Call)})',
          'json.dump({"strings": strings, "calls": calls}, sys.stdout)',
        ].join('\n');
        const { stdout } = await succeeds('python3', ['-c', script], dir);
        const { strings, calls } = JSON.parse(stdout) as { strings: string[]; calls: string[] };
        assert.ok(!calls.includes('system') && !calls.includes('__import__'), calls.join(', '));
        if (label.includes('hostile'))
          assert.ok(strings.includes(HOSTILE), 'the hostile text is one string constant');
        else assert.ok(strings.includes(card.endpoints[0]!.path), 'the path as the card wrote it');
      });

      it('passes its own pytest suite (when Flask and pytest are importable)', async function () {
        if (!python.flask) {
          console.log(
            '      skipped: Flask or pytest is not importable (PyPI is not reachable to install them)',
          );
          this.skip();
        }
        const { output } = await succeeds('python3', ['-m', 'pytest', '-v', '-p', 'no:cacheprovider'], dir);
        assert.match(output, /\d+ passed/);
        assert.doesNotMatch(output, /failed|error/i);
        if (calls) {
          const tests = fs.readFileSync(path.join(dir, 'tests', 'test_app.py'), 'utf8');
          assert.ok(tests.includes(`open(${JSON.stringify(calls.url)}, `), `the tests request ${calls.url}`);
          for (const name of calls.tests) assert.match(output, new RegExp(`::${name} PASSED`), name);
        }
      });
    });
  }

  const nodeCases: Case[] = [
    ['examples/orders-node.yaml', () => cardFile('orders-node.yaml')],
    [
      'a card with endpoint /orders/<int:id>',
      () => styleCard('node', 'express', '/orders/<int:id>'),
      {
        url: '/orders/42',
        tests: [
          'GET /orders/<int:id> answers with its placeholder',
          'GET /orders/<int:id> refuses /orders/x42',
        ],
      },
    ],
    ['a card with awkward paths and hostile text', () => edgeCard('typescript', 'express', ['zod@3.24.1'])],
  ];
  for (const [label, makeCard, calls] of nodeCases) {
    describe(`node/express: ${label}`, () => {
      it('installs from the npm registry and passes its own npm test', async function () {
        if (SKIP_NETWORK) {
          console.log(
            '      skipped: CODE_SYNTHESIS_SKIP_NETWORK_E2E=1 (npm install needs the npm registry)',
          );
          this.skip();
        }
        const card = makeCard();
        const dir = writeTree(fs.mkdtempSync(path.join(root, 'node-')), card);
        await succeeds('npm', ['install', '--no-audit', '--no-fund'], dir);
        const { output } = await succeeds('npm', ['test'], dir);
        const tests = /^(?:#|ℹ) tests (\d+)$/m.exec(output);
        const endpoints = new Set(
          card.endpoints.map((e) => `${e.method} ${e.path}`).filter((k) => k !== 'GET /healthz'),
        ).size;
        assert.ok(
          tests && Number(tests[1]) >= endpoints + 2,
          `one test per endpoint plus health and config:\n${output}`,
        );
        assert.match(output, /^(?:#|ℹ) fail 0$/m); // node:test prints "# fail" on Node 20, "ℹ fail" on Node 24
        if (calls) {
          const tests = fs.readFileSync(path.join(dir, 'test', 'app.test.ts'), 'utf8');
          assert.ok(
            tests.includes(`call("GET", ${JSON.stringify(calls.url)}`),
            `the tests request ${calls.url}`,
          );
          // TAP ("ok 2 - name", Node 20) or the spec reporter ("✔ name", Node 24).
          for (const name of calls.tests)
            assert.match(output, new RegExp(`^\\s*(?:ok \\d+ - |✔ )${escapeRegExp(name)}`, 'm'), name);
        }
      });
    });
  }
  const goCases: Case[] = [
    [
      'examples/orders-go.yaml',
      () => cardFile('orders-go.yaml'),
      {
        url: '/orders/42',
        tests: [
          'Test_get_orders_id',
          'Test_get_orders_id_refuses_a_value_its_type_does_not_match',
          'Test_get_orders_id_items_item',
          'Test_get_files_rest',
          'TestSecretsHaveNoDefault',
        ],
      },
    ],
    [
      'a card with endpoint /weather/{city}',
      () => styleCard('go', 'net-http', '/weather/{city}'),
      { url: '/weather/london', tests: ['Test_get_weather_city'] },
    ],
    [
      'a card with endpoint /orders/<int:id> (language golang, framework net/http)',
      () => styleCard('golang', 'net/http', '/orders/<int:id>'),
      {
        url: '/orders/42',
        tests: ['Test_get_orders_id', 'Test_get_orders_id_refuses_a_value_its_type_does_not_match'],
      },
    ],
    ['a card with awkward paths and hostile text', () => edgeCard('go', 'net-http', [])],
  ];
  for (const [label, makeCard, calls] of goCases) {
    describe(`go/net-http: ${label}`, () => {
      let dir = '';
      let card: ServiceCard;
      before(function () {
        if (!go.go) {
          if (process.env['CODE_SYNTHESIS_REQUIRE_GO'] === '1')
            throw new Error(`CODE_SYNTHESIS_REQUIRE_GO=1 but ${go.reason}`);
          console.log(`      skipped: ${go.reason}`);
          this.skip();
        }
        card = makeCard();
        dir = writeTree(fs.mkdtempSync(path.join(root, 'go-')), card);
      });

      it('is gofmt-clean and passes go vet', async () => {
        const gofmt = path.join(path.dirname(go.go!), 'gofmt');
        const { stdout } = await succeeds(fs.existsSync(gofmt) ? gofmt : 'gofmt', ['-l', '.'], dir);
        assert.equal(stdout, '', 'files gofmt would change');
        await succeeds(go.go!, ['vet', './...'], dir);
      });

      it('passes its own go test, without any download', async () => {
        const { output } = await succeeds(go.go!, ['test', '-count=1', '-v', './...'], dir);
        assert.match(output, /^ok\s/m);
        assert.doesNotMatch(output, /^--- FAIL/m);
        const passed = [...output.matchAll(/^--- PASS: (\w+)/gm)].map((m) => m[1]);
        const endpoints = new Set(
          card.endpoints.map((e) => `${e.method} ${e.path}`).filter((k) => k !== 'GET /healthz'),
        ).size;
        assert.ok(passed.length >= endpoints + 2, `one test per endpoint plus health and config:\n${output}`);
        if (calls) {
          const tests = fs.readFileSync(path.join(dir, 'main_test.go'), 'utf8');
          assert.ok(
            tests.includes(`call(t, "GET", ${JSON.stringify(calls.url)}, `),
            `the tests request ${calls.url}`,
          );
          for (const name of calls.tests) assert.ok(passed.includes(name), `${name} passed:\n${output}`);
        }
      });
    });
  }

  const csharpCases: Case[] = [
    ['examples/orders-dotnet.yaml', () => cardFile('orders-dotnet.yaml')],
    [
      'a card with endpoint /orders/<int:id> (language c#)',
      () => styleCard('c#', 'aspnetcore', '/orders/<int:id>'),
    ],
    ['a card with awkward paths and hostile text', () => edgeCard('csharp', 'aspnetcore', ['Serilog@4.2.0'])],
  ];
  for (const [label, makeCard] of csharpCases) {
    describe(`csharp/aspnetcore: ${label}`, () => {
      let dir = '';
      let card: ServiceCard;
      before(() => {
        card = makeCard();
        dir = writeTree(fs.mkdtempSync(path.join(root, 'cs-')), card);
      });

      it('without the .NET SDK: every .cs parses, the projects and the Dockerfile fit together on disk', async () => {
        const files = fs
          .readdirSync(dir, { recursive: true, encoding: 'utf8' })
          .map((p) => p.split(path.sep).join('/'));
        const sources = files.filter((p) => p.endsWith('.cs'));
        assert.equal(sources.length, 4, files.join(', '));
        let routes = 0;
        for (const source of sources) {
          const parsed = await parseCSharp(fs.readFileSync(path.join(dir, source), 'utf8'));
          assert.deepEqual(parsed.errors, [], source);
          routes += parsed.routes.length;
        }
        const endpoints = new Set(
          card.endpoints.map((e) => `${e.method} ${e.path}`).filter((k) => k !== 'GET /healthz'),
        ).size;
        assert.equal(routes, endpoints + 1, 'one Map call per endpoint, plus /healthz');
        const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' });
        const [service, tests] = ['src/', 'tests/'].map((prefix) =>
          files.find((p) => p.startsWith(prefix) && p.endsWith('.csproj'))!,
        );
        assert.ok(service && tests, files.join(', '));
        const reference = [xml.parse(fs.readFileSync(path.join(dir, tests), 'utf8')).Project.ItemGroup]
          .flat()
          .map((g: { ProjectReference?: { Include: string } }) => g.ProjectReference?.Include)
          .find(Boolean)!;
        assert.ok(
          fs.existsSync(path.resolve(dir, path.dirname(tests), reference)) &&
            path.relative(dir, path.resolve(dir, path.dirname(tests), reference)) === path.normalize(service),
          `${tests} references ${service}`,
        );
        const docker = fs.readFileSync(path.join(dir, 'Dockerfile'), 'utf8');
        for (const [, from] of docker.matchAll(/^COPY (?!--from)(\S+) /gm))
          assert.ok(fs.existsSync(path.join(dir, from!)), `the Dockerfile copies ${from}, which exists`);
        assert.ok(docker.includes(`ENTRYPOINT ["dotnet", "${path.basename(service, '.csproj')}.dll"]`));
      });

      it('passes its own dotnet test (only where a .NET SDK is installed)', async function () {
        if (!dotnet) {
          console.log(
            '      skipped: no dotnet on PATH (the .NET SDK is in neither Debian nor the npm registry); checked above without it',
          );
          this.skip();
        }
        const tests = fs.readdirSync(path.join(dir, 'tests'))[0]!;
        const { output } = await succeeds('dotnet', ['test', path.join('tests', tests)], dir);
        assert.match(output, /Passed!/);
      });
    });
  }
});
