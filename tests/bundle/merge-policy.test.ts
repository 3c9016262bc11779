/**
 * conflictPolicy 'merge' in the built task, run twice as the agent runs it against the fake Azure
 * OpenAI: a person's edit between the runs survives the regeneration; a same-line edit fails the
 * second run naming the file and its lines, and leaves the output directory as it was.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { completion } from '../fake-servers/azure-openai';
import { agent, outcome, type TaskRunOptions } from '../support/agent-run';
import { API_KEY, startAzureWorld, type AzureWorld } from '../support/azure-world';
import { snapshotTree } from '../support/tree-snapshot';
import { useWorkDir } from '../support/work-dir';

const V1 = 'import os\n\n\ndef port():\n    return 8080\n\n\ndef name():\n    return "svc"\n';
const V2 = V1.replace('return 8080', 'return int(os.environ.get("PORT", "8080"))');
const MINE = '\n\ndef mine():\n    return 42\n';
const reply = (app: string) =>
  completion(JSON.stringify({ files: [{ path: 'svc/app.py', content: app }], summary: 's' }));

describe("bundle: conflictPolicy 'merge'", function () {
  this.timeout(60_000);
  let world: AzureWorld;

  before(async function () {
    if (!fs.existsSync(agent.TASK_ENTRY))
      throw new Error(`${agent.TASK_ENTRY} is missing: run npm run build first`);
    world = await startAzureWorld({ vaults: {} });
  });
  after(() => world?.close());
  const dir = useWorkDir('cs-merge-bundle', { 'README.md': 'the repository\n' });
  const app = () => path.join(dir.out, 'svc', 'app.py');

  const options = (): TaskRunOptions => ({
    inputs: {
      provider: 'azureOpenAI',
      intent: 'service:\n  name: svc\n  language: python\n  framework: flask\n',
      outputDirectory: dir.out,
      authMode: 'apiKey',
      apiKey: API_KEY,
      endpoint: 'https://my-resource.openai.azure.com/',
      deployment: 'gpt-4o',
      conflictPolicy: 'merge',
      // Each run has the same inputs and another answer from the model: a regeneration, not a reuse.
      reuse: 'false',
    },
    variables: world.behindProxy(dir),
    secrets: world.proxySecret,
  });

  async function generate(content: string): Promise<ReturnType<typeof outcome>> {
    world.replaceOpenAI().enqueue(reply(content));
    const run = await agent.runTask(options());
    return outcome(run);
  }

  it("keeps a person's edit through a regeneration", async () => {
    assert.equal((await generate(V1)).result, 'Succeeded');
    assert.equal(fs.readFileSync(path.join(dir.out, '.synthesis', 'base', 'svc', 'app.py'), 'utf8'), V1);
    fs.appendFileSync(app(), MINE);

    const o = await generate(V2);
    assert.equal(o.result, 'Succeeded', o.message);
    assert.equal(fs.readFileSync(app(), 'utf8'), V2 + MINE);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir.out, '.synthesis', 'manifest.json'), 'utf8'));
    assert.equal(manifest.files[0].action, 'merged');
    assert.equal(fs.readFileSync(path.join(dir.out, '.synthesis', 'base', 'svc', 'app.py'), 'utf8'), V2);
  });

  it('fails on a same-line conflict, naming the file and its lines, and changes nothing', async () => {
    assert.equal((await generate(V1)).result, 'Succeeded');
    fs.writeFileSync(app(), V1.replace('return 8080', 'return 9090'));
    const before = snapshotTree(dir.out);

    const o = await generate(V2);
    assert.equal(o.result, 'Failed');
    assert.match(o.message ?? '', /1 file\(s\) have lines that both a person and the model changed/);
    assert.match(o.message ?? '', /"svc\/app\.py": lines 5-11/);
    assert.match(o.message ?? '', /Nothing was written/);
    assert.deepEqual(snapshotTree(dir.out), before);
  });
});
