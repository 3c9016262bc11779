/**
 * Planned generation, streaming and reuse in the built task, run as the agent runs it, against the fake
 * Azure OpenAI behind the corporate proxy (over HTTPS, with the real SDKs), which streams its replies:
 * the outline, then the files `concurrency` at a time; a file call failing once, retried; a file that
 * never comes; a service larger than one reply's maxOutputTokens; the progress the agent shows; and an
 * unchanged rerun that signs in to nothing and calls no model.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { OUTPUTS } from '../../tasks/CodeSynthesis/src/core/contract';
import { agent, outcome, visibleOutput, type TaskRunOptions } from '../support/agent-run';
import {
  API_KEY,
  spConnection,
  startAzureWorld,
  SYSTEM_VSS_CONNECTION,
  type AzureWorld,
} from '../support/azure-world';
import { askedFor, serviceResponder, sizedService, type ServiceScript } from '../support/planned-service';
import { snapshotTree } from '../support/tree-snapshot';
import { useWorkDir } from '../support/work-dir';

const CONN = '0f5e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b';
const SERVICE = sizedService(10, 600, 'svc');
const PATHS = Object.keys(SERVICE);
const contentOf = (p: string) => (SERVICE[p] as { content: string }).content;
const STACK_CARD = `stack:
  name: shop
  services:
    - name: catalogue
      language: python
      framework: flask
      endpoints: [GET /products]
    - name: orders
      language: typescript
      framework: express
      endpoints: [GET /orders]
`;
/** Stack cards exist once core/intent.ts parses them (kind 'stack'); until then these tests are pending. */

describe('bundle: planned generation, streaming and reuse', function () {
  this.timeout(120_000);
  let world: AzureWorld;

  before(async function () {
    if (!fs.existsSync(agent.TASK_ENTRY))
      throw new Error(`${agent.TASK_ENTRY} is missing: run npm run build first`);
    world = await startAzureWorld({ vaults: { 'kv-ci': { secrets: { 'openai-api-key': API_KEY } } } });
  });
  after(() => world?.close());
  const dir = useWorkDir('cs-planned-bundle', { 'README.md': 'the repository\n' });

  const options = (inputs: Record<string, string>): TaskRunOptions => ({
    inputs: {
      provider: 'azureOpenAI',
      intent: 'service:\n  name: svc\n  language: python\n  framework: flask\n',
      outputDirectory: dir.out,
      azureSubscription: CONN,
      keyVaultName: 'kv-ci',
      endpoint: 'https://my-resource.openai.azure.com/',
      deployment: 'gpt-4o',
      ...inputs,
    },
    endpoints: { [CONN]: spConnection(), SystemVssConnection: SYSTEM_VSS_CONNECTION },
    variables: world.behindProxy(dir),
    secrets: world.proxySecret,
  });
  const serve = (script: ServiceScript = {}) =>
    world.replaceOpenAI({ respond: serviceResponder(SERVICE, { tokensPerSecond: 2000, ...script }) });
  /** The paths each chat asked for ('outline' or 'all' for the others). */
  const asked = (chats: AzureWorld['openai']['chats']) =>
    chats.map((c) => {
      const body = c.body as {
        messages: { role: string; content: string }[];
        response_format?: { json_schema?: { name?: string } };
      };
      const a = askedFor(body.messages, body.response_format?.json_schema?.name ?? '');
      return a.kind === 'files' ? a.paths.join(',') : a.kind;
    });

  async function runOk(inputs: Record<string, string>) {
    const run = await agent.runTask(options(inputs));
    const o = outcome(run);
    assert.equal(o.result, 'Succeeded', `${o.message}\n${run.stdout}\n${run.stderr}`);
    assert.deepEqual(agent.injectedCommands(run.stdout), []);
    return { run, o };
  }

  it('planned: the outline, then each file by name, `concurrency` at a time over HTTPS; progress moves; the manifest shows the phases', async () => {
    const openai = serve();
    const { run, o } = await runOk({ generationStrategy: 'planned', concurrency: '4' });

    const kinds = asked(openai.chats);
    assert.equal(kinds[0], 'outline', 'the outline first');
    assert.deepEqual(
      kinds.slice(1).sort(),
      PATHS,
      'then each file, once (in the order they reach the server)',
    );
    assert.equal(openai.load.maxInFlight, 4, 'the most calls in flight is the concurrency');
    for (const chat of openai.chats) {
      assert.equal(chat.body['stream'], true);
      assert.deepEqual(chat.body['stream_options'], { include_usage: true });
    }
    for (const p of PATHS) assert.equal(fs.readFileSync(path.join(dir.out, p), 'utf8'), contentOf(p));
    assert.equal(o.outputs[OUTPUTS.filesWritten], String(PATHS.length));
    assert.equal(o.outputs[OUTPUTS.reused], 'false');

    const manifest = JSON.parse(fs.readFileSync(path.join(dir.out, '.synthesis', 'manifest.json'), 'utf8'));
    const phases = manifest.generation.phases.map(
      (p: { phase: string; calls: number; maxInFlight: number }) => [p.phase, p.calls, p.maxInFlight],
    );
    assert.deepEqual(phases, [
      ['outline', 1, 1],
      ['files', 10, 4],
    ]);
    assert.ok(manifest.generation.phases.every((p: { wallMs: number }) => p.wallMs > 0));
    assert.equal(manifest.calls.length, 11);
    assert.equal(
      fs.readdirSync(path.join(dir.out, '.synthesis', 'prompts')).length,
      11,
      'a prompt record for every call',
    );

    // task.setprogress moves with the files done, up to 90% once every file is in.
    const progress = agent
      .vsoCommands(run.stdout)
      .filter((c) => c.command === 'task.setprogress')
      .map((c) => Number(c.properties.value));
    assert.ok(progress.length >= PATHS.length, String(progress));
    assert.deepEqual(
      progress,
      [...progress].sort((a, b) => a - b),
      'only forward',
    );
    assert.equal(progress.at(-1), 90);
    assert.match(run.stdout, /Outline: 10 file\(s\)\. Writing them in 10 call\(s\), 4 at a time/);
  });

  it('a file call that fails once is retried on its own, and the run succeeds', async () => {
    const openai = serve({ failFirst: ['svc/module_03.py'] });
    const { run } = await runOk({ generationStrategy: 'planned' });
    assert.equal(asked(openai.chats).filter((a) => a === 'svc/module_03.py').length, 2);
    assert.equal(openai.chats.length, 1 + PATHS.length + 1);
    assert.equal(
      fs.readFileSync(path.join(dir.out, 'svc/module_03.py'), 'utf8'),
      contentOf('svc/module_03.py'),
    );
    assert.match(run.stdout, /Azure OpenAI answered 500; retrying in/);
  });

  it('a file that never comes: Failed, nothing written, the file named', async () => {
    const openai = serve({ never: ['svc/module_07.py'] });
    const before = snapshotTree(dir.out);
    const run = await agent.runTask(options({ generationStrategy: 'planned', concurrency: '2' }));
    const o = outcome(run);
    assert.equal(o.result, 'Failed', run.stdout);
    assert.match(
      o.message ?? '',
      /^Planned generation: the model did not write "svc\/module_07\.py" in 3 attempt\(s\); the last reply: the reply for "svc\/module_07\.py" lacks "svc\/module_07\.py" and holds "elsewhere\/other\.txt", which it was not asked for\. Nothing was written\.$/,
    );
    assert.deepEqual(snapshotTree(dir.out), before);
    assert.equal(asked(openai.chats).filter((a) => a === 'svc/module_07.py').length, 3);
    assert.ok(!visibleOutput(run).includes(API_KEY));
  });

  it("a service larger than one reply's maxOutputTokens comes out whole (auto)", async () => {
    const openai = serve();
    const { o } = await runOk({ maxOutputTokens: '600' });
    const kinds = asked(openai.chats);
    assert.deepEqual(kinds.slice(0, 2), ['all', 'outline'], 'one reply, cut off; then the outline');
    assert.deepEqual(kinds.slice(2).sort(), PATHS, 'and each file');
    for (const p of PATHS) assert.equal(fs.readFileSync(path.join(dir.out, p), 'utf8'), contentOf(p));
    assert.equal(o.outputs[OUTPUTS.filesWritten], String(PATHS.length));
    const manifest = JSON.parse(fs.readFileSync(path.join(dir.out, '.synthesis', 'manifest.json'), 'utf8'));
    assert.equal(manifest.calls[0].finishReason, 'length');
    assert.equal(manifest.generation.strategy, 'planned');
    assert.equal(manifest.generation.requested, 'auto');
  });

  it('a stack card through the fake model: auto outlines it and writes every service', async function () {
    const stack = { 'catalogue/app.py': 'app = 1\n', 'orders/src/app.ts': 'export const app = 1;\n' };
    const openai = world.replaceOpenAI({ respond: serviceResponder(stack) });
    await runOk({ intent: STACK_CARD });
    assert.equal(asked(openai.chats)[0], 'outline');
    for (const [p, content] of Object.entries(stack))
      assert.equal(fs.readFileSync(path.join(dir.out, p), 'utf8'), content);
  });

  it('a stack card offline: rendered at once, no model call', async function () {
    const openai = serve();
    await runOk({ provider: 'offline', intent: STACK_CARD, generationStrategy: 'auto' });
    assert.equal(openai.chats.length, 0);
    assert.ok(fs.existsSync(path.join(dir.out, 'shop', 'catalogue')));
    assert.ok(fs.existsSync(path.join(dir.out, 'shop', 'orders')));
  });

  it('reuse: an unchanged rerun signs in to nothing and calls no model; a changed setting is one call; an edited file is kept and reported', async () => {
    const inputs = { generationStrategy: 'single', conflictPolicy: 'overwrite' };
    serve();
    await runOk(inputs);
    const signIns = () =>
      world.server.requests.filter((r) => /login\.microsoftonline\.com|vault\.azure\.net/.test(r.host))
        .length;

    // Unchanged: no sign-in, no call, nothing written.
    let openai = serve();
    let before = snapshotTree(dir.out);
    const counted = signIns();
    let { o } = await runOk(inputs);
    assert.equal(openai.chats.length, 0, 'no model call');
    assert.equal(signIns(), counted, 'no sign-in, no Key Vault read');
    assert.deepEqual(snapshotTree(dir.out), before, 'nothing written');
    assert.equal(o.outputs[OUTPUTS.reused], 'true');
    assert.match(o.message ?? '', /are up to date .*: no model was called and nothing was written\.$/);

    // A person edits a file: still reused, the file kept and named.
    fs.appendFileSync(path.join(dir.out, 'svc/module_02.py'), '# mine\n');
    openai = serve();
    before = snapshotTree(dir.out);
    ({ o } = await runOk(inputs));
    assert.equal(openai.chats.length, 0);
    assert.deepEqual(snapshotTree(dir.out), before, 'the edit is kept');
    assert.match(o.message ?? '', /kept 1 file\(s\) people edited since \("svc\/module_02\.py"\)\.$/);

    // A changed setting: a normal run, one call.
    openai = serve();
    ({ o } = await runOk({ ...inputs, temperature: '0.3' }));
    assert.equal(openai.chats.length, 1);
    assert.equal(openai.chats[0]!.body['temperature'], 0.3);
    assert.equal(o.outputs[OUTPUTS.reused], 'false');
  });
});
