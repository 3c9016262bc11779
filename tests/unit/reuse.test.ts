/**
 * Reuse: an unchanged intent costs nothing. A second run with the same inputs neither signs in nor calls
 * the model, writes nothing, and says the files are up to date (output reused=true); a changed input is a
 * normal run; files people edited since are kept and listed; a missing file, or a manifest that cannot be
 * trusted, is a normal run. The fingerprint changes with each input that decides the files, and only
 * with those.
 */
import assert from 'node:assert/strict';
import { MANIFEST_PATH, OUTPUTS } from '../../tasks/CodeSynthesis/src/core/contract';
import { FINGERPRINT_PARTS, fingerprintRun } from '../../tasks/CodeSynthesis/src/core/fingerprint';
import { readIntent } from '../../tasks/CodeSynthesis/src/core/read-intent';
import { parseSettings, type RawInputs } from '../../tasks/CodeSynthesis/src/core/settings';
import type { SynthesisPorts } from '../../tasks/CodeSynthesis/src/core/synthesize';
import { run } from '../../tasks/CodeSynthesis/src/run';
import {
  FakeHost,
  FakeModel,
  FakeSecretScanner,
  filesReply,
  MemoryFiles,
  MemoryTree,
  WEATHER_CARD,
} from '../fakes/ports';

const INPUTS: RawInputs = {
  provider: 'azureOpenAI',
  endpoint: 'https://res.openai.azure.com',
  deployment: 'gpt-4o',
  authMode: 'apiKey',
  apiKey: 'the-key',
  intent: WEATHER_CARD,
  outputDirectory: '/work/out',
};
const POLICY = 'rules:\n  - id: no-keys\n    message: no keys\n    pattern: api_key\n';
const FILES = { 'weather/app.py': 'print(1)\n', 'weather/requirements.txt': 'flask==3.0.3\n' };

/** One pipeline run against `tree`, counting sign-ins (connectModel) and model calls. */
async function runOnce(tree: MemoryTree, inputs: RawInputs = INPUTS, files: Record<string, string> = FILES) {
  const host = new FakeHost(inputs);
  const model = new FakeModel(filesReply(files));
  let connects = 0;
  await run(host, async (_settings, h) => {
    const ports: SynthesisPorts = {
      log: h,
      reader: new MemoryFiles({ 'conventions.md': 'Use 4 spaces.', 'policy.yaml': POLICY }),
      tree,
      clock: { now: () => new Date('2026-11-29T10:00:00Z') },
      signal: h.signal,
      version: '1.0.0',
      connectModel: async () => {
        connects += 1;
        return model;
      },
      secretScanner: async () => new FakeSecretScanner(),
      report: h,
      build: { buildNumber: '20261129.1' },
    };
    return ports;
  });
  return { host, calls: model.requests.length, connects };
}

describe('reuse', () => {
  it('a second run with the same inputs signs in to nothing, calls no model, writes nothing, and says so', async () => {
    const tree = new MemoryTree();
    const first = await runOnce(tree);
    assert.equal(first.host.result?.outcome, 'Succeeded', first.host.result?.message);
    assert.equal(first.calls, 1);
    assert.equal(first.host.outputs.reused, 'false');
    const before = new Map(tree.files);

    const second = await runOnce(tree);
    assert.equal(second.host.result?.outcome, 'Succeeded', second.host.result?.message);
    assert.equal(second.calls, 0, 'no model call');
    assert.equal(second.connects, 0, 'no sign-in');
    assert.equal(tree.commits, 1, 'nothing written');
    assert.deepEqual(tree.files, before);
    assert.equal(
      second.host.result?.message,
      'The files in /work/out are up to date (the same inputs as the generation of 2026-11-29T10:00:00.000Z): no model was called and nothing was written.',
    );
    assert.deepEqual(second.host.outputs, {
      [OUTPUTS.filesWritten]: '0',
      [OUTPUTS.manifestPath]: '/work/out/.synthesis/manifest.json',
      [OUTPUTS.outputDirectory]: '/work/out',
      [OUTPUTS.serviceName]: 'weather',
      [OUTPUTS.language]: 'python',
      [OUTPUTS.promptTokens]: '0',
      [OUTPUTS.completionTokens]: '0',
      [OUTPUTS.sarifPath]: '',
      [OUTPUTS.pullRequestId]: '',
      [OUTPUTS.pullRequestUrl]: '',
      [OUTPUTS.reviewBranch]: '',
      [OUTPUTS.reused]: 'true',
    });
    assert.match(
      second.host.summary ?? '',
      /\*\*Up to date:\*\*.*\(build 20261129\.1\): no model was called/,
    );
    assert.match(second.host.summary ?? '', /\| weather\/app\.py \| 9 \| as generated \|/);
  });

  it('a changed setting makes a normal run (one call), and the log names what changed', async () => {
    const tree = new MemoryTree();
    await runOnce(tree);
    const second = await runOnce(tree, { ...INPUTS, temperature: '0.2', conflictPolicy: 'overwrite' });
    assert.equal(second.calls, 1);
    assert.equal(second.connects, 1);
    assert.equal(second.host.outputs.reused, 'false');
    assert.ok(
      second.host.lines.some(
        (l) =>
          l.text ===
          'Reuse: the model or its settings, the checks and limits changed since the last generation; generating.',
      ),
      second.host.lines.map((l) => l.text).join('\n'),
    );
  });

  it('a file people edited since is kept, not overwritten, and listed', async () => {
    const tree = new MemoryTree();
    await runOnce(tree);
    tree.files.set('weather/app.py', 'print(1)\nprint("mine")\n');
    const second = await runOnce(tree);
    assert.equal(second.calls, 0);
    assert.equal(tree.files.get('weather/app.py'), 'print(1)\nprint("mine")\n');
    assert.equal(second.host.result?.outcome, 'Succeeded');
    assert.match(
      second.host.result!.message,
      /; kept 1 file\(s\) people edited since \("weather\/app\.py"\)\.$/,
    );
    assert.ok(
      second.host.lines.some((l) => l.level === 'untrusted' && l.text === '  kept (edited): weather/app.py'),
    );
    assert.match(second.host.summary ?? '', /\| weather\/app\.py \| 9 \| edited since, kept \|/);
  });

  it('a generated file that is missing makes a normal run', async () => {
    const tree = new MemoryTree();
    const inputs = { ...INPUTS, conflictPolicy: 'overwrite' };
    await runOnce(tree, inputs);
    tree.files.delete('weather/requirements.txt');
    const second = await runOnce(tree, inputs);
    assert.equal(second.calls, 1);
    assert.equal(tree.files.get('weather/requirements.txt'), 'flask==3.0.3\n');
    assert.ok(
      second.host.lines.some((l) =>
        /1 file\(s\) of the last generation are missing \("weather\/requirements\.txt"\)/.test(l.text),
      ),
    );
  });

  it('reuse: false always generates', async () => {
    const tree = new MemoryTree();
    await runOnce(tree);
    const second = await runOnce(tree, { ...INPUTS, reuse: 'false', conflictPolicy: 'overwrite' });
    assert.equal(second.calls, 1);
  });

  it('a manifest edited to list a path outside the output directory is not trusted: a normal run', async () => {
    const tree = new MemoryTree();
    await runOnce(tree);
    const manifest = JSON.parse(tree.files.get(MANIFEST_PATH)!);
    manifest.files.push({ path: '../../etc/passwd', sha256: 'a'.repeat(64), bytes: 1, action: 'created' });
    tree.files.set(MANIFEST_PATH, JSON.stringify(manifest));
    const second = await runOnce(tree, { ...INPUTS, conflictPolicy: 'overwrite' });
    assert.equal(second.calls, 1);
    assert.ok(second.host.lines.some((l) => /cannot be read as a manifest of this task/.test(l.text)));
  });

  it('a manifest from before fingerprints is a normal run, saying why', async () => {
    const tree = new MemoryTree();
    await runOnce(tree);
    const manifest = JSON.parse(tree.files.get(MANIFEST_PATH)!);
    delete manifest.fingerprint;
    tree.files.set(MANIFEST_PATH, JSON.stringify(manifest));
    const second = await runOnce(tree, { ...INPUTS, conflictPolicy: 'overwrite' });
    assert.equal(second.calls, 1);
    assert.ok(second.host.lines.some((l) => /recorded no fingerprint/.test(l.text)));
  });
});

describe('fingerprint', () => {
  const fingerprint = async (inputs: RawInputs, files: Record<string, string> = {}, version = '1.0.0') => {
    const settings = parseSettings(inputs);
    const prepared = await readIntent(settings, {
      log: new FakeHost(),
      reader: new MemoryFiles({ 'conventions.md': 'Use 4 spaces.', 'policy.yaml': POLICY, ...files }),
    });
    return fingerprintRun(prepared, settings, version);
  };

  it('changes with each input that decides the files, in the part that names it', async () => {
    const base = await fingerprint({
      ...INPUTS,
      instructionsFile: 'conventions.md',
      policyFile: 'policy.yaml',
    });
    const changes: [string, Promise<Awaited<ReturnType<typeof fingerprint>>>][] = [
      [
        'intent',
        fingerprint({
          ...INPUTS,
          intent: WEATHER_CARD + '  port: 9000\n',
          instructionsFile: 'conventions.md',
          policyFile: 'policy.yaml',
        }),
      ],
      [
        'instructions',
        fingerprint(
          { ...INPUTS, instructionsFile: 'conventions.md', policyFile: 'policy.yaml' },
          { 'conventions.md': 'Use tabs.' },
        ),
      ],
      [
        'policy',
        fingerprint(
          { ...INPUTS, instructionsFile: 'conventions.md', policyFile: 'policy.yaml' },
          { 'policy.yaml': POLICY + '# changed\n' },
        ),
      ],
      [
        'model',
        fingerprint({
          ...INPUTS,
          deployment: 'gpt-4.1',
          instructionsFile: 'conventions.md',
          policyFile: 'policy.yaml',
        }),
      ],
      [
        'model',
        fingerprint({
          ...INPUTS,
          endpoint: 'https://other.openai.azure.com',
          instructionsFile: 'conventions.md',
          policyFile: 'policy.yaml',
        }),
      ],
      [
        'model',
        fingerprint({
          ...INPUTS,
          apiVersion: '2025-04-01-preview',
          instructionsFile: 'conventions.md',
          policyFile: 'policy.yaml',
        }),
      ],
      [
        'model',
        fingerprint({ ...INPUTS, seed: '7', instructionsFile: 'conventions.md', policyFile: 'policy.yaml' }),
      ],
      [
        'generation',
        fingerprint({
          ...INPUTS,
          generationStrategy: 'planned',
          instructionsFile: 'conventions.md',
          policyFile: 'policy.yaml',
        }),
      ],
      [
        'checks',
        fingerprint({
          ...INPUTS,
          provenanceHeaders: 'true',
          instructionsFile: 'conventions.md',
          policyFile: 'policy.yaml',
        }),
      ],
      [
        'validation',
        fingerprint({
          ...INPUTS,
          validateCommand: 'pytest',
          instructionsFile: 'conventions.md',
          policyFile: 'policy.yaml',
        }),
      ],
      [
        'task',
        fingerprint(
          { ...INPUTS, instructionsFile: 'conventions.md', policyFile: 'policy.yaml' },
          {},
          '1.0.1',
        ),
      ],
    ];
    for (const [part, pending] of changes) {
      const changed = await pending;
      assert.notEqual(changed.sha256, base.sha256, `a change of ${part}`);
      assert.notEqual(
        changed.parts[part as keyof typeof FINGERPRINT_PARTS],
        base.parts[part as keyof typeof FINGERPRINT_PARTS],
        part,
      );
    }
  });

  it('does not change with what does not decide the files: concurrency, the time budget, prices, the review, the key', async () => {
    const base = await fingerprint(INPUTS);
    for (const other of [
      { concurrency: '12' },
      { timeoutSeconds: '900' },
      { promptTokenPrice: '2.5', completionTokenPrice: '10' },
      { reviewMode: 'pullRequest' },
      { apiKey: 'another-key' },
      { reuse: 'false' },
    ])
      assert.equal((await fingerprint({ ...INPUTS, ...other })).sha256, base.sha256, JSON.stringify(other));
  });
});
