/**
 * The local CLI (bin/code-synthesis.js over dist/cli.js), black box.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { agent } from '../support/agent-run';
import { zip } from '../support/archives';
import { sarifErrors } from '../support/sarif-schema';
import { snapshotTree } from '../support/tree-snapshot';

const BIN = path.join(agent.ROOT, 'bin', 'code-synthesis.js');

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: agent.ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout + r.stderr, stdout: r.stdout, stderr: r.stderr };
}

describe('CLI', function () {
  this.timeout(30000);
  let work: string;
  beforeEach(() => (work = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-cli-'))));
  afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

  it('prints help', () => {
    const r = cli(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.out, /Usage: code-synthesis --intent FILE --out DIR/);
    // Every exit code the CLI uses is listed: 0, 1, 2 (usage errors) and 3 (cancelled).
    assert.match(r.out, /^ {2}0 +success/m);
    assert.match(r.out, /^ {2}1 +the run failed/m);
    assert.match(r.out, /^ {2}2 +usage error/m);
    assert.match(r.out, /^ {2}3 +cancelled/m);
    assert.match(r.out, /^ {2}--json /m);
    assert.match(r.out, /^ {2}CODE_SYNTHESIS_API_KEY /m);
  });

  it('prints its version', () => {
    const r = cli(['--version']);
    assert.equal(r.code, 0);
    const { version } = JSON.parse(fs.readFileSync(path.join(agent.ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    assert.equal(r.stdout, `${version}\n`);
  });

  it('with --json, prints one JSON report on stdout and the log on stderr', () => {
    const out = path.join(work, 'out');
    const r = cli(['--intent', 'examples/weather.yaml', '--out', out, '--json']);
    assert.equal(r.code, 0, r.out);
    assert.equal(r.stdout.split('\n').filter(Boolean).length, 1, r.stdout);
    const report = JSON.parse(r.stdout) as {
      result: string;
      exitCode: number;
      outputs: Record<string, string>;
    };
    assert.equal(report.result, 'Succeeded');
    assert.equal(report.exitCode, 0);
    assert.equal(report.outputs.serviceName, 'weather');
    assert.equal(report.outputs.manifestPath, path.join(out, '.synthesis', 'manifest.json'));
    const manifest = JSON.parse(fs.readFileSync(report.outputs.manifestPath!, 'utf8')) as {
      files: unknown[];
    };
    assert.equal(report.outputs.filesWritten, String(manifest.files.length));
    assert.match(r.stderr, /created: weather\/app\.py/);
  });

  it('with --json, a usage error is a UsageError report and exit code 2', () => {
    for (const args of [
      ['--intent', 'examples/weather.yaml', '--json'],
      ['--json', '--no-such-flag'],
    ]) {
      const r = cli(args);
      assert.equal(r.code, 2, r.out);
      const report = JSON.parse(r.stdout) as { result: string; exitCode: number };
      assert.deepEqual([report.result, report.exitCode], ['UsageError', 2]);
      assert.match(r.stderr, /^Usage: code-synthesis/m);
    }
  });

  it('exits 3 when cancelled (SIGINT) during the model call, and writes nothing', async () => {
    const key = 'sk-cancel-secret-0123456789';
    const sockets = new Set<Socket>();
    let onRequest: () => void = () => {};
    const server = http.createServer(() => onRequest()); // never answers
    server.on('connection', (s) => sockets.add(s));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const out = path.join(work, 'out');
      const { port } = server.address() as AddressInfo;
      const child = spawn(
        process.execPath,
        [
          BIN,
          ...['--intent', 'examples/weather.yaml', '--out', out, '--json'],
          ...['--provider', 'openAICompatible', '--endpoint', `http://127.0.0.1:${port}/v1`],
          ...['--deployment', 'm', '--timeout-seconds', '60', '--verbose'],
        ],
        { cwd: agent.ROOT, env: { ...process.env, CODE_SYNTHESIS_API_KEY: key } },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      onRequest = () => child.kill('SIGINT');
      const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      assert.equal(code, 3, stdout + stderr);
      assert.match(stderr, /Received SIGINT: cancelling/);
      const report = JSON.parse(stdout) as { result: string; exitCode: number };
      assert.deepEqual([report.result, report.exitCode], ['Cancelled', 3]);
      assert.ok(!fs.existsSync(out), 'nothing was written');
      assert.ok(!(stdout + stderr).includes(key), 'the key is never printed, in --json mode either');
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('exits 2 on an unknown option, as the help says', () => {
    const r = cli(['--intent', 'examples/weather.yaml', '--out', work, '--no-such-flag']);
    assert.equal(r.code, 2);
    assert.match(r.out, /^ {2}2 +usage error/m);
  });

  it('writes the offline service; a second run reuses it, and one with --reuse false finds the same files unchanged', () => {
    const out = path.join(work, 'out');
    const first = cli(['--intent', 'examples/weather.yaml', '--out', out]);
    assert.equal(first.code, 0, first.out);
    assert.ok(fs.existsSync(path.join(out, 'weather', 'app.py')));
    assert.ok(fs.existsSync(path.join(out, '.synthesis', 'manifest.json')));
    const second = cli(['--intent', 'examples/weather.yaml', '--out', out]);
    assert.equal(second.code, 0, second.out);
    assert.match(second.out, /The files are up to date/);
    const third = cli(['--intent', 'examples/weather.yaml', '--out', out, '--reuse', 'false']);
    assert.equal(third.code, 0, third.out);
    assert.match(third.out, /unchanged: weather\/app\.py/);
  });

  it('fails on a conflict and leaves the directory as it was', () => {
    const out = path.join(work, 'out');
    fs.mkdirSync(path.join(out, 'weather'), { recursive: true });
    fs.writeFileSync(path.join(out, 'weather', 'app.py'), 'my own app\n');
    const before = snapshotTree(out);
    const r = cli(['--intent', 'examples/weather.yaml', '--out', out]);
    assert.equal(r.code, 1);
    assert.match(r.out, /already exist[\s\S]*weather\/app\.py[\s\S]*conflictPolicy/);
    assert.deepEqual(snapshotTree(out), before);
  });

  it('scans: an organisation rule stops the write, --fail-on-findings false writes with warnings, --sarif writes the log', () => {
    const out = path.join(work, 'out');
    const policy = path.join(work, 'policy.yaml');
    fs.writeFileSync(
      policy,
      "rules:\n  - {id: no-flask, message: 'Flask is not approved here', pattern: 'from flask import', files: '*.py'}\n",
    );
    const sarif = path.join(work, 'reports', 'scan.sarif');
    const before = snapshotTree(out);
    const blocked = cli([
      '--intent',
      'examples/weather.yaml',
      '--out',
      out,
      '--policy',
      policy,
      '--sarif',
      sarif,
    ]);
    assert.equal(blocked.code, 1, blocked.out);
    assert.match(blocked.out, /error: weather\/app\.py:\d+: no-flask: Flask is not approved here/);
    assert.match(blocked.out, /"weather\/app\.py":\d+ no-flask/);
    assert.deepEqual(snapshotTree(out), before, 'nothing written');
    const log = JSON.parse(fs.readFileSync(sarif, 'utf8'));
    assert.equal(sarifErrors(log), '');
    assert.equal(log.runs[0].results[0].ruleId, 'no-flask');

    const warned = cli([
      '--intent',
      'examples/weather.yaml',
      '--out',
      out,
      '--policy',
      policy,
      '--fail-on-findings',
      'false',
    ]);
    assert.equal(warned.code, 0, warned.out);
    assert.match(warned.out, /warning: weather\/app\.py:\d+: no-flask/);
    assert.ok(fs.existsSync(path.join(out, 'weather', 'app.py')));
  });

  it('rejects missing arguments with usage', () => {
    const r = cli(['--out', work]);
    assert.equal(r.code, 2);
    assert.match(r.out, /--intent FILE or --intent-text TEXT is required/);
    const archive = cli(['--provider', 'archive', '--out', work]);
    assert.equal(archive.code, 2);
    assert.match(archive.out, /--archive FILE is required with --provider archive/);
  });

  it('--provider archive --archive FILE: unpacks through the same checks, needing no intent and no key', () => {
    const out = path.join(work, 'out');
    const archive = path.join(work, 'generated.zip');
    fs.writeFileSync(archive, zip([{ name: 'svc/app.py', data: 'print("hi")\n' }]));
    const r = cli(['--provider', 'archive', '--archive', archive, '--out', out, '--json']);
    assert.equal(r.code, 0, r.out);
    const report = JSON.parse(r.stdout) as { result: string; outputs: Record<string, string> };
    assert.equal(report.result, 'Succeeded');
    assert.equal(report.outputs.filesWritten, '1');
    assert.equal(fs.readFileSync(path.join(out, 'svc', 'app.py'), 'utf8'), 'print("hi")\n');
    const manifest = JSON.parse(fs.readFileSync(report.outputs.manifestPath!, 'utf8'));
    assert.equal(manifest.model.provider, 'archive');
    assert.equal(manifest.model.archive.file, archive);

    const hostile = path.join(work, 'hostile.zip');
    fs.writeFileSync(hostile, zip([{ name: '../escape.txt', data: 'x' }]));
    const before = snapshotTree(work);
    const refused = cli(['--provider', 'archive', '--archive', hostile, '--out', out]);
    assert.equal(refused.code, 1, refused.out);
    assert.match(
      refused.out,
      /input 'archiveFile'[\s\S]*"\.\.\/escape\.txt": climbs out of the output directory/,
    );
    assert.deepEqual(snapshotTree(work), before);
  });

  it('never prints the API key it reads from CODE_SYNTHESIS_API_KEY', () => {
    const key = 'sk-cli-secret-abcdef0123456789';
    const r = cli(
      [
        '--intent',
        'examples/weather.yaml',
        '--out',
        path.join(work, 'o'),
        '--provider',
        'openAICompatible',
        '--endpoint',
        'https://127.0.0.1:9/v1',
        '--deployment',
        'm',
        '--timeout-seconds',
        '5',
        '--verbose',
      ],
      { CODE_SYNTHESIS_API_KEY: key },
    );
    assert.equal(r.code, 1);
    assert.match(r.out, /127\.0\.0\.1/);
    assert.ok(!r.out.includes(key), r.out);
  });
});
