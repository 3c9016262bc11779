/**
 * reviewMode 'pullRequest' in the built task, run as the agent runs it, against the fake Azure Repos Git
 * (through the real azure-devops-node-api client, the corporate proxy and the agent's CA): one push with
 * every file and the manifest on synthesis/<service> on top of the build's commit, one pull request into
 * the build's branch, the outputs set; a second run updates that pull request; a missing permission
 * fails naming it, the identity and where to grant it, with nothing pushed and nothing written; another
 * repository type fails before the model is called; merge conflicts go to the branch with markers.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { OUTPUTS } from '../../tasks/CodeSynthesis/src/core/contract';
import { completion } from '../fake-servers/azure-openai';
import { agent, outcome, type TaskRunOptions } from '../support/agent-run';
import { zip } from '../support/archives';
import { API_KEY, startAzureWorld, SYSTEM_VSS_CONNECTION, type AzureWorld } from '../support/azure-world';
import { snapshotTree } from '../support/tree-snapshot';
import { useWorkDir } from '../support/work-dir';

const REPO = { id: '6f1c2b3a-1111-4222-8333-944455556666', name: 'web' };
const APP_V1 = 'a = 1\nb = 2\nc = 3\n';
const reply = (files: Record<string, string>) =>
  completion(
    JSON.stringify({
      files: Object.entries(files).map(([p, content]) => ({ path: p, content })),
      summary: 's',
    }),
  );

describe("bundle: reviewMode 'pullRequest' against Azure Repos Git", function () {
  this.timeout(60_000);
  let world: AzureWorld;

  before(async function () {
    if (!fs.existsSync(agent.TASK_ENTRY))
      throw new Error(`${agent.TASK_ENTRY} is missing: run npm run build first`);
    world = await startAzureWorld({
      vaults: {},
      repos: { repository: REPO, files: { '/README.md': 'the repository\n' } },
    });
  });
  after(() => world?.close());
  const dir = useWorkDir('cs-pr-bundle', { 'README.md': 'the repository\n' });
  const repos = () => world.repos!;
  beforeEach(() => {
    // A fresh repository for each test: only the base commit's branch.
    for (const name of [...repos().refs.keys()]) if (name !== 'refs/heads/main') repos().refs.delete(name);
    repos().pushes.length = 0;
    repos().pullRequests.length = 0;
    repos().deny.clear();
  });

  const options = (
    inputs: Record<string, string> = {},
    variables: Record<string, string> = {},
  ): TaskRunOptions => ({
    inputs: {
      provider: 'azureOpenAI',
      intent: 'service:\n  name: weather\n  language: python\n  framework: flask\n',
      outputDirectory: path.join(dir.out, 'services'),
      authMode: 'apiKey',
      apiKey: API_KEY,
      endpoint: 'https://my-resource.openai.azure.com/',
      deployment: 'gpt-4o',
      reviewMode: 'pullRequest',
      ...inputs,
    },
    endpoints: { SystemVssConnection: SYSTEM_VSS_CONNECTION },
    variables: {
      ...world.behindProxy(dir),
      'Build.Repository.Provider': 'TfsGit',
      'Build.Repository.ID': REPO.id,
      'Build.SourceVersion': repos().baseCommit,
      'Build.SourceBranch': 'refs/heads/main',
      'Build.BuildId': '4242',
      'Build.BuildNumber': '20261105.3',
      'System.CollectionUri': 'https://dev.azure.com/contoso/',
      'System.TeamProject': 'web',
      ...variables,
    },
    secrets: world.proxySecret,
  });

  async function runWith(files: Record<string, string>, o: TaskRunOptions) {
    const openai = world.replaceOpenAI();
    openai.enqueue(reply(files));
    const run = await agent.runTask(o);
    return { run, o: outcome(run), openai };
  }

  it('pushes every file and the manifest in one commit on synthesis/<service>, opens one pull request, sets the outputs', async () => {
    const { run, o } = await runWith(
      { 'weather/app.py': APP_V1, 'weather/requirements.txt': 'flask\n' },
      options(),
    );
    assert.equal(o.result, 'Succeeded', `${o.message}\n${run.stdout}`);

    assert.equal(repos().pushes.length, 1, 'one push');
    const push = repos().pushes[0]!;
    assert.deepEqual(push.body.refUpdates, [
      { name: 'refs/heads/synthesis/weather', oldObjectId: repos().baseCommit },
    ]);
    assert.equal(push.body.commits.length, 1, 'one commit');
    assert.deepEqual(push.body.commits[0]!.changes.map((c) => c.item.path).sort(), [
      '/services/.synthesis/manifest.json',
      '/services/.synthesis/prompts/chatcmpl-fake123.json',
      '/services/weather/app.py',
      '/services/weather/requirements.txt',
    ]);
    assert.equal(repos().fileOn('synthesis/weather', '/services/weather/app.py'), APP_V1);
    assert.equal(
      repos().fileOn('synthesis/weather', '/services/.synthesis/manifest.json'),
      fs.readFileSync(path.join(dir.out, 'services', '.synthesis', 'manifest.json'), 'utf8'),
      'the branch and the output directory hold the same manifest',
    );

    assert.equal(repos().pullRequests.length, 1);
    const pr = repos().pullRequests[0]!;
    assert.equal(pr.sourceRefName, 'refs/heads/synthesis/weather');
    assert.equal(pr.targetRefName, 'refs/heads/main');
    assert.deepEqual(pr.labels, [{ name: 'code-synthesis' }]);
    assert.ok(pr.description.length <= 4000);
    assert.match(pr.description, /buildId=4242/);
    assert.match(pr.description, /\*\*Tokens:\*\* 321 prompt, 123 completion/);

    assert.equal(o.outputs[OUTPUTS.pullRequestId], String(pr.pullRequestId));
    assert.equal(
      o.outputs[OUTPUTS.pullRequestUrl],
      `https://dev.azure.com/contoso/web/_git/web/pullrequest/${pr.pullRequestId}`,
    );
    assert.equal(o.outputs[OUTPUTS.reviewBranch], 'synthesis/weather');
    assert.equal(fs.readFileSync(path.join(dir.out, 'services', 'weather', 'app.py'), 'utf8'), APP_V1);
    assert.ok(world.proxy.tunnels.includes('dev.azure.com:443'), 'through the agent proxy');
  });

  it('a second run pushes a new commit to the same branch and updates the open pull request', async () => {
    assert.equal((await runWith({ 'weather/app.py': APP_V1 }, options())).o.result, 'Succeeded');
    const head = repos().refs.get('refs/heads/synthesis/weather');
    fs.rmSync(path.join(dir.out, 'services'), { recursive: true });
    const { o } = await runWith({ 'weather/app.py': 'a = 10\n' }, options());
    assert.equal(o.result, 'Succeeded', o.message);
    assert.equal(repos().pushes.length, 2);
    assert.deepEqual(repos().pushes[1]!.body.refUpdates, [
      { name: 'refs/heads/synthesis/weather', oldObjectId: head },
    ]);
    assert.equal(repos().pullRequests.length, 1, 'never a second pull request');
    assert.ok(
      (o.message ?? '').includes(
        `updated pull request ${repos().pullRequests[0]!.pullRequestId} from 'synthesis/weather'`,
      ),
      o.message,
    );
    assert.equal(repos().fileOn('synthesis/weather', '/services/weather/app.py'), 'a = 10\n');
    assert.match(repos().pullRequests[0]!.description, /\| weather\/app\.py \| 7 \| created \|/);
  });

  it("the archive provider's files go to review like a reply's: synthesis/archive-<file name>, no prompt record, no model call", async () => {
    const archive = path.join(dir.work, 'generated.zip');
    fs.writeFileSync(archive, zip([{ name: 'weather/app.py', data: APP_V1 }]));
    const { o, openai } = await runWith(
      {},
      options({
        provider: 'archive',
        archiveFile: archive,
        intent: '',
        endpoint: '',
        deployment: '',
        authMode: '',
        apiKey: '',
      }),
    );
    assert.equal(o.result, 'Succeeded', o.message);
    assert.equal(openai.chats.length, 0, 'no model was called');
    assert.equal(repos().pushes.length, 1);
    const push = repos().pushes[0]!;
    assert.deepEqual(push.body.refUpdates, [
      { name: 'refs/heads/synthesis/archive-generated', oldObjectId: repos().baseCommit },
    ]);
    assert.deepEqual(push.body.commits[0]!.changes.map((c) => c.item.path).sort(), [
      '/services/.synthesis/manifest.json',
      '/services/weather/app.py',
    ]);
    const pr = repos().pullRequests[0]!;
    assert.equal(pr.sourceRefName, 'refs/heads/synthesis/archive-generated');
    assert.match(pr.description, /\*\*Model:\*\* archive · generated\.zip/);
    assert.equal(o.outputs[OUTPUTS.reviewBranch], 'synthesis/archive-generated');
    assert.equal(fs.readFileSync(path.join(dir.out, 'services', 'weather', 'app.py'), 'utf8'), APP_V1);
  });

  it('a missing permission fails naming the permission, the identity and where to grant it; nothing pushed, nothing written', async () => {
    repos().deny.add('GenericContribute');
    const before = snapshotTree(dir.out);
    const { o } = await runWith({ 'weather/app.py': APP_V1 }, options());
    assert.equal(o.result, 'Failed');
    assert.match(o.message ?? '', /lacks the Git permission 'Contribute' \(GenericContribute\)/);
    assert.match(o.message ?? '', /TF401027/);
    assert.match(o.message ?? '', /'web Build Service \(contoso\)'/);
    assert.match(o.message ?? '', /Project settings > Repositories > Security/);
    assert.equal(repos().pushes.length, 0);
    assert.deepEqual(snapshotTree(dir.out), before);
  });

  it('a GitHub repository fails before any model call', async () => {
    const before = snapshotTree(dir.out);
    const { o, openai } = await runWith(
      { 'weather/app.py': APP_V1 },
      options({}, { 'Build.Repository.Provider': 'GitHub' }),
    );
    assert.equal(o.result, 'Failed');
    assert.match(
      o.message ?? '',
      /pull requests in Azure Repos Git only, and this build's repository is 'GitHub'/,
    );
    assert.equal(openai.chats.length, 0, 'the model was not called');
    assert.deepEqual(snapshotTree(dir.out), before);
  });

  it('merge conflicts go to the branch with their markers; the run is SucceededWithIssues and the output directory unchanged', async () => {
    // The same inputs twice, another answer from the model the second time: a regeneration, not a reuse.
    const merge = options({ conflictPolicy: 'merge', reuse: 'false' });
    assert.equal((await runWith({ 'weather/app.py': APP_V1 }, merge)).o.result, 'Succeeded');
    const app = path.join(dir.out, 'services', 'weather', 'app.py');
    fs.writeFileSync(app, 'a = 1\nb = 20\nc = 3\n');
    const before = snapshotTree(dir.out);

    const { o } = await runWith({ 'weather/app.py': 'a = 1\nb = 200\nc = 3\n' }, merge);
    assert.equal(o.result, 'SucceededWithIssues', o.message);
    assert.match(o.message ?? '', /merge conflicts in 1 file\(s\) \(weather\/app\.py\)/);
    assert.deepEqual(snapshotTree(dir.out), before, 'the output directory is unchanged');
    assert.equal(
      repos().fileOn('synthesis/weather', '/services/weather/app.py'),
      'a = 1\n<<<<<<< yours\nb = 20\n||||||| last generation\nb = 2\n=======\nb = 200\n>>>>>>> generated\nc = 3\n',
    );
    assert.match(
      repos().pullRequests[0]!.description,
      /Merge conflicts to resolve[\s\S]*weather\/app\.py: lines 2-8/,
    );
  });
});
