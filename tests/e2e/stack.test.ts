/**
 * A stack card offline, end to end: the bundled CLI renders examples/stack.yaml (python/flask
 * weather, node/express orders, go/net-http inventory behind one gateway) through the whole flow
 * (paths, scan, all-or-nothing write); then each service passes its own tests as in
 * offline-templates.test.ts, docker-compose.yml passes the compose linter dclint (the Compose
 * Specification's schema and its rules), and `kubectl kustomize` builds the stack's kustomization
 * into objects that validate against the Kubernetes API schemas.
 *
 * kubectl comes from CODE_SYNTHESIS_KUBECTL or PATH (Debian: `apt-get install kubernetes-client`);
 * without it the kustomize test skips, saying why, unless CODE_SYNTHESIS_REQUIRE_KUBECTL=1 (set by
 * .ci/run). Set CODE_SYNTHESIS_SKIP_NETWORK_E2E=1 to skip the npm install of the Node service.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DCLinter } from 'dclint';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { parseAllDocuments } from 'yaml';
import { agent } from '../support/agent-run';
import { findGo, run, succeeds } from '../support/toolchain';

const SKIP_NETWORK = process.env['CODE_SYNTHESIS_SKIP_NETWORK_E2E'] === '1';
const BIN = path.join(agent.ROOT, 'bin', 'code-synthesis.js');

describe('stack card offline, end to end: examples/stack.yaml', function () {
  this.timeout(180_000);
  let out = '';
  let shop = '';
  let report: { result: string; outputs: Record<string, string> };

  before(() => {
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-stack-e2e-'));
    const cli = spawnSync(
      process.execPath,
      [BIN, '--intent', 'examples/stack.yaml', '--out', out, '--json'],
      { cwd: agent.ROOT, encoding: 'utf8' },
    );
    assert.equal(cli.status, 0, cli.stdout + cli.stderr);
    report = JSON.parse(cli.stdout) as typeof report;
    shop = path.join(out, 'shop');
  });

  after(() => {
    if (out) fs.rmSync(out, { recursive: true, force: true });
  });

  it('the CLI writes the stack and names it in its outputs', () => {
    assert.equal(report.result, 'Succeeded');
    assert.equal(report.outputs['serviceName'], 'shop');
    assert.equal(report.outputs['language'], 'python,node,go');
    const manifest = JSON.parse(fs.readFileSync(report.outputs['manifestPath']!, 'utf8')) as {
      files: { path: string }[];
    };
    assert.equal(report.outputs['filesWritten'], String(manifest.files.length));
    for (const f of [
      'README.md',
      'docker-compose.yml',
      'kustomization.yaml',
      'k8s/namespace.yaml',
      'k8s/ingress.yaml',
    ])
      assert.ok(fs.existsSync(path.join(shop, f)), f);
  });

  it('docker-compose.yml is valid Compose and lint-clean (dclint, every rule)', async () => {
    const linter = new DCLinter({ rules: {}, quiet: false, debug: false, exclude: [] } as never);
    const results = linter.lintFiles([path.join(shop, 'docker-compose.yml')], false);
    assert.equal(results.length, 1);
    assert.deepEqual(results[0]!.messages, [], await linter.formatResults(results, 'stylish'));
  });

  it('kubectl kustomize builds the namespace, every Deployment and Service and the Ingress, all in the namespace', async function () {
    const kubectl = process.env['CODE_SYNTHESIS_KUBECTL'] || 'kubectl';
    const version = await run(kubectl, ['version', '--client'], out, 20_000);
    if (version.code !== 0) {
      const reason = `no kubectl (${kubectl}); on Debian: apt-get install kubernetes-client`;
      if (process.env['CODE_SYNTHESIS_REQUIRE_KUBECTL'] === '1')
        throw new Error(`CODE_SYNTHESIS_REQUIRE_KUBECTL=1 but ${reason}`);
      console.log(`      skipped: ${reason}`);
      this.skip();
    }
    const { stdout } = await succeeds(kubectl, ['kustomize', shop], out);
    const objects = parseAllDocuments(stdout).map(
      (d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string } },
    );
    assert.deepEqual(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort(), [
      'Deployment/inventory',
      'Deployment/orders',
      'Deployment/weather',
      'Ingress/shop',
      'Namespace/shop',
      'Service/inventory',
      'Service/orders',
      'Service/weather',
    ]);
    const models = { Deployment, Service, Namespace, Ingress } as const;
    for (const o of objects) {
      if (o.kind !== 'Namespace') assert.equal(o.metadata.namespace, 'shop', `${o.kind}/${o.metadata.name}`);
      new models[o.kind as keyof typeof models](o as never).validate();
    }
  });

  describe('each service passes its own tests', () => {
    it('weather (python/flask): byte-compiles, and passes pytest when Flask and pytest are importable', async function () {
      const dir = path.join(shop, 'weather');
      if ((await run('python3', ['--version'], dir, 10_000)).code !== 0) {
        console.log('      skipped: python3 is not on PATH');
        this.skip();
      }
      await succeeds('python3', ['-m', 'py_compile', 'app.py', path.join('tests', 'test_app.py')], dir);
      if ((await run('python3', ['-c', 'import flask, pytest'], dir, 20_000)).code !== 0) {
        console.log(
          '      pytest skipped: Flask or pytest is not importable (PyPI is not reachable to install them)',
        );
        return;
      }
      const { output } = await succeeds('python3', ['-m', 'pytest', '-v', '-p', 'no:cacheprovider'], dir);
      assert.match(output, /::test_get_weather_city PASSED/);
      assert.doesNotMatch(output, /failed|error/i);
    });

    it('orders (node/express): installs from the npm registry and passes npm test, INVENTORY_URL in its config', async function () {
      if (SKIP_NETWORK) {
        console.log('      skipped: CODE_SYNTHESIS_SKIP_NETWORK_E2E=1 (npm install needs the npm registry)');
        this.skip();
      }
      const dir = path.join(shop, 'orders');
      assert.match(fs.readFileSync(path.join(dir, 'src', 'config.ts'), 'utf8'), /INVENTORY_URL/);
      await succeeds('npm', ['install', '--no-audit', '--no-fund'], dir);
      const { output } = await succeeds('npm', ['test'], dir);
      assert.match(output, /^(?:#|ℹ) fail 0$/m);
      assert.match(output, /^(?:#|ℹ) pass [1-9]\d*$/m);
    });

    it('inventory (go/net-http): gofmt-clean, go vet and go test, without any download', async function () {
      const go = await findGo(out);
      if (!go.go) {
        if (process.env['CODE_SYNTHESIS_REQUIRE_GO'] === '1')
          throw new Error(`CODE_SYNTHESIS_REQUIRE_GO=1 but ${go.reason}`);
        console.log(`      skipped: ${go.reason}`);
        this.skip();
      }
      const dir = path.join(shop, 'inventory');
      const gofmt = path.join(path.dirname(go.go), 'gofmt');
      const { stdout } = await succeeds(fs.existsSync(gofmt) ? gofmt : 'gofmt', ['-l', '.'], dir);
      assert.equal(stdout, '', 'files gofmt would change');
      await succeeds(go.go, ['vet', './...'], dir);
      const { output } = await succeeds(go.go, ['test', '-count=1', '-v', './...'], dir);
      assert.match(output, /^--- PASS: Test_get_inventory_sku /m);
      assert.doesNotMatch(output, /^--- FAIL/m);
    });
  });
});
