import assert from 'node:assert/strict';
import { InputError, ValidationError } from '../../tasks/CodeSynthesis/src/core/errors';
import {
  applyRepair,
  checkWorkingDirectory,
  isolationWarning,
  maskSecrets,
  showCommand,
  tailOutput,
  validationFailed,
  validationRound,
  VALIDATION_DEFAULTS,
  type CommandResult,
} from '../../tasks/CodeSynthesis/src/core/validate';

const result = (over: Partial<CommandResult> = {}): CommandResult => ({
  exitCode: 1,
  durationMs: 1234.4,
  outputTail: 'collecting\nFAILED test_app.py::test_weather - assert 500 == 200',
  timedOut: false,
  cancelled: false,
  isolation: { kind: 'pid-namespace', mechanism: 'unshare --user --pid', readOnly: [] },
  ...over,
});

describe('checkWorkingDirectory', () => {
  it('normalises a relative folder; empty and . mean the root', () => {
    assert.equal(checkWorkingDirectory(undefined), '');
    assert.equal(checkWorkingDirectory(' . '), '');
    assert.equal(checkWorkingDirectory('./weather/'), 'weather');
    assert.equal(checkWorkingDirectory('services\\api\\.'), 'services/api');
  });

  for (const bad of [
    '/etc',
    'C:\\work',
    'c:relative',
    '../elsewhere',
    'a/../../b',
    'we\u202eather',
    'a\nb',
  ]) {
    it(`rejects ${JSON.stringify(bad)} naming the input`, () => {
      assert.throws(
        () => checkWorkingDirectory(bad),
        (e: unknown) => e instanceof InputError && e.subject === 'validateWorkingDirectory',
      );
    });
  }
});

describe('maskSecrets', () => {
  it('masks every occurrence, the longest first, and the URL-encoded form', () => {
    assert.equal(
      maskSecrets('key=abc/def+1 again abc/def+1 enc=abc%2Fdef%2B1 part=abc', ['abc', 'abc/def+1']),
      'key=*** again *** enc=*** part=***',
    );
    assert.equal(maskSecrets('nothing here', ['', 'zzz']), 'nothing here');
  });
});

describe('tailOutput', () => {
  it('keeps the last lines within the line bound', () => {
    const text = Array.from({ length: 250 }, (_, i) => `line ${i + 1}`).join('\n') + '\n';
    const tail = tailOutput(text, []).split('\n');
    assert.equal(tail.length, VALIDATION_DEFAULTS.tailLines);
    assert.equal(tail[0], 'line 151');
    assert.equal(tail.at(-1), 'line 250');
  });

  it('keeps at most maxBytes of UTF-8, cutting a long line at a character boundary', () => {
    const tail = tailOutput('x'.repeat(100) + '\n' + 'é'.repeat(5000), [], { maxBytes: 101, maxLines: 10 });
    assert.ok(Buffer.byteLength(tail) <= 101);
    assert.equal(tail, 'é'.repeat(50));
    const two = tailOutput('first\nsecond\nthird', [], { maxBytes: 12, maxLines: 10 });
    assert.equal(two, 'second\nthird');
  });

  it('masks secrets before cutting, so a secret across the cut does not leak its end', () => {
    const secret = 'SECRETVALUE1234';
    const tail = tailOutput(`prefix ${secret}\nlast`, [secret], { maxBytes: 12, maxLines: 10 });
    assert.doesNotMatch(tail, /1234|VALUE/);
  });

  it('removes ANSI colours and control characters, and keeps a progress line as last drawn', () => {
    const tail = tailOutput(
      '\u001b[31mred\u001b[0m\n10%\r50%\r100%\nbell\u0007 \u001b]0;title\u0007ok\r\n\u202eevil\n\n\n',
      [],
    );
    assert.equal(tail, 'red\n100%\nbell ok\nevil');
  });
});

describe('showCommand', () => {
  it('shows the first line, JSON-quoted, and marks what was left out', () => {
    assert.equal(showCommand('pytest -q'), '"pytest -q"');
    assert.equal(showCommand('npm ci\nnpm test'), '"npm ci …"');
    assert.equal(showCommand('x'.repeat(130)), JSON.stringify('x'.repeat(120) + ' …'));
  });
});

describe('validationRound', () => {
  it('records the manifest fields, with command and exitCode named so', () => {
    const round = validationRound(2, 'pytest', result({ timedOut: true, exitCode: 143 }), ['b.py', 'a.py']);
    assert.deepEqual(round, {
      round: 2,
      command: 'pytest',
      exitCode: 143,
      durationMs: 1234,
      outputTail: result().outputTail,
      changedFiles: ['a.py', 'b.py'],
      timedOut: true,
    });
    assert.equal('timedOut' in validationRound(1, 'pytest', result(), []), false);
  });
});

describe('applyRepair', () => {
  it('replaces the files the reply names, keeps the others, adds new ones, and lists what changed', () => {
    const current = [
      { path: 'app.py', content: 'broken' },
      { path: 'README.md', content: 'readme' },
      { path: 'same.py', content: 'same' },
    ];
    const { files, changed } = applyRepair(current, [
      { path: 'test_app.py', content: 'new test' },
      { path: 'same.py', content: 'same' },
      { path: 'app.py', content: 'fixed' },
    ]);
    assert.deepEqual(files, [
      { path: 'app.py', content: 'fixed' },
      { path: 'README.md', content: 'readme' },
      { path: 'same.py', content: 'same' },
      { path: 'test_app.py', content: 'new test' },
    ]);
    assert.deepEqual(changed, ['app.py', 'test_app.py']);
  });
});

describe('isolationWarning', () => {
  it('says nothing when isolated, and names the reason and the advice when not', () => {
    assert.equal(isolationWarning(result().isolation), undefined);
    const warning = isolationWarning({ kind: 'none', reason: 'macOS has no PID namespaces' });
    assert.match(warning ?? '', /without process isolation \(macOS has no PID namespaces\)/);
    assert.match(warning ?? '', /entraId/);
  });
});

describe('validationFailed', () => {
  it('names the command and exit code and quotes the last lines', () => {
    const error = validationFailed(result(), 'pytest -q', 3, 'azureOpenAI');
    assert.ok(error instanceof ValidationError);
    assert.equal(error.subject, 'validateCommand');
    assert.match(error.message, /validateCommand "pytest -q" failed with exit code 1 \(round 3\)/);
    assert.match(error.message, /\n {2}\| FAILED test_app\.py::test_weather - assert 500 == 200$/);
    assert.match(error.describe(), /Nothing was written\. The model's 2 repair\(s\) did not fix it\./);
  });

  it('quotes at most the last 20 lines, says when it timed out, and when nothing was printed', () => {
    const long = Array.from({ length: 60 }, (_, i) => `l${i}`).join('\n');
    const error = validationFailed(
      result({ outputTail: long, timedOut: true, exitCode: 137, durationMs: 600_000 }),
      'go test ./...',
      1,
      'openAICompatible',
    );
    assert.match(error.message, /timed out after 600 s \(exit code 137\)/);
    assert.equal((error.message.match(/\n {2}\| /g) ?? []).length, VALIDATION_DEFAULTS.messageLines);
    assert.match(error.message, /\| l59$/);
    assert.match(
      validationFailed(result({ outputTail: '' }), 'true', 1, 'azureOpenAI').message,
      /It printed nothing\./,
    );
  });

  it('with the offline provider, says there is nothing to repair', () => {
    assert.match(
      validationFailed(result(), 'pytest', 1, 'offline').describe(),
      /offline provider .* cannot repair/,
    );
  });

  it('with the archive provider, says the archive cannot be repaired and points to the step that made it', () => {
    const hint = validationFailed(result(), 'pytest', 1, 'archive').describe();
    assert.match(
      hint,
      /Nothing was written\. The archive provider unpacks the archive as it is and cannot repair it/,
    );
    assert.match(hint, /the step that made the archive \('archiveFile'\)/);
    assert.doesNotMatch(hint, /repairAttempts/);
  });
});
