/**
 * Organisation rules on a real worker thread: the same spans as in-process; a pattern that backtracks
 * for ever is stopped at its budget with an error naming the rule, its line and the file; a cancel
 * stops it at once; and the main thread stays free meanwhile (the agent's SIGTERM is heard).
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { WorkerPatternRunner } from '../../tasks/CodeSynthesis/src/adapters/scan/worker-pattern-runner';
import { CancelledError, PolicyFileError } from '../../tasks/CodeSynthesis/src/core/errors';
import { parsePolicyFile } from '../../tasks/CodeSynthesis/src/core/policy-file';
import { scanFiles } from '../../tasks/CodeSynthesis/src/core/scan';
import { parseSettings } from '../../tasks/CodeSynthesis/src/core/settings';
import { synthesize } from '../../tasks/CodeSynthesis/src/core/synthesize';
import { FakeHost, FakeModel, FakeSecretScanner, filesReply, MemoryFiles, MemoryTree } from '../fakes/ports';

/** The review's pattern: exponential on a word of letters followed by anything but '='. */
const CATASTROPHIC = String.raw`^(\s*\w+\s*)+=\s*"secret`;
const ATTACK = 'a'.repeat(36) + '!';

const POLICY = [
  'rules:',
  '  - id: no-api-keys',
  '    message: no keys',
  String.raw`    pattern: '\bapi[_-]?key\b\s*='`,
  '    ignoreCase: true',
  '  - id: slow-secrets',
  '    message: no secrets',
  `    pattern: '${CATASTROPHIC}'`,
  "    files: ['*.py']",
].join('\n');

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  return assert.fail('expected a rejection');
}

describe('WorkerPatternRunner (a real worker thread)', function () {
  this.timeout(30_000);

  it('finds the same spans as the rules do in-process', async () => {
    const rules = parsePolicyFile(
      [
        'rules:',
        "  - {id: a, message: m, pattern: 'api_key', ignoreCase: true}",
        "  - {id: b, message: m, pattern: 'token=(?<secret>\\w+)'}",
        "  - {id: c, message: m, pattern: '^x|y$'}",
      ].join('\n'),
      'p.yaml',
    );
    const files = [
      { path: 'a.py', content: 'API_KEY = 1\napi_key = 2\ntoken=abc\n' },
      { path: 'b.ts', content: 'x token=zz y' },
      { path: 'empty.txt', content: '' },
    ];
    const inline = await scanFiles(files, { rules });
    const guarded = await scanFiles(files, { rules, runner: new WorkerPatternRunner() });
    assert.ok(inline.findings.length >= 5, JSON.stringify(inline.findings));
    assert.deepEqual(guarded.findings, inline.findings);
  });

  it('stops a rule that overruns its budget, naming the rule, its line and the file', async () => {
    const rules = parsePolicyFile(POLICY, 'policy.yaml');
    const started = performance.now();
    const error = await rejection(
      scanFiles(
        [
          { path: 'ok.py', content: 'x = 1\n' },
          { path: 'svc/app.py', content: ATTACK },
        ],
        { rules, runner: new WorkerPatternRunner(300) },
      ),
    );
    const ms = performance.now() - started;
    assert.ok(error instanceof PolicyFileError, String(error));
    assert.equal(error.subject, 'policyFile');
    assert.match(
      error.message,
      /^Policy file 'policy\.yaml' has 1 problem\(s\):\n {2}- line 6: rule 'slow-secrets' took longer than 300 ms on "svc\/app\.py", so the scan stopped it: its pattern backtracks/,
    );
    assert.match(error.hint, /^Nothing was written\. Rewrite the pattern/);
    assert.ok(ms < 5000, `stopped after ${Math.round(ms)} ms`);
  });

  it('a cancel terminates the worker at once, and the main thread is free meanwhile', async () => {
    const rules = parsePolicyFile(POLICY, 'policy.yaml');
    const controller = new AbortController();
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 20);
    setTimeout(() => controller.abort(), 300);
    const started = performance.now();
    const error = await rejection(
      scanFiles([{ path: 'app.py', content: ATTACK }], {
        rules,
        runner: new WorkerPatternRunner(60_000),
        signal: controller.signal,
      }),
    );
    clearInterval(ticker);
    const ms = performance.now() - started;
    assert.ok(error instanceof CancelledError, String(error));
    assert.ok(ms < 3000, `cancelled after ${Math.round(ms)} ms`);
    assert.ok(ticks >= 5, `the main thread ran its timers ${ticks} times while the rule ran`);
  });

  it('in a run: the synthesis fails on the rule, writes nothing, and names the file', async () => {
    const host = new FakeHost();
    const tree = new MemoryTree();
    const error = await rejection(
      synthesize(
        parseSettings({
          provider: 'offline',
          intent: 'a service',
          outputDirectory: '/work/out',
          policyFile: 'policy.yaml',
        }),
        {
          log: host,
          reader: new MemoryFiles({ 'policy.yaml': POLICY }),
          tree,
          clock: { now: () => new Date(0) },
          signal: host.signal,
          version: '1.0.0',
          connectModel: async () => new FakeModel(filesReply({ 'svc/app.py': ATTACK })),
          secretScanner: async () => new FakeSecretScanner(),
          patternRunner: async () => new WorkerPatternRunner(300),
          report: host,
        },
      ),
    );
    assert.ok(error instanceof PolicyFileError, String(error));
    assert.match(error.message, /rule 'slow-secrets' took longer than 300 ms on "svc\/app\.py"/);
    assert.equal(tree.commits, 0);
  });
});
