/**
 * A corporate proxy that accepts connections and never answers: the sign-in and the Key Vault read
 * must give up within timeoutSeconds, and stop at once when the agent cancels; the process must exit.
 */
import assert from 'node:assert/strict';
import net, { type AddressInfo } from 'node:net';
import { agent, outcome } from '../support/agent-run';
import { snapshotTree } from '../support/tree-snapshot';
import { useWorkDir } from '../support/work-dir';

describe('bundle: an unresponsive network during sign-in', function () {
  this.timeout(40000);
  let blackHole: net.Server;
  const sockets = new Set<net.Socket>();
  let proxyUrl: string;

  before(async () => {
    blackHole = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    proxyUrl = `http://127.0.0.1:${(blackHole.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => blackHole.close(resolve));
  });
  beforeEach(() => {
    for (const s of sockets) s.destroy();
    sockets.clear();
  });
  const dir = useWorkDir('cs-unresponsive', { 'README.md': 'mine\n' });

  const options = () => ({
    inputs: {
      provider: 'azureOpenAI',
      intent: 'service:\n  name: svc\n  language: python\n  framework: flask\n',
      azureSubscription: 'conn',
      keyVaultName: 'kv-ci',
      endpoint: 'https://my-resource.openai.azure.com/',
      deployment: 'gpt-4o',
      timeoutSeconds: '5',
    },
    endpoints: {
      conn: {
        scheme: 'ServicePrincipal',
        auth: {
          tenantid: 'tenant',
          serviceprincipalid: 'app',
          serviceprincipalkey: 'sp-secret-value',
          authenticationType: 'spnKey',
        },
        data: { environment: 'AzureCloud' },
      },
    },
    variables: {
      'Agent.TempDirectory': dir.work,
      'Build.SourcesDirectory': dir.out,
      'Agent.ProxyUrl': proxyUrl,
    },
  });

  it('gives up after timeoutSeconds, naming it, and exits', async () => {
    const before = snapshotTree(dir.out);
    const started = Date.now();
    const run = await agent.runTask(options());
    const elapsed = Date.now() - started;
    const o = outcome(run);
    assert.equal(o.result, 'Failed', run.stdout);
    assert.match(o.message ?? '', /took longer than 5 s[\s\S]*timeoutSeconds/);
    assert.ok(elapsed < 15000, `the task took ${elapsed} ms to end`);
    assert.deepEqual(snapshotTree(dir.out), before);
  });

  it('stops at once on SIGINT during the sign-in, reporting Cancelled', async () => {
    const before = snapshotTree(dir.out);
    let sent = 0;
    const run = await agent.runTask(
      { ...options(), inputs: { ...options().inputs, timeoutSeconds: '60' } },
      {
        onSpawn: (child) => {
          const poll = setInterval(() => {
            if (sockets.size > 0) {
              clearInterval(poll);
              sent = Date.now();
              child.kill('SIGINT');
            }
          }, 20);
          child.on('exit', () => clearInterval(poll));
        },
      },
    );
    assert.ok(sent > 0, 'the task never reached the proxy');
    assert.ok(Date.now() - sent < 6000, `the task took ${Date.now() - sent} ms to stop after SIGINT`);
    assert.equal(outcome(run).result, 'Cancelled', run.stdout);
    assert.deepEqual(snapshotTree(dir.out), before);
  });
});
