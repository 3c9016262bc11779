/**
 * The CLI host: what goes to stdout and stderr, with and without --json, and the exit code of each result.
 */
import assert from 'node:assert/strict';
import {
  createCliHost,
  EXIT_CODES,
  reportUsageError,
  type CliHostOptions,
  type CliReport,
} from '../../tasks/CodeSynthesis/src/adapters/pipeline/cli-host';
import { OUTPUTS } from '../../tasks/CodeSynthesis/src/core/contract';

function capture(options: Partial<CliHostOptions> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const host = createCliHost({
    inputs: {},
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    signal: new AbortController().signal,
    ...options,
  });
  return { host, out, err };
}

/** A run as run.ts drives the host: log lines, outputs, the summary, then the result. */
function succeed(host: ReturnType<typeof capture>['host']) {
  host.info('Intent: service card weather.');
  host.setOutput(OUTPUTS.filesWritten, '9');
  host.setOutput(OUTPUTS.serviceName, 'weather');
  host.publishSummary('## Code synthesis\nwrote 9 files');
  host.setResult('Succeeded', 'Wrote 9 file(s) to /tmp/o.');
}

const report = (line: string | undefined) => JSON.parse(line ?? 'missing') as CliReport;

describe('CLI host', () => {
  describe('--json', () => {
    it('prints exactly one JSON report on stdout, and every other line on stderr', () => {
      const { host, out, err } = capture({ json: true, verbose: true });
      succeed(host);
      assert.equal(out.length, 1, out.join('\n'));
      assert.deepEqual(report(out[0]), {
        result: 'Succeeded',
        exitCode: 0,
        message: 'Wrote 9 file(s) to /tmp/o.',
        outputs: { filesWritten: '9', serviceName: 'weather' },
      });
      const log = err.join('\n');
      for (const line of ['Intent: service card weather.', 'output filesWritten=9', '## Code synthesis'])
        assert.ok(log.includes(line), `stderr lacks '${line}':\n${log}`);
      assert.match(log, /Wrote 9 file\(s\) to \/tmp\/o\./);
    });

    it('reports a failure with exit code 1 and a cancel with exit code 3', () => {
      const failed = capture({ json: true });
      failed.host.setResult('Failed', "Input 'intentFile': not found.");
      assert.deepEqual(report(failed.out[0]), {
        result: 'Failed',
        exitCode: EXIT_CODES.failed,
        message: "Input 'intentFile': not found.",
        outputs: {},
      });
      assert.match(failed.err.join('\n'), /^error: Input 'intentFile': not found\.$/m);
      assert.equal(failed.host.exitCode, 1);

      const cancelled = capture({ json: true });
      cancelled.host.setResult('Cancelled', 'The run was cancelled.');
      assert.equal(report(cancelled.out[0]).result, 'Cancelled');
      assert.equal(report(cancelled.out[0]).exitCode, 3);
      assert.equal(cancelled.host.exitCode, EXIT_CODES.cancelled);
    });

    it('masks secrets in the report, also secrets that JSON escapes', () => {
      const { host, out, err } = capture({ json: true, verbose: true });
      const secrets = ['sk-plain-0123456789', 'k"ey\\with-quote-and-backslash'];
      for (const s of secrets) host.setSecret(s);
      host.setOutput(OUTPUTS.serviceName, `svc-${secrets[1]}`);
      host.setResult('Failed', `The service rejected ${secrets[0]} and ${secrets[1]}.`);
      const line = out[0] ?? '';
      for (const s of secrets) {
        assert.ok(!line.includes(s) && !line.includes(JSON.stringify(s).slice(1, -1)), line);
        assert.ok(!err.join('\n').includes(s));
      }
      const parsed = report(line);
      assert.equal(parsed.message, 'The service rejected *** and ***.');
      assert.equal(parsed.outputs.serviceName, 'svc-***');
    });

    it('masks the summary it keeps and prints, and JSON-escaped echoes in verbose output', () => {
      const { host, out, err } = capture({ verbose: true });
      const key = 'sk-qu"ote\\back-0123456789';
      host.setSecret(key);
      host.publishSummary(`## Code synthesis\nthe model said: ${key}`);
      host.debug(
        `401 {"error":{"message":"Incorrect API key provided: ${JSON.stringify(key).slice(1, -1)}."}}`,
      );
      host.debug(
        `escaped slashes: ${JSON.stringify('a/' + key)
          .slice(1, -1)
          .replace(/\//g, '\\/')}`,
      );
      const printed = [...out, ...err, host.summary ?? ''].join('\n');
      assert.equal(host.summary, '## Code synthesis\nthe model said: ***');
      assert.ok(!printed.includes('qu"ote') && !printed.includes('qu\\"ote'), printed);
      assert.match(err.join('\n'), /Incorrect API key provided: \*\*\*\./);
    });

    it('neutralises logging commands in the report, which stays valid JSON', () => {
      const { host, out } = capture({ json: true });
      host.setResult('Failed', 'Model said ##vso[task.setvariable variable=x]1');
      assert.ok(!out[0]!.includes('##vso['), out[0]);
      assert.match(report(out[0]).message, /^Model said #\u200b#vso\[task\.setvariable/);
    });

    it('a usage error prints the help on stderr and a UsageError report on stdout', () => {
      const out: string[] = [];
      const err: string[] = [];
      const code = reportUsageError('--out DIR is required.', 'Usage: code-synthesis ...', {
        json: true,
        out: (l) => out.push(l),
        err: (l) => err.push(l),
      });
      assert.equal(code, 2);
      assert.deepEqual(out.map(report), [
        { result: 'UsageError', exitCode: 2, message: '--out DIR is required.', outputs: {} },
      ]);
      assert.equal(err.join('\n'), 'error: --out DIR is required.\n\nUsage: code-synthesis ...');
    });
  });

  describe('without --json', () => {
    it('prints the log, the summary and the success message on stdout, warnings and errors on stderr', () => {
      const { host, out, err } = capture();
      succeed(host);
      host.warn('careful');
      assert.ok(out.includes('Intent: service card weather.'));
      assert.ok(out.includes('Wrote 9 file(s) to /tmp/o.'));
      assert.ok(out.some((l) => l.startsWith('## Code synthesis')));
      assert.ok(!out.some((l) => l.startsWith('{')), 'no JSON report');
      assert.deepEqual(err, ['warning: careful']);
      assert.equal(host.exitCode, 0);
    });

    it('a usage error prints nothing on stdout', () => {
      const out: string[] = [];
      const code = reportUsageError('bad', 'help', { out: (l) => out.push(l), err: () => {} });
      assert.equal(code, EXIT_CODES.usage);
      assert.deepEqual(out, []);
    });

    it('exits 1 when no result was set, and 0, 1, 3 for Succeeded, Failed, Cancelled', () => {
      assert.equal(capture().host.exitCode, 1);
      for (const [result, code] of [
        ['Succeeded', 0],
        ['Failed', 1],
        ['Cancelled', 3],
      ] as const) {
        const { host } = capture();
        host.setResult(result, 'm');
        assert.equal(host.exitCode, code, result);
      }
    });
  });
});
