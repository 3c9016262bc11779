/**
 * reviewMode 'pullRequest' in the use case: the branches are planned before the model is asked; the
 * push of every file (at repository paths) comes before the output directory is written, so a failed
 * push leaves it unchanged; merge conflicts go to the branch with their markers and the run ends
 * SucceededWithIssues with the output directory unchanged; the outputs and the summary name the pull
 * request.
 */
import assert from 'node:assert/strict';
import { MANIFEST_PATH, OUTPUTS } from '../../tasks/CodeSynthesis/src/core/contract';
import {
  ReviewError,
  type ReviewPublisher,
  type ReviewRequest,
  type ReviewResult,
} from '../../tasks/CodeSynthesis/src/core/review';
import type { BuildContext } from '../../tasks/CodeSynthesis/src/core/review';
import { parseSettings, type RawInputs } from '../../tasks/CodeSynthesis/src/core/settings';
import type { SynthesisPorts } from '../../tasks/CodeSynthesis/src/core/synthesize';
import { compose } from '../../tasks/CodeSynthesis/src/compose';
import { run } from '../../tasks/CodeSynthesis/src/run';
import { FakeHost, FakeModel, FakeSecretScanner, filesReply, MemoryFiles, MemoryTree } from '../fakes/ports';

const CONTEXT: BuildContext = {
  repositoryId: 'repo-guid',
  sourceVersion: 'a'.repeat(40),
  sourceBranch: 'refs/heads/main',
  sourcesDirectory: '/work',
  collectionUri: 'https://dev.azure.com/contoso/',
  project: 'web',
  buildId: '77',
};
const INPUTS: RawInputs = {
  provider: 'offline',
  intent: 'service:\n  name: svc\n  language: python\n  framework: flask\n',
  outputDirectory: '/work/out',
  reviewMode: 'pullRequest',
};

class FakePublisher implements ReviewPublisher {
  readonly requests: ReviewRequest[] = [];
  /** What the output directory held when the push happened. */
  commitsAtPush?: number;
  constructor(
    private readonly tree: MemoryTree,
    private readonly fail?: Error,
  ) {}
  async publish(request: ReviewRequest): Promise<ReviewResult> {
    this.requests.push(request);
    this.commitsAtPush = this.tree.commits;
    if (this.fail) throw this.fail;
    return {
      pullRequestId: 12,
      pullRequestUrl: 'https://dev.azure.com/contoso/web/_git/web/pullrequest/12',
      branch: request.branch,
      created: true,
      commitId: 'c'.repeat(40),
    };
  }
}

function ports(
  host: FakeHost,
  tree: MemoryTree,
  publisher: FakePublisher,
  files: Record<string, string>,
  connects: { count: number } = { count: 0 },
): SynthesisPorts {
  return {
    log: host,
    reader: new MemoryFiles(),
    tree,
    clock: { now: () => new Date('2026-11-05T10:00:00Z') },
    signal: host.signal,
    version: '1.0.0',
    connectModel: async () => {
      connects.count++;
      return new FakeModel(filesReply(files), { provider: 'offline' });
    },
    secretScanner: async () => new FakeSecretScanner(),
    review: { context: CONTEXT, publisher: async () => publisher },
    report: host,
    build: { buildId: '77', buildNumber: '20261105.1' },
  };
}

describe("reviewMode 'pullRequest'", () => {
  it('pushes every file and the manifest at repository paths before writing, then sets the outputs', async () => {
    const host = new FakeHost(INPUTS);
    const tree = new MemoryTree();
    const publisher = new FakePublisher(tree);
    await run(host, async () => ports(host, tree, publisher, { 'svc/app.py': 'print(1)\n' }));
    assert.equal(host.result?.outcome, 'Succeeded', host.result?.message);
    assert.equal(publisher.commitsAtPush, 0, 'the push comes before the output directory is written');
    assert.equal(tree.commits, 1);

    const [request] = publisher.requests as [ReviewRequest];
    assert.deepEqual(request.files.map((f) => f.path).sort(), [
      'out/.synthesis/manifest.json',
      'out/.synthesis/prompts/chatcmpl-1.json',
      'out/svc/app.py',
    ]);
    assert.equal(
      request.files.find((f) => f.path === 'out/.synthesis/manifest.json')?.content,
      tree.files.get(MANIFEST_PATH),
      'the branch gets the manifest the output directory gets',
    );
    assert.deepEqual(
      [request.branch, request.targetBranch, request.baseCommit, request.repositoryId, request.label],
      ['synthesis/svc', 'main', CONTEXT.sourceVersion, 'repo-guid', 'code-synthesis'],
    );
    assert.match(request.description, /\*\*Service:\*\* svc \\\(python\/flask\\\)/);
    assert.match(request.description, /\*\*Tokens:\*\* 10 prompt, 20 completion/);
    assert.match(request.description, /_build\/results\?buildId=77/);
    assert.match(request.description, /\| svc\/app\.py \| 9 \| created \|/);
    assert.ok(request.description.length <= 4000);
    assert.match(request.commitMessage, /in build 20261105\.1/);

    assert.equal(host.outputs[OUTPUTS.pullRequestId], '12');
    assert.equal(
      host.outputs[OUTPUTS.pullRequestUrl],
      'https://dev.azure.com/contoso/web/_git/web/pullrequest/12',
    );
    assert.equal(host.outputs[OUTPUTS.reviewBranch], 'synthesis/svc');
    assert.equal(host.outputs[OUTPUTS.filesWritten], '1');
    assert.match(host.result!.message, /opened pull request 12 from 'synthesis\/svc'/);
    assert.match(
      host.summary ?? '',
      /\*\*Pull request:\*\* \[12\]\(https:\/\/dev\.azure\.com\/contoso\/web\/_git\/web\/pullrequest\/12\)/,
    );
  });

  it("another front door's review ports choose the link and the description's limit (GitHub: the run, 65,536)", async () => {
    const host = new FakeHost(INPUTS);
    const tree = new MemoryTree();
    const publisher = new FakePublisher(tree);
    const files = Object.fromEntries(
      Array.from({ length: 120 }, (_, i) => [`svc/module_${String(i).padStart(3, '0')}.py`, `x = ${i}\n`]),
    );
    const runUrl = 'https://github.com/contoso/web/actions/runs/4242';
    await run(host, async () => {
      const p = ports(host, tree, publisher, files);
      return {
        ...p,
        review: {
          ...p.review!,
          context: {
            repositoryId: 'contoso/web',
            sourceVersion: CONTEXT.sourceVersion,
            sourceBranch: 'refs/heads/main',
            sourcesDirectory: CONTEXT.sourcesDirectory,
            buildId: '4242',
          },
          summaryUrl: runUrl,
          descriptionLimit: { chars: 65536, service: "GitHub's" },
        },
      };
    });
    assert.equal(host.result?.outcome, 'Succeeded', host.result?.message);
    const [request] = publisher.requests as [ReviewRequest];
    assert.ok(request.description.length > 4000, 'longer than Azure DevOps allows');
    assert.doesNotMatch(request.description, /Shortened/, 'every file listed');
    assert.ok(request.description.includes(`[this build](${runUrl})`));
    assert.doesNotMatch(request.description, /_build\/results/);
    assert.equal(request.project, undefined, 'no Azure DevOps project');
    assert.equal(request.repositoryId, 'contoso/web');
  });

  it('a failed push fails the run and leaves the output directory unchanged', async () => {
    const host = new FakeHost(INPUTS);
    const tree = new MemoryTree(new Map([['keep.txt', 'mine']]));
    const publisher = new FakePublisher(
      tree,
      new ReviewError('The build identity may not push.', 'Azure Repos permissions', 'Grant Contribute.'),
    );
    await run(host, async () => ports(host, tree, publisher, { 'svc/app.py': 'print(1)\n' }));
    assert.equal(host.result?.outcome, 'Failed');
    assert.match(host.result!.message, /may not push\. Grant Contribute\./);
    assert.equal(tree.commits, 0);
    assert.deepEqual([...tree.files.keys()], ['keep.txt']);
  });

  it('plans the branches before the model is asked: a bad target fails without a model call', async () => {
    const host = new FakeHost({ ...INPUTS, reviewBranch: 'main' });
    const connects = { count: 0 };
    const tree = new MemoryTree();
    await run(host, async () => ports(host, tree, new FakePublisher(tree), { 'a.txt': '' }, connects));
    assert.equal(host.result?.outcome, 'Failed');
    assert.match(host.result!.message, /The review branch and the target branch are both 'main'/);
    assert.equal(connects.count, 0);
  });

  it('sends merge conflicts to the branch with their markers, lists them, and leaves the output directory unchanged', async () => {
    const v1 = 'a = 1\nb = 2\nc = 3\n';
    const tree = new MemoryTree();
    const first = new FakeHost({ ...INPUTS, conflictPolicy: 'merge' });
    await run(first, async () => ports(first, tree, new FakePublisher(tree), { 'svc/app.py': v1 }));
    assert.equal(first.result?.outcome, 'Succeeded', first.result?.message);
    tree.files.set('svc/app.py', 'a = 1\nb = 20\nc = 3\n');
    const before = new Map(tree.files);
    const commits = tree.commits;

    // The same inputs, another answer from the model: a regeneration, so no reuse.
    const host = new FakeHost({ ...INPUTS, conflictPolicy: 'merge', reuse: 'false' });
    const publisher = new FakePublisher(tree);
    await run(host, async () => ports(host, tree, publisher, { 'svc/app.py': 'a = 1\nb = 200\nc = 3\n' }));
    assert.equal(host.result?.outcome, 'SucceededWithIssues', host.result?.message);
    assert.match(host.result!.message, /merge conflicts in 1 file\(s\) \(svc\/app\.py\)/);
    assert.match(host.result!.message, /the output directory \/work\/out was left unchanged/);
    assert.equal(tree.commits, commits);
    assert.deepEqual(tree.files, before);

    const request = publisher.requests[0]!;
    const pushed = request.files.find((f) => f.path === 'out/svc/app.py')!.content;
    assert.equal(
      pushed,
      'a = 1\n<<<<<<< yours\nb = 20\n||||||| last generation\nb = 2\n=======\nb = 200\n>>>>>>> generated\nc = 3\n',
    );
    assert.equal(
      request.files.find((f) => f.path === 'out/.synthesis/base/svc/app.py')?.content,
      'a = 1\nb = 200\nc = 3\n',
      'the base copy on the branch is what the model generated',
    );
    const manifest = JSON.parse(
      request.files.find((f) => f.path === 'out/.synthesis/manifest.json')!.content,
    );
    assert.equal(manifest.files[0].action, 'conflict');
    assert.match(request.description, /### Merge conflicts to resolve\n\nThese 1 file\(s\) hold lines both/);
    assert.match(request.description, /- svc\/app\.py: lines 2-8/);
    assert.equal(host.outputs[OUTPUTS.filesWritten], '0');
    assert.equal(host.outputs[OUTPUTS.manifestPath], '');
    assert.equal(host.outputs[OUTPUTS.pullRequestId], '12');
  });

  it('a repository that is not Azure Repos Git fails in the composition, before the model is called', async () => {
    const host = new FakeHost(
      { ...INPUTS, outputDirectory: '/tmp/never-written' },
      {},
      { 'Build.Repository.Provider': 'GitHub', 'Build.SourcesDirectory': '/tmp' },
    );
    await run(host, compose);
    assert.equal(host.result?.outcome, 'Failed');
    assert.match(
      host.result!.message,
      /opens pull requests in Azure Repos Git only, and this build's repository is 'GitHub'/,
    );
  });

  it("outputs the review variables empty when reviewMode is 'none'", async () => {
    const host = new FakeHost({ ...INPUTS, reviewMode: 'none' });
    const tree = new MemoryTree();
    await run(host, async () => ({
      ...ports(host, tree, new FakePublisher(tree), { 'a.txt': 'x' }),
      review: undefined,
    }));
    assert.equal(host.result?.outcome, 'Succeeded');
    assert.equal(host.outputs[OUTPUTS.pullRequestId], '');
    assert.equal(host.outputs[OUTPUTS.reviewBranch], '');
  });
});

describe('settings of the review inputs', () => {
  it('parse into the review settings', () => {
    const s = parseSettings({ ...INPUTS, reviewDraft: 'true', reviewTargetBranch: 'refs/heads/release' });
    assert.deepEqual(s.review, { mode: 'pullRequest', targetBranch: 'release', draft: true, reviewers: [] });
    assert.deepEqual(parseSettings({ ...INPUTS, reviewMode: '' }).review, { mode: 'none' });
  });
});
