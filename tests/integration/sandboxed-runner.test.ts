/**
 * SandboxedRunner against real processes: bash, the scratch copy, timeouts, cancellation, the
 * environment and, on Linux, the PID namespace that keeps the task's /proc/<pid>/environ out of reach.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CancelledError, InputError, ValidationError } from '../../tasks/CodeSynthesis/src/core/errors';
import type { CommandRequest, CommandResult } from '../../tasks/CodeSynthesis/src/core/validate';
import { VALIDATION_DEFAULTS } from '../../tasks/CodeSynthesis/src/core/validate';
import {
  probeIsolation,
  STRATEGIES,
  type StrategyName,
} from '../../tasks/CodeSynthesis/src/adapters/validate/isolation';
import {
  SandboxedRunner,
  type SandboxedRunnerOptions,
} from '../../tasks/CodeSynthesis/src/adapters/validate/sandboxed-runner';
import { SCRATCH_PREFIX } from '../../tasks/CodeSynthesis/src/adapters/validate/scratch-tree';
import { snapshotTree } from '../support/tree-snapshot';
import type { ChildTaskRequest } from '../support/validate-child-task';
import { useWorkDir } from '../support/work-dir';

const CHILD_TASK = path.join(__dirname, '..', 'support', 'validate-child-task.js');
const linux = process.platform === 'linux';

describe('SandboxedRunner (real processes)', function () {
  this.timeout(60_000);
  before(function () {
    if (process.platform === 'win32') this.skip(); // cmd.exe branch: see the report; no Windows runner here
  });

  const dir = useWorkDir('cs-validate', {
    'README.md': 'readme\n',
    'lib/util.py': 'X = 1\n',
    '.git/HEAD': 'ref: refs/heads/main\n',
  });
  const temp = (): string => path.join(dir.work, 'tmp');
  const runner = (options: Partial<SandboxedRunnerOptions> = {}): SandboxedRunner =>
    new SandboxedRunner({ outputDirectory: dir.out, tempDirectory: temp(), secrets: [], ...options });
  const request = (command: string, over: Partial<CommandRequest> = {}): CommandRequest => ({
    command,
    files: [],
    workingDirectory: '',
    timeoutMs: 20_000,
    signal: new AbortController().signal,
    ...over,
  });
  const scratchLeft = (): string[] =>
    fs.existsSync(temp()) ? fs.readdirSync(temp()).filter((n) => n.startsWith(SCRATCH_PREFIX)) : [];

  describe('exit codes and the shell', () => {
    it('returns the exit code, 0 for success', async () => {
      assert.equal((await runner().run(request('true'))).exitCode, 0);
      assert.equal((await runner().run(request('exit 3'))).exitCode, 3);
    });

    it('stops at the first failing line and a failing pipe, as bash -eo pipefail', async () => {
      const r = await runner().run(request('echo one\nfalse | cat\necho never'));
      assert.equal(r.exitCode, 1);
      assert.equal(r.outputTail, 'one');
    });

    it('reports 128 + the signal number for a command killed by a signal', async () => {
      // Not isolated: a namespace's first process cannot be killed from inside its namespace.
      const r = await runner({ strategies: [] }).run(request('kill -9 $$'));
      assert.equal(r.signal, 'SIGKILL');
      assert.equal(r.exitCode, 137);
      assert.equal(r.timedOut, false);
    });

    it('fails with ValidationError naming the shell when it cannot be started', async () => {
      await assert.rejects(
        runner({ environment: { PATH: path.join(dir.work, 'no-such-dir') }, strategies: [] }).run(
          request('true'),
        ),
        (e: unknown) =>
          e instanceof ValidationError && /Could not start bash/.test(e.message) && /PATH/.test(e.describe()),
      );
      assert.deepEqual(scratchLeft(), []);
    });
  });

  describe('the scratch copy', () => {
    it('runs in a copy of the output directory with the generated files applied, in the working directory', async () => {
      const r = await runner().run(
        request(
          'pwd; cat app.py; cat ../README.md ../lib/util.py; test ! -e ../.git && echo no-git; test -x ../bin/run.sh && echo exec',
          {
            files: [
              { path: 'weather/app.py', content: 'print("generated")\n' },
              { path: 'bin/run.sh', content: '#!/bin/sh\n' },
              { path: 'README.md', content: 'generated readme\n' },
            ],
            workingDirectory: 'weather',
          },
        ),
      );
      assert.equal(r.exitCode, 0, r.outputTail);
      const [cwd, ...rest] = r.outputTail.split('\n');
      assert.ok(cwd?.startsWith(path.join(temp(), SCRATCH_PREFIX)), cwd);
      assert.ok(cwd?.endsWith(`${path.sep}weather`), cwd);
      assert.deepEqual(rest, ['print("generated")', 'generated readme', 'X = 1', 'no-git', 'exec']);
    });

    it('leaves the output directory unchanged when the command writes and deletes files, and removes the copy', async () => {
      const before = snapshotTree(dir.out);
      const r = await runner().run(
        request(
          'rm -rf lib README.md && echo new > new.txt && mkdir -p made/deep && chmod 0555 made && touch weather/app.py',
          {
            files: [{ path: 'weather/app.py', content: 'x\n' }],
          },
        ),
      );
      assert.equal(r.exitCode, 0, r.outputTail);
      assert.deepEqual(snapshotTree(dir.out), before);
      assert.deepEqual(scratchLeft(), [], 'the scratch copy, read-only folder included, is removed');
    });

    it('copies a symlink that points into the output directory as one into the copy', async () => {
      fs.symlinkSync(path.join(dir.out, 'lib'), path.join(dir.out, 'abs-link'));
      fs.symlinkSync('lib/util.py', path.join(dir.out, 'rel-link'));
      const before = snapshotTree(dir.out);
      // Without isolation nothing is read-only: only the copy's own links keep the writes away.
      const r = await runner({ strategies: [] }).run(
        request('echo through > abs-link/written.txt; echo through > rel-link; readlink abs-link'),
      );
      assert.equal(r.exitCode, 0, r.outputTail);
      assert.equal(r.outputTail, 'lib');
      assert.deepEqual(snapshotTree(dir.out), before);
    });

    it('starts from an empty copy when the output directory does not exist yet', async () => {
      const r = await runner({ outputDirectory: path.join(dir.work, 'new-out') }).run(
        request('ls -A', { files: [{ path: 'a.txt', content: 'a' }] }),
      );
      assert.equal(r.outputTail, 'a.txt');
      assert.equal(fs.existsSync(path.join(dir.work, 'new-out')), false);
    });

    it('rejects a working directory that is not a folder of the copy, naming the input', async () => {
      await assert.rejects(
        runner().run(request('true', { workingDirectory: 'missing' })),
        (e: unknown) => e instanceof InputError && e.subject === 'validateWorkingDirectory',
      );
      assert.deepEqual(scratchLeft(), []);
    });

    it('when isolated, the output directory is read-only even by its absolute path', async function () {
      const before = snapshotTree(dir.out);
      const r = await runner().run(request(`echo x > "${dir.out}/README.md"; rm -rf "${dir.out}/lib"; true`));
      if (r.isolation.kind === 'none') this.skip();
      assert.deepEqual(r.isolation.readOnly, [dir.out]);
      assert.match(r.outputTail, /Read-only file system/);
      assert.deepEqual(snapshotTree(dir.out), before);
      // The read-only bind lived in the sandbox's mount namespace only.
      assert.ok(!fs.readFileSync('/proc/self/mounts', 'utf8').includes(dir.out));
    });
  });

  describe('output', () => {
    it('keeps a bounded tail of stdout and stderr, with known secrets masked', async () => {
      const secret = 'sk-test-0123456789';
      const r = await runner({ secrets: [secret] }).run(
        request(
          `echo "early ${secret}"; for i in $(seq 1 5000); do echo "line $i"; done; echo "late ${secret}" >&2`,
        ),
      );
      const lines = r.outputTail.split('\n');
      assert.ok(lines.length <= VALIDATION_DEFAULTS.tailLines, `${lines.length} lines`);
      assert.ok(Buffer.byteLength(r.outputTail) <= VALIDATION_DEFAULTS.tailBytes);
      assert.equal(lines.at(-1), 'late ***');
      assert.equal(lines.at(-2), 'line 5000');
      assert.ok(!r.outputTail.includes(secret));
    });

    it('does not hold more than its bound of a flood of output while it runs', async () => {
      const r = await runner().run(request('head -c 50000000 /dev/zero | tr "\\0" "x"; echo; echo end'));
      assert.equal(r.exitCode, 0);
      assert.ok(r.outputTail.endsWith('\nend'));
      assert.ok(Buffer.byteLength(r.outputTail) <= VALIDATION_DEFAULTS.tailBytes);
    });
  });

  describe('timeout and cancellation', () => {
    /** A background writer outside the copy, alive while the heartbeat file keeps changing. */
    const heartbeat = (): string => path.join(dir.work, 'heartbeat');
    const background = (detach: boolean): string =>
      `${detach ? 'setsid ' : ''}sh -c 'i=0; while true; do i=$((i+1)); echo $i > "${heartbeat()}"; sleep 0.05; done' &\necho started\nsleep 30`;
    const stillBeating = async (): Promise<boolean> => {
      await new Promise((r) => setTimeout(r, 300));
      const a = fs.readFileSync(heartbeat(), 'utf8');
      await new Promise((r) => setTimeout(r, 400));
      return fs.readFileSync(heartbeat(), 'utf8') !== a;
    };
    const quick = { killGraceMs: 500 };

    it('stops the command and everything it started on timeout', async () => {
      const started = Date.now();
      const r = await runner(quick).run(request(background(false), { timeoutMs: 800 }));
      assert.equal(r.timedOut, true);
      assert.equal(r.cancelled, false);
      assert.ok(r.exitCode >= 128, String(r.exitCode));
      assert.equal(r.outputTail, 'started');
      assert.ok(Date.now() - started < 10_000);
      assert.equal(await stillBeating(), false, 'the background process was stopped');
      assert.deepEqual(scratchLeft(), []);
    });

    it('stops it when the run is cancelled', async () => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 800);
      const r = await runner(quick).run(request(background(false), { signal: controller.signal }));
      assert.equal(r.cancelled, true);
      assert.equal(r.timedOut, false);
      assert.equal(await stillBeating(), false);
    });

    it('when isolated, a process that left the group (setsid) is stopped too', async function () {
      const r = await runner(quick).run(request(background(true), { timeoutMs: 800 }));
      if (r.isolation.kind === 'none') this.skip();
      assert.equal(r.timedOut, true);
      assert.equal(await stillBeating(), false);
    });

    it('throws CancelledError without running anything when already cancelled', async () => {
      const controller = new AbortController();
      controller.abort();
      await assert.rejects(runner().run(request('true', { signal: controller.signal })), CancelledError);
      assert.deepEqual(scratchLeft(), []);
    });
  });

  describe('secrets', () => {
    const NEEDLE = 'needle-7f3a9c2e51';

    /** Run one command through a child "task" process started with secrets in its environment. */
    function childTask(
      command: string,
      options: {
        strategies?: StrategyName[];
        asUser?: number;
        extraEnv?: Record<string, string>;
        secrets?: string[];
      } = {},
    ): Promise<{ pid: number; result: CommandResult }> {
      const body: ChildTaskRequest = {
        outputDirectory: dir.out,
        tempDirectory: temp(),
        command,
        secrets: options.secrets ?? [],
        deleteFromEnv: ['SECRET_FOO', 'ENDPOINT_AUTH_X'],
        ...(options.strategies ? { strategies: options.strategies } : {}),
      };
      const argv = [process.execPath, CHILD_TASK, JSON.stringify(body)];
      const [file, ...args] =
        options.asUser === undefined
          ? argv
          : ['setpriv', `--reuid=${options.asUser}`, `--regid=${options.asUser}`, '--clear-groups', ...argv];
      return new Promise((resolve, reject) => {
        const child = spawn(file ?? '', args, {
          env: {
            ...process.env,
            SECRET_FOO: `${NEEDLE}-secret`,
            ENDPOINT_AUTH_X: `{"parameters":{"serviceprincipalkey":"${NEEDLE}-endpoint"}}`,
            SYSTEM_ACCESSTOKEN: `${NEEDLE}-token`,
            ...options.extraEnv,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        let err = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        child.stderr.on('data', (c: Buffer) => (err += c.toString()));
        child.on('error', reject);
        child.on('close', (code) =>
          code === 0
            ? resolve(JSON.parse(out) as { pid: number; result: CommandResult })
            : reject(new Error(`child task exited ${code}: ${err}`)),
        );
      });
    }

    /** Prints how many environ files it could read and how many hold the needle (never the needle). */
    const SCAN =
      'n=0; f=0; for e in /proc/[0-9]*/environ; do if cat "$e" >/dev/null 2>&1; then n=$((n+1)); ' +
      `if grep -qaF "${NEEDLE}" "$e" 2>/dev/null; then f=$((f+1)); fi; fi; done; echo "scanned=$n found=$f"`;
    const counts = (tail: string): { scanned: number; found: number } => {
      const m = /scanned=(\d+) found=(\d+)/.exec(tail);
      assert.ok(m, tail);
      return { scanned: Number(m[1]), found: Number(m[2]) };
    };

    it('a command that prints its environment shows no secret', async () => {
      const known = 'known-secret-value-1234';
      const { result } = await childTask('env; echo "MY_SETTING=${MY_SETTING-absent}"', {
        extraEnv: { BUILD_MY_SETTING: known, TF_BUILD: 'True' },
        // Only `known` is masked: a leaked SECRET_FOO, ENDPOINT_AUTH_X or SYSTEM_ACCESSTOKEN would show.
        secrets: [known],
      });
      assert.equal(result.exitCode, 0);
      assert.match(result.outputTail, /^TF_BUILD=True$/m, 'the environment was printed');
      assert.match(result.outputTail, /^PATH=/m);
      assert.doesNotMatch(result.outputTail, /SECRET_FOO|ENDPOINT_AUTH|SYSTEM_ACCESSTOKEN|BUILD_MY_SETTING/);
      assert.ok(!result.outputTail.includes(NEEDLE));
      assert.ok(!result.outputTail.includes(known) && !result.outputTail.includes('***'));
    });

    it('the /proc scan finds the task’s secrets when nothing isolates the command (the scan works)', async function () {
      if (!linux) this.skip();
      const { result } = await childTask(SCAN, { strategies: [] });
      assert.equal(result.isolation.kind, 'none');
      assert.ok(counts(result.outputTail).found >= 1, result.outputTail);
    });

    it('a command that scans /proc/*/environ finds no secret of the task', async function () {
      if (!linux) this.skip();
      const { result } = await childTask(SCAN);
      if (result.isolation.kind === 'none') {
        console.log(`      (skipped: this machine refuses namespaces: ${result.isolation.reason})`);
        this.skip();
      }
      const { scanned, found } = counts(result.outputTail);
      assert.ok(scanned >= 1, 'it read at least its own environ');
      assert.equal(found, 0, result.outputTail);
    });

    for (const strategy of STRATEGIES) {
      it(`with ${strategy}, where this machine allows it, the scan finds nothing`, async function () {
        if (!linux) this.skip();
        fs.mkdirSync(temp(), { recursive: true });
        const uid = process.getuid?.() ?? -1;
        const probed = await probeIsolation({
          strategies: [strategy],
          readOnly: [dir.out],
          platform: process.platform,
          id: { uid, gid: process.getgid?.() ?? -1 },
          path: process.env.PATH ?? '',
          cwd: temp(),
        });
        if (!probed.strategy) {
          console.log(`      (skipped: ${probed.isolation.kind === 'none' ? probed.isolation.reason : ''})`);
          this.skip();
        }
        const { result } = await childTask(SCAN, { strategies: [strategy] });
        assert.equal(result.isolation.kind, 'pid-namespace');
        assert.equal(counts(result.outputTail).found, 0, result.outputTail);
      });
    }

    it('as an unprivileged user (an agent without root), the scan finds nothing where user namespaces are allowed', async function () {
      if (!linux || process.getuid?.() !== 0 || !hasCommand('setpriv')) this.skip();
      const nobody = 65534;
      fs.mkdirSync(temp(), { recursive: true });
      execFileSync('chown', ['-R', `${nobody}:${nobody}`, dir.work]);
      const { result } = await childTask(SCAN, { asUser: nobody, strategies: ['unshare-user', 'bwrap'] });
      if (result.isolation.kind === 'none') {
        console.log(`      (skipped: ${result.isolation.reason})`);
        this.skip();
      }
      assert.equal(counts(result.outputTail).found, 0, result.outputTail);
    });
  });

  describe('isolation report', () => {
    it('says why when no mechanism is available', async () => {
      const r = await runner({ strategies: [] }).run(request('true'));
      assert.deepEqual(r.isolation, { kind: 'none', reason: 'no isolation mechanism was tried' });
    });

    it('names the mechanisms that failed', async () => {
      const r = await runner({ strategies: ['bwrap'] }).run(request('true'));
      if (r.isolation.kind !== 'none') return; // bubblewrap is installed here and works
      assert.match(r.isolation.reason, /bubblewrap --unshare-pid: bwrap is not installed/);
    });

    it('outside Linux there is none, and it says so', async () => {
      const probed = await probeIsolation({
        strategies: STRATEGIES,
        readOnly: [],
        platform: 'darwin',
        id: { uid: 501, gid: 20 },
        path: '/usr/bin',
        cwd: '/',
      });
      assert.deepEqual(probed.isolation, { kind: 'none', reason: 'macOS has no PID namespaces' });
    });
  });
});

function hasCommand(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
