/**
 * conflictPolicy 'merge' in the use case: a person's edit survives a regeneration that changed another
 * part of the file; a file nobody edited is simply replaced; lines both changed conflict, and the run
 * fails naming each file and line range with the output directory unchanged; the last generated copy
 * is kept under .synthesis/base/ in the same commit, and checked against the manifest.
 */
import assert from 'node:assert/strict';
import { MANIFEST_PATH } from '../../tasks/CodeSynthesis/src/core/contract';
import { MergeConflictError } from '../../tasks/CodeSynthesis/src/core/errors';
import { sha256 } from '../../tasks/CodeSynthesis/src/core/manifest';
import { lastGeneration } from '../../tasks/CodeSynthesis/src/core/merge-plan';
import { parseSettings, type RawInputs } from '../../tasks/CodeSynthesis/src/core/settings';
import { synthesize, type SynthesisPorts } from '../../tasks/CodeSynthesis/src/core/synthesize';
import { FakeHost, FakeModel, FakeSecretScanner, filesReply, MemoryFiles, MemoryTree } from '../fakes/ports';

const INPUTS: RawInputs = {
  provider: 'offline',
  intent: 'service:\n  name: svc\n  language: python\n  framework: flask\n',
  outputDirectory: '/work/out',
  conflictPolicy: 'merge',
  // Each test regenerates with the same inputs and another answer from the model: no reuse.
  reuse: 'false',
};
const V1 = 'import os\n\n\ndef port():\n    return 8080\n\n\ndef name():\n    return "svc"\n';
const V2 =
  'import os\n\n\ndef port():\n    return int(os.environ.get("PORT", "8080"))\n\n\ndef name():\n    return "svc"\n';
const MINE = '\n\ndef mine():\n    return 42\n';

function ports(files: Record<string, string>, tree: MemoryTree, host = new FakeHost()): SynthesisPorts {
  return {
    log: host,
    reader: new MemoryFiles(),
    tree,
    clock: { now: () => new Date('2026-11-05T10:00:00Z') },
    signal: host.signal,
    version: '1.0.0',
    connectModel: async () => new FakeModel(filesReply(files), { provider: 'offline' }),
    secretScanner: async () => new FakeSecretScanner(),
    report: host,
  };
}

const generate = (files: Record<string, string>, tree: MemoryTree, host?: FakeHost) =>
  synthesize(parseSettings(INPUTS), ports(files, tree, host));
const manifestOf = (tree: MemoryTree) => JSON.parse(tree.files.get(MANIFEST_PATH)!);

describe("conflictPolicy 'merge'", () => {
  it('keeps a base copy of what the model generated, in the same commit as the files', async () => {
    const tree = new MemoryTree();
    await generate({ 'svc/app.py': V1 }, tree);
    assert.equal(tree.commits, 1);
    assert.equal(tree.files.get('.synthesis/base/svc/app.py'), V1);
    assert.equal(manifestOf(tree).files[0].action, 'created');
  });

  it("keeps a person's added function through a regeneration that changed another part of the file", async () => {
    const tree = new MemoryTree();
    await generate({ 'svc/app.py': V1, 'svc/README.md': 'v1\n' }, tree);
    tree.files.set('svc/app.py', V1 + MINE);

    const result = await generate({ 'svc/app.py': V2, 'svc/README.md': 'v2\n' }, tree);
    const merged = tree.files.get('svc/app.py')!;
    assert.equal(merged, V2 + MINE);
    assert.equal(tree.files.get('svc/README.md'), 'v2\n', 'the untouched file is simply updated');
    assert.equal(tree.files.get('.synthesis/base/svc/app.py'), V2, 'the base is the new generation');
    const files = Object.fromEntries(
      result.manifest.files.map((f) => [f.path, [f.action, f.sha256, f.generatedSha256]]),
    );
    assert.deepEqual(files, {
      'svc/README.md': ['overwritten', sha256('v2\n'), undefined],
      'svc/app.py': ['merged', sha256(V2 + MINE), sha256(V2)],
    });

    // The next regeneration tells the person's lines from the model's by the base: they stay again.
    const v3 = V2.replace('import os', 'import os  # v3');
    await generate({ 'svc/app.py': v3, 'svc/README.md': 'v2\n' }, tree);
    assert.equal(tree.files.get('svc/app.py'), v3 + MINE);
  });

  it("leaves a person's file as it is when the new generation changes nothing they kept", async () => {
    const tree = new MemoryTree();
    await generate({ 'svc/app.py': V1 }, tree);
    tree.files.set('svc/app.py', V1 + MINE);
    const commits = tree.commits;
    const result = await generate({ 'svc/app.py': V1 }, tree);
    assert.equal(tree.files.get('svc/app.py'), V1 + MINE);
    const entry = result.manifest.files[0]!;
    assert.deepEqual(
      [entry.action, entry.sha256, entry.generatedSha256],
      ['unchanged', sha256(V1 + MINE), sha256(V1)],
    );
    assert.equal(tree.commits, commits + 1, 'the manifest is still written');
  });

  it('fails on lines both changed, naming each file and line range, and changes nothing', async () => {
    const tree = new MemoryTree();
    await generate({ 'svc/app.py': V1, 'svc/other.py': 'x = 1\n' }, tree);
    tree.files.set('svc/app.py', V1.replace('return 8080', 'return 9090'));
    const before = new Map(tree.files);
    const commits = tree.commits;

    const err = await generate({ 'svc/app.py': V2, 'svc/other.py': 'x = 2\n' }, tree).then(
      () => assert.fail('no error'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof MergeConflictError, String(err));
    assert.deepEqual(err.paths, ['svc/app.py']);
    assert.match(
      err.message,
      /1 file\(s\) have lines that both a person and the model changed:\n {2}- "svc\/app\.py": lines 5-11\./,
    );
    assert.match(err.hint, /Nothing was written/);
    assert.equal(tree.commits, commits);
    assert.deepEqual(tree.files, before);
  });

  it('merges with an empty base when the base copy is missing or does not match the manifest, and warns', async () => {
    for (const damage of ['delete', 'tamper'] as const) {
      const tree = new MemoryTree();
      await generate({ 'svc/app.py': V1 }, tree);
      tree.files.set('svc/app.py', V1 + MINE);
      if (damage === 'delete') tree.files.delete('.synthesis/base/svc/app.py');
      else tree.files.set('.synthesis/base/svc/app.py', 'something else\n');
      const host = new FakeHost();
      // Without a base, lines both sides have merge; lines only one side has are both sides' additions.
      await assert.rejects(generate({ 'svc/app.py': V2 }, tree, host), MergeConflictError, damage);
      assert.ok(
        host.lines.some(
          (l) =>
            l.level === 'warn' && /\.synthesis\/base\/ is missing or differs from the manifest/.test(l.text),
        ),
        damage,
      );
    }
  });

  it('merges a file a person wrote before any generation, from an empty base: identical lines are not a conflict', async () => {
    const tree = new MemoryTree(new Map([['svc/app.py', V1]]));
    await generate({ 'svc/app.py': V1 }, tree);
    assert.equal(manifestOf(tree).files[0].action, 'unchanged');
  });
});

describe('lastGeneration', () => {
  it("reads each file's generated hash from the last manifest, and nothing from a broken one", () => {
    const h = (c: string) => sha256(c);
    const text = JSON.stringify({
      files: [
        { path: 'a', sha256: h('a') },
        { path: 'b', sha256: h('b merged'), generatedSha256: h('b') },
        { path: 'c', sha256: 'not a hash' },
      ],
    });
    assert.deepEqual(
      [...lastGeneration(text)!],
      [
        ['a', h('a')],
        ['b', h('b')],
      ],
    );
    assert.equal(lastGeneration('{not json'), undefined);
    assert.equal(lastGeneration(undefined), undefined);
  });
});
