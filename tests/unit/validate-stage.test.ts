/**
 * The validate-and-repair stage in the use case: validateCommand runs over the files the run would
 * write; a failure goes back to the model as the next message of the conversation; the repaired files
 * are checked and scanned again; every round and every call is in the manifest; a validation that
 * still fails writes nothing and says what failed.
 */
import assert from 'node:assert/strict';
import { MANIFEST_PATH } from '../../tasks/CodeSynthesis/src/core/contract';
import {
  CancelledError,
  FindingsError,
  PathError,
  ValidationError,
} from '../../tasks/CodeSynthesis/src/core/errors';
import { sha256 } from '../../tasks/CodeSynthesis/src/core/manifest';
import type { ModelClient } from '../../tasks/CodeSynthesis/src/core/ports';
import { parseSettings, type RawInputs } from '../../tasks/CodeSynthesis/src/core/settings';
import { synthesize, type SynthesisPorts } from '../../tasks/CodeSynthesis/src/core/synthesize';
import { run } from '../../tasks/CodeSynthesis/src/run';
import {
  FakeHost,
  FakeModel,
  FakeRunner,
  FakeSecretScanner,
  filesReply,
  MemoryFiles,
  MemoryTree,
  userOf,
  WEATHER_CARD,
} from '../fakes/ports';

const INPUTS: RawInputs = {
  provider: 'offline',
  intent: WEATHER_CARD,
  outputDirectory: '/work/out',
  validateCommand: 'python -m py_compile weather/app.py',
};
/** The same run against a remote model, which can repair. */
const REMOTE_INPUTS: RawInputs = {
  ...INPUTS,
  provider: 'azureOpenAI',
  authMode: 'apiKey',
  apiKey: 'k',
  endpoint: 'https://r.openai.azure.com',
  deployment: 'gpt',
};
const BROKEN = filesReply({ 'weather/app.py': 'def f(:\n', 'weather/README.md': 'readme\n' }, 'first');
const FIXED = filesReply({ 'weather/app.py': 'def f():\n    return 1\n' }, 'fixed the syntax');
const FAILED = {
  exitCode: 1,
  outputTail: '  File "weather/app.py", line 1\n    def f(:\n          ^\nSyntaxError: invalid syntax',
};

function ports(
  model: ModelClient,
  runner: FakeRunner,
  tree = new MemoryTree(),
  host = new FakeHost(),
): SynthesisPorts {
  let tick = 0;
  return {
    log: host,
    reader: new MemoryFiles(),
    tree,
    clock: { now: () => new Date(Date.UTC(2026, 0, 2, 3, 4, tick++)) },
    signal: host.signal,
    version: '1.0.0',
    connectModel: async () => model,
    secretScanner: async () => new FakeSecretScanner({ 'fake/secret': 'TOPSECRET' }),
    commandRunner: async () => runner,
    report: host,
  };
}

/** A model that is not the offline provider, replying BROKEN then `next`. */
function remoteModel(...next: { content: string }[]): FakeModel {
  const model = new FakeModel(BROKEN);
  model.queue.push(BROKEN, ...next);
  return model;
}

describe('validate and repair', () => {
  it('repairs once: the second request is the first plus the reply plus the failure, and the fix is written', async () => {
    const tree = new MemoryTree();
    const model = remoteModel(FIXED);
    const runner = new FakeRunner([FAILED, { exitCode: 0, outputTail: 'ok' }]);
    const result = await synthesize(parseSettings(REMOTE_INPUTS), ports(model, runner, tree));

    assert.equal(model.requests.length, 2);
    const [first, second] = model.requests as [(typeof model.requests)[0], (typeof model.requests)[0]];
    assert.deepEqual(second.messages.slice(0, 2), first.messages);
    assert.deepEqual(second.messages[2], { role: 'assistant', content: BROKEN.content });
    assert.equal(second.messages[3]!.role, 'user');
    const repairText = userOf(second);
    assert.ok(repairText.includes('python -m py_compile weather/app.py'), repairText);
    assert.ok(repairText.includes('failed with exit code 1'));
    assert.ok(repairText.includes('SyntaxError: invalid syntax'), 'the command output goes to the model');
    assert.ok(repairText.includes('"path":"weather/README.md"'), 'with the current files');

    // Round 2 ran over the repaired file; the file the repair left out stayed.
    assert.deepEqual(
      runner.requests[1]!.files.map((f) => [f.path, f.content]),
      [
        ['weather/app.py', 'def f():\n    return 1\n'],
        ['weather/README.md', 'readme\n'],
      ],
    );
    assert.equal(runner.requests[0]!.timeoutMs, 600_000);
    assert.equal(tree.files.get('weather/app.py'), 'def f():\n    return 1\n');

    const manifest = JSON.parse(tree.files.get(MANIFEST_PATH)!);
    assert.deepEqual(manifest.validation, [
      {
        round: 1,
        command: 'python -m py_compile weather/app.py',
        exitCode: 1,
        durationMs: 1234,
        outputTail: FAILED.outputTail,
        changedFiles: [],
      },
      {
        round: 2,
        command: 'python -m py_compile weather/app.py',
        exitCode: 0,
        durationMs: 1234,
        outputTail: 'ok',
        changedFiles: ['weather/app.py'],
      },
    ]);
    assert.deepEqual(
      manifest.calls.map((c: { purpose: string; messages: number; promptFile: string }) => [
        c.purpose,
        c.messages,
        c.promptFile,
      ]),
      [
        ['generate', 2, '.synthesis/prompts/chatcmpl-1.json'],
        ['repair', 4, '.synthesis/prompts/chatcmpl-2.json'],
      ],
    );
    assert.equal(
      manifest.calls[1].messagesSha256,
      sha256(JSON.stringify(second.messages.map((m) => [m.role, m.content]))),
    );
    assert.deepEqual(manifest.usage, { promptTokens: 20, completionTokens: 40 });
    assert.ok(tree.files.has('.synthesis/prompts/chatcmpl-2.json'), 'each call has its prompt record');
    assert.equal(result.modelSummary, 'fixed the syntax');
  });

  it('fails after the repairs, writing nothing, naming the command, exit code and last lines', async () => {
    const tree = new MemoryTree(new Map([['keep.txt', 'mine']]));
    const host = new FakeHost({
      ...INPUTS,
      provider: 'openAICompatible',
      authMode: 'apiKey',
      apiKey: 'k',
      endpoint: 'https://api.example.com/v1',
      deployment: 'm',
      repairAttempts: '1',
    });
    const model = remoteModel(BROKEN);
    const runner = new FakeRunner([FAILED]);
    await run(host, async () => ports(model, runner, tree, host));
    assert.equal(host.result?.outcome, 'Failed');
    assert.equal(tree.commits, 0);
    assert.deepEqual([...tree.files.keys()], ['keep.txt']);
    assert.equal(model.requests.length, 2, 'one repair, as repairAttempts says');
    assert.equal(runner.requests.length, 2);
    const message = host.result!.message;
    assert.match(
      message,
      /^validateCommand "python -m py_compile weather\/app\.py" failed with exit code 1 \(round 2\)\./,
    );
    assert.match(
      message,
      /Last lines of its output:\n {2}\| {3}File "weather\/app\.py", line 1\n[\s\S]*\| SyntaxError: invalid syntax/,
    );
    assert.match(message, /Nothing was written\. The model's 1 repair\(s\) did not fix it\./);
  });

  it('with the offline provider, validates but says there is nothing to repair', async () => {
    const model = new FakeModel(BROKEN, { provider: 'offline', deployment: 'builtin-templates' });
    const runner = new FakeRunner([FAILED]);
    const tree = new MemoryTree();
    const err = await synthesize(parseSettings(INPUTS), ports(model, runner, tree)).then(
      () => assert.fail('no error'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ValidationError, String(err));
    assert.equal(model.requests.length, 1, 'no repair request');
    assert.match(err.describe(), /offline provider renders fixed templates and cannot repair them/);
    assert.equal(tree.commits, 0);
  });

  it('with the archive provider, validates but says the archive cannot be repaired', async () => {
    const model = new FakeModel(BROKEN, {
      provider: 'archive',
      deployment: 'generated.zip',
      archive: { file: '/a/generated.zip', format: 'zip', sha256: 'a'.repeat(64), bytes: 10 },
    });
    const runner = new FakeRunner([FAILED]);
    const tree = new MemoryTree();
    const settings = parseSettings({
      ...INPUTS,
      intent: undefined,
      provider: 'archive',
      archiveFile: '/a/generated.zip',
      repairAttempts: '3',
    });
    const err = await synthesize(settings, ports(model, runner, tree)).then(
      () => assert.fail('no error'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ValidationError, String(err));
    assert.equal(runner.requests.length, 1, 'the command ran once');
    assert.equal(model.requests.length, 1, 'no repair request');
    assert.match(err.describe(), /archive provider unpacks the archive as it is and cannot repair it/);
    assert.equal(tree.commits, 0);
  });

  it('passes on the first round: no repair, one round in the manifest, the summary says so', async () => {
    const host = new FakeHost(INPUTS);
    const tree = new MemoryTree();
    const runner = new FakeRunner([{ exitCode: 0 }]);
    await run(host, async () => ports(new FakeModel(FIXED, { provider: 'offline' }), runner, tree, host));
    assert.equal(host.result?.outcome, 'Succeeded', host.result?.message);
    const manifest = JSON.parse(tree.files.get(MANIFEST_PATH)!);
    assert.equal(manifest.validation.length, 1);
    assert.match(host.summary ?? '', /\*\*Validation:\*\* python -m py\\_compile weather/);
  });

  it('warns once when the command could not be isolated from the task process', async () => {
    const host = new FakeHost();
    const runner = new FakeRunner([{ exitCode: 0 }], {
      kind: 'none',
      reason: 'no PID namespace could be made',
    });
    await synthesize(
      parseSettings(INPUTS),
      ports(new FakeModel(FIXED, { provider: 'offline' }), runner, undefined, host),
    );
    const warnings = host.lines.filter((l) => l.level === 'warn').map((l) => l.text);
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0]!,
      /without process isolation \(no PID namespace could be made\)[\s\S]*authMode 'entraId'/,
    );
  });

  it('runs the command in the working directory given, with the timeout given', async () => {
    const runner = new FakeRunner([{ exitCode: 0 }]);
    await synthesize(
      parseSettings({ ...INPUTS, validateWorkingDirectory: './weather/', validateTimeoutSeconds: '30' }),
      ports(new FakeModel(FIXED, { provider: 'offline' }), runner),
    );
    assert.equal(runner.requests[0]!.workingDirectory, 'weather');
    assert.equal(runner.requests[0]!.timeoutMs, 30_000);
  });

  it('gives the command only what would be written: a skipped file stays as the person has it', async () => {
    const tree = new MemoryTree(new Map([['weather/README.md', 'my readme\n']]));
    const runner = new FakeRunner([{ exitCode: 0 }]);
    await synthesize(
      parseSettings({ ...INPUTS, conflictPolicy: 'skip' }),
      ports(new FakeModel(BROKEN, { provider: 'offline' }), runner, tree),
    );
    assert.deepEqual(
      runner.requests[0]!.files.map((f) => f.path),
      ['weather/app.py'],
    );
  });

  it('checks the paths of a repair again: an unsafe one fails the run, nothing written', async () => {
    const tree = new MemoryTree();
    const model = remoteModel(filesReply({ '../escape.py': 'x' }));
    await assert.rejects(
      synthesize(parseSettings(REMOTE_INPUTS), ports(model, new FakeRunner([FAILED]), tree)),
      PathError,
    );
    assert.equal(tree.commits, 0);
  });

  it('scans a repair again: a secret the repair wrote stops the run', async () => {
    const tree = new MemoryTree();
    const model = remoteModel(filesReply({ 'weather/app.py': 'KEY = "TOPSECRET"\n' }));
    await assert.rejects(
      synthesize(parseSettings(REMOTE_INPUTS), ports(model, new FakeRunner([FAILED]), tree)),
      FindingsError,
    );
    assert.equal(tree.commits, 0);
  });

  it('a cancelled round cancels the run', async () => {
    const tree = new MemoryTree();
    await assert.rejects(
      synthesize(
        parseSettings(INPUTS),
        ports(
          new FakeModel(FIXED, { provider: 'offline' }),
          new FakeRunner([{ exitCode: 143, cancelled: true }]),
          tree,
        ),
      ),
      CancelledError,
    );
    assert.equal(tree.commits, 0);
  });

  it('without validateCommand nothing runs and the manifest has no validation', async () => {
    const tree = new MemoryTree();
    const runner = new FakeRunner();
    const without = { ...INPUTS, validateCommand: '' };
    await synthesize(
      parseSettings(without),
      ports(new FakeModel(FIXED, { provider: 'offline' }), runner, tree),
    );
    assert.equal(runner.requests.length, 0);
    assert.equal(JSON.parse(tree.files.get(MANIFEST_PATH)!).validation, undefined);
  });
});
