import assert from 'node:assert/strict';
import { MANIFEST_PATH, OUTPUTS } from '../../tasks/CodeSynthesis/src/core/contract';
import {
  CancelledError,
  ConflictError,
  InputError,
  IntentError,
  PathError,
} from '../../tasks/CodeSynthesis/src/core/errors';
import type { FileToWrite, ModelClient, PathState } from '../../tasks/CodeSynthesis/src/core/ports';
import { parseSettings, type RawInputs } from '../../tasks/CodeSynthesis/src/core/settings';
import { synthesize, type SynthesisPorts } from '../../tasks/CodeSynthesis/src/core/synthesize';
import { run } from '../../tasks/CodeSynthesis/src/run';
import {
  FakeHost,
  FakeModel,
  FakeSecretScanner,
  filesReply,
  MemoryFiles,
  MemoryTree,
  systemOf,
  WEATHER_CARD,
} from '../fakes/ports';

const INPUTS: RawInputs = { provider: 'offline', intent: WEATHER_CARD, outputDirectory: '/work/out' };

function ports(
  model: ModelClient,
  tree = new MemoryTree(),
  host = new FakeHost(),
): SynthesisPorts & { connects: number } {
  const p = {
    log: host,
    reader: new MemoryFiles({ 'conventions.md': 'Use 4 spaces.' }),
    tree,
    clock: { now: () => new Date('2026-01-02T03:04:05Z') },
    signal: host.signal,
    version: '1.0.0',
    connects: 0,
    connectModel: async () => {
      p.connects++;
      return model;
    },
    secretScanner: async () => new FakeSecretScanner(),
    report: host,
  };
  return p;
}

describe('synthesize', () => {
  it('writes the files and the manifest in one commit', async () => {
    const tree = new MemoryTree();
    const model = new FakeModel(
      filesReply({ 'weather/app.py': 'print(1)\n', 'weather/requirements.txt': 'flask==3.0.3\n' }),
    );
    const result = await synthesize(
      parseSettings({ ...INPUTS, instructionsFile: 'conventions.md' }),
      ports(model, tree),
    );
    assert.equal(tree.commits, 1);
    assert.deepEqual([...tree.files.keys()].sort(), [
      MANIFEST_PATH,
      '.synthesis/prompts/chatcmpl-1.json',
      'weather/app.py',
      'weather/requirements.txt',
    ]);
    const manifest = JSON.parse(tree.files.get(MANIFEST_PATH)!);
    assert.deepEqual(manifest, JSON.parse(JSON.stringify(result.manifest)));
    assert.equal(manifest.generatedAt, '2026-01-02T03:04:05.000Z');
    assert.equal(result.manifestPath, '/work/out/.synthesis/manifest.json');
    assert.match(systemOf(model.requests[0]!), /Use 4 spaces\./);
  });

  it('does not connect to the model when the intent is unusable', async () => {
    const p = ports(new FakeModel(filesReply({ 'a.txt': '' })));
    await assert.rejects(
      synthesize(parseSettings({ ...INPUTS, intent: 'service:\n  name: 1\n' }), p),
      IntentError,
    );
    assert.equal(p.connects, 0);
  });

  it('writes nothing when any path is unsafe', async () => {
    const tree = new MemoryTree();
    const model = new FakeModel(filesReply({ 'ok.txt': 'x', '../escape.txt': 'x', '.git/config': 'x' }));
    await assert.rejects(synthesize(parseSettings(INPUTS), ports(model, tree)), PathError);
    assert.equal(tree.commits, 0);
  });

  it('writes nothing on a conflict under policy fail', async () => {
    const tree = new MemoryTree(new Map([['a.txt', 'mine']]));
    await assert.rejects(
      synthesize(
        parseSettings(INPUTS),
        ports(new FakeModel(filesReply({ 'a.txt': 'x', 'b.txt': 'y' })), tree),
      ),
      ConflictError,
    );
    assert.equal(tree.commits, 0);
    assert.equal(tree.files.get('a.txt'), 'mine');
  });

  it('skips existing files under policy skip and lists them in the manifest', async () => {
    const tree = new MemoryTree(new Map([['a.txt', 'mine']]));
    const result = await synthesize(
      parseSettings({ ...INPUTS, conflictPolicy: 'skip' }),
      ports(new FakeModel(filesReply({ 'a.txt': 'x', 'b.txt': 'y' })), tree),
    );
    assert.equal(tree.files.get('a.txt'), 'mine');
    assert.deepEqual(result.manifest.skipped, ['a.txt']);
    assert.deepEqual(
      result.manifest.files.map((f) => f.path),
      ['b.txt'],
    );
  });

  it('stops before writing when the run is cancelled', async () => {
    const host = new FakeHost();
    const tree = new MemoryTree();
    const model: ModelClient = {
      info: { provider: 'offline' },
      complete: async (request) => {
        host.controller.abort();
        return new FakeModel(filesReply({ 'a.txt': 'x' })).complete(request);
      },
    };
    await assert.rejects(synthesize(parseSettings(INPUTS), ports(model, tree, host)), CancelledError);
    assert.equal(tree.commits, 0);
  });

  it('prints the model-chosen file names only as untrusted text', async () => {
    const host = new FakeHost();
    await synthesize(
      parseSettings(INPUTS),
      ports(new FakeModel(filesReply({ 'svc/x.txt': 'x' })), new MemoryTree(), host),
    );
    const mentions = host.lines.filter((l) => l.text.includes('svc/x.txt'));
    assert.ok(mentions.length > 0);
    assert.ok(mentions.every((l) => l.level === 'untrusted'));
  });
});

describe('run', () => {
  it('sets every output variable, the summary and success', async () => {
    const host = new FakeHost(INPUTS);
    const model = new FakeModel(filesReply({ 'weather/app.py': 'x' }));
    await run(host, async (settings, h) => ports(model, new MemoryTree(), h as FakeHost));
    assert.equal(host.result?.succeeded, true, host.result?.message);
    assert.deepEqual(host.outputs, {
      [OUTPUTS.filesWritten]: '1',
      [OUTPUTS.manifestPath]: '/work/out/.synthesis/manifest.json',
      [OUTPUTS.outputDirectory]: '/work/out',
      [OUTPUTS.serviceName]: 'weather',
      [OUTPUTS.language]: 'python',
      [OUTPUTS.promptTokens]: '10',
      [OUTPUTS.completionTokens]: '20',
      [OUTPUTS.sarifPath]: '/agent/_temp/CodeSynthesis-1.sarif',
      [OUTPUTS.pullRequestId]: '',
      [OUTPUTS.pullRequestUrl]: '',
      [OUTPUTS.reviewBranch]: '',
      [OUTPUTS.reused]: 'false',
    });
    assert.match(host.summary ?? '', /weather\/app\.py/);
  });

  it('counts only created and overwritten files in filesWritten', async () => {
    const host = new FakeHost({ ...INPUTS, conflictPolicy: 'skip' });
    const tree = new MemoryTree(
      new Map([
        ['same.txt', 'x'],
        ['mine.txt', 'mine'],
      ]),
    );
    const model = new FakeModel(filesReply({ 'same.txt': 'x', 'mine.txt': 'theirs', 'new.txt': 'y' }));
    await run(host, async (settings, h) => ports(model, tree, h as FakeHost));
    assert.equal(host.outputs[OUTPUTS.filesWritten], '1');
    assert.equal(
      host.result?.message,
      'Wrote 1 file(s) to /work/out; 1 already identical; 1 skipped (existing).',
    );
  });

  it('says so when the run was cancelled after the move had started (the move completes)', async () => {
    const host = new FakeHost(INPUTS);
    const tree = new MemoryTree();
    tree.commit = async (files) => {
      host.controller.abort(); // the cancel arrives during the move, which completes
      for (const f of files) tree.files.set(f.path, f.content);
    };
    await run(host, async (settings, h) =>
      ports(new FakeModel(filesReply({ 'a.txt': 'x' })), tree, h as FakeHost),
    );
    assert.equal(host.result?.outcome, 'Succeeded');
    assert.equal(
      host.result?.message,
      'The run was cancelled after the files had started moving into place, so the move was completed: wrote 1 file(s) to /work/out.',
    );
  });

  it('reports a cancelled run as Cancelled, not Failed', async () => {
    const host = new FakeHost(INPUTS);
    await run(host, async () => {
      throw new CancelledError();
    });
    assert.equal(host.result?.outcome, 'Cancelled');
  });

  it('turns a typed error into a failed result naming the input', async () => {
    const host = new FakeHost({ ...INPUTS, maxFiles: 'lots' });
    await run(host, async () => assert.fail('compose must not run'));
    assert.equal(host.result?.succeeded, false);
    assert.match(host.result?.message ?? '', /Input 'maxFiles'/);
  });

  it('reports an unexpected error without its stack, the stack at debug level', async () => {
    const host = new FakeHost(INPUTS);
    await run(host, async () => {
      throw new TypeError('boom');
    });
    assert.equal(host.result?.message.startsWith('Unexpected error: boom.'), true);
    assert.ok(host.lines.some((l) => l.level === 'debug' && /TypeError: boom/.test(l.text)));
  });
});

/** A tree whose inspect reports the given states (absent for the rest). */
class StatedTree extends MemoryTree {
  constructor(private readonly states: (path: string) => Partial<PathState> | undefined) {
    super();
  }
  override async inspect(items: readonly (string | FileToWrite)[]): Promise<PathState[]> {
    return items.map((item) => {
      const path = typeof item === 'string' ? item : item.path;
      return { path, kind: 'absent', ...this.states(path) };
    });
  }
}

describe('synthesize: problems with the output directory itself', () => {
  const cases: [name: string, states: (path: string) => Partial<PathState> | undefined, says: RegExp][] = [
    [
      'the output directory is a file',
      () => ({ blockedBy: '.' }),
      /^Input 'outputDirectory': '\/work\/out' is not a folder: it, or a folder above it, is a file\. Set 'outputDirectory' to a folder, or move the file away\. Nothing was written\.$/,
    ],
    [
      '.synthesis is a symlink or a file',
      (p) => (p.startsWith('.synthesis/') ? { blockedBy: '.synthesis' } : undefined),
      /^Input 'outputDirectory': "\.synthesis" in '\/work\/out' is a symlink or a file, not a folder; the task keeps its manifest in that folder\. Remove or rename "\.synthesis" there/,
    ],
    [
      'the manifest path is a folder',
      (p) => (p === MANIFEST_PATH ? { kind: 'directory' } : undefined),
      /^Input 'outputDirectory': "\.synthesis\/manifest\.json" in '\/work\/out' is a folder, where the task writes its manifest\. Remove or rename it/,
    ],
    [
      'an existing .Synthesis folder (another case)',
      (p) => (p === MANIFEST_PATH ? { caseTwin: '.Synthesis' } : undefined),
      /^Input 'outputDirectory': "\.Synthesis" in '\/work\/out' differs only in letter case or Unicode form from "\.synthesis", where the task keeps its manifest: writing would create "\.synthesis" beside it\. Rename "\.Synthesis" to "\.synthesis" or remove it/,
    ],
    [
      'an existing .synthesis/Manifest.json (another case)',
      (p) => (p === MANIFEST_PATH ? { kind: 'absent', caseTwin: '.synthesis/Manifest.json' } : undefined),
      /"\.synthesis\/Manifest\.json" in '\/work\/out' differs only in letter case or Unicode form from "\.synthesis\/manifest\.json"/,
    ],
  ];
  for (const [name, states, says] of cases) {
    it(`${name}: names the output directory and what to fix there`, async () => {
      const tree = new StatedTree(states);
      const error = await synthesize(
        parseSettings(INPUTS),
        ports(new FakeModel(filesReply({ 'a.txt': 'x', 'src/b.txt': 'y' })), tree),
      ).then(
        () => assert.fail('expected a failure'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof InputError, String(error));
      assert.equal(error.subject, 'outputDirectory');
      assert.match(error.describe(), says);
      assert.doesNotMatch(error.describe(), /model proposed|remove \./);
      assert.equal(tree.commits, 0);
    });
  }
});

describe('synthesize on a second run', () => {
  it('treats identical existing files as unchanged, not as conflicts', async () => {
    const tree = new MemoryTree(new Map([['a.txt', 'x']]));
    const result = await synthesize(
      parseSettings(INPUTS),
      ports(new FakeModel(filesReply({ 'a.txt': 'x', 'b.txt': 'y' })), tree),
    );
    assert.deepEqual(
      result.manifest.files.map((f) => [f.path, f.action]),
      [
        ['a.txt', 'unchanged'],
        ['b.txt', 'created'],
      ],
    );
  });
});
