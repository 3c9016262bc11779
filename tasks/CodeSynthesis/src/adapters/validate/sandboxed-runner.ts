/**
 * CommandRunner that runs validateCommand through the agent's shell in a scratch copy of the output
 * directory, with an environment that holds no secret and, on Linux where the machine allows it, in
 * a PID namespace of its own (see isolation.ts). Timeout and cancellation stop the whole process
 * group (and, isolated, the whole namespace); the scratch copy is removed afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { constants } from 'node:os';
import path from 'node:path';
import { CancelledError, InputError, ValidationError } from '../../core/errors';
import type { Logger } from '../../core/ports';
import { tailOutput, type CommandRequest, type CommandResult, type CommandRunner } from '../../core/validate';
import { childEnvironment } from './child-environment';
import { isolate, probeIsolation, STRATEGIES, type Probed, type StrategyName } from './isolation';
import { makeScratchTree } from './scratch-tree';

export interface SandboxedRunnerOptions {
  /** The output directory, absolute. Only read. */
  outputDirectory: string;
  /** Where the scratch copy goes (Agent.TempDirectory), absolute and outside the output directory. */
  tempDirectory: string;
  /**
   * Values to keep out of the environment and mask in the output (API keys, client secrets, ...), or a
   * function read at each run (secrets registered after the runner was made join in).
   */
  secrets: readonly string[] | (() => readonly string[]);
  /** The agent's proxy URL (credentials are dropped). */
  proxyUrl?: string;
  /** The environment to filter; the task's own by default. */
  environment?: Readonly<Record<string, string | undefined>>;
  /** Isolation mechanisms to try, in order; STRATEGIES by default, [] for none. */
  strategies?: readonly StrategyName[];
  /** Paths bound read-only when isolated; the output directory by default. Missing ones are left out. */
  readOnly?: readonly string[];
  log?: Pick<Logger, 'debug'>;
  /** Between SIGTERM and SIGKILL when stopping; 2 s by default. */
  killGraceMs?: number;
  /** For tests of the other platforms' branches. */
  platform?: NodeJS.Platform;
}

/** Output kept while the command runs, before masking and the final bound: a secret cut at this edge is cut away. */
const RAW_TAIL_BYTES = 64 * 1024;
/** How long to wait for the output pipes to close once the command has exited. */
const DRAIN_MS = 1000;

export class SandboxedRunner implements CommandRunner {
  private readonly probes = new Map<string, Promise<Probed>>();
  private readonly platform: NodeJS.Platform;

  constructor(private readonly options: SandboxedRunnerOptions) {
    if (!path.isAbsolute(options.outputDirectory) || !path.isAbsolute(options.tempDirectory))
      throw new Error('SandboxedRunner: outputDirectory and tempDirectory must be absolute paths.');
    const inside = path.relative(options.outputDirectory, options.tempDirectory);
    if (inside === '' || (!inside.startsWith('..') && !path.isAbsolute(inside)))
      throw new Error('SandboxedRunner: the temp folder must not be inside the output directory.');
    this.platform = options.platform ?? process.platform;
  }

  /**
   * Copy, run, remove. The output directory is never written.
   * @throws CancelledError when `signal` is aborted before the command starts (a cancel while it
   *   runs is a result: `cancelled`).
   * @throws InputError (validateWorkingDirectory) when the working directory is not a folder of the copy.
   * @throws ValidationError when the copy cannot be made or the shell cannot be started.
   */
  async run(request: CommandRequest): Promise<CommandResult> {
    if (request.signal.aborted) throw new CancelledError();
    const secrets = this.secrets();
    const env = childEnvironment(this.options.environment ?? process.env, {
      secrets,
      ...(this.options.proxyUrl ? { proxyUrl: this.options.proxyUrl } : {}),
    });
    let scratch;
    try {
      scratch = await makeScratchTree(
        this.options.outputDirectory,
        this.options.tempDirectory,
        request.files,
      );
    } catch (error) {
      throw new ValidationError(
        `Could not copy the output directory to a scratch folder in ${this.options.tempDirectory} to run validateCommand (${describe(error)}).`,
        'validateCommand',
        'Nothing was written. Check the free space and permissions of the agent’s temp folder (Agent.TempDirectory).',
        { cause: error },
      );
    }
    try {
      const cwd = path.join(scratch.dir, ...request.workingDirectory.split('/').filter(Boolean));
      if (!(await isDirectory(cwd))) {
        throw new InputError(
          'validateWorkingDirectory',
          `${JSON.stringify(request.workingDirectory.slice(0, 120))} is not a folder of the output directory with the generated files.`,
          'Name a folder that exists there or that the generated files create, relative to the output directory.',
        );
      }
      const probed = await this.probe(scratch.dir);
      if (request.signal.aborted) throw new CancelledError();
      return await this.spawnAndWait(request, cwd, env, probed, secrets);
    } finally {
      await scratch
        .remove()
        .catch((error) =>
          this.options.log?.debug(`Could not remove the scratch copy ${scratch.dir}: ${describe(error)}`),
        );
    }
  }

  private secrets(): readonly string[] {
    const { secrets } = this.options;
    return typeof secrets === 'function' ? secrets() : secrets;
  }

  /** Probe once per set of read-only paths that exist now. */
  private async probe(cwd: string): Promise<Probed> {
    const wanted = this.options.readOnly ?? [this.options.outputDirectory];
    const readOnly: string[] = [];
    for (const p of wanted) if (await isDirectory(p)) readOnly.push(path.resolve(p));
    const key = JSON.stringify(readOnly);
    let probed = this.probes.get(key);
    if (!probed) {
      probed = probeIsolation({
        strategies: this.options.strategies ?? STRATEGIES,
        readOnly,
        platform: this.platform,
        id: identity(),
        path: (this.options.environment ?? process.env).PATH ?? '/usr/bin:/bin',
        cwd,
        ...(this.options.log ? { debug: (m: string) => this.options.log?.debug(m) } : {}),
      });
      this.probes.set(key, probed);
    }
    return probed;
  }

  private spawnAndWait(
    request: CommandRequest,
    cwd: string,
    env: Record<string, string>,
    probed: Probed,
    secrets: readonly string[],
  ): Promise<CommandResult> {
    const windows = this.platform === 'win32';
    const shell = windows
      ? ['cmd.exe', '/d', '/s', '/c', `"${windowsCommandLine(request.command)}"`]
      : // As GitHub Actions runs `shell: bash`: no profile or rc file, stop at the first failing line.
        ['bash', '--noprofile', '--norc', '-eo', 'pipefail', '-c', request.command];
    const launch = probed.strategy
      ? isolate(probed.strategy, shell, env, probed.readOnly, cwd, identity())
      : { argv: shell, env };
    this.options.log?.debug(
      `Running validateCommand in ${cwd} (${probed.isolation.kind === 'pid-namespace' ? probed.isolation.mechanism : 'not isolated'}).`,
    );

    return new Promise<CommandResult>((resolve, reject) => {
      const started = performance.now();
      const [file, ...args] = launch.argv;
      let child: ChildProcess;
      let pid = 0;
      try {
        child = spawn(file ?? '', args, {
          cwd,
          env: launch.env,
          stdio: ['ignore', 'pipe', 'pipe'],
          detached: !windows, // its own process group, so that stopping it stops all it started
          windowsHide: true,
          windowsVerbatimArguments: windows,
        });
        pid = child.pid ?? 0;
      } catch (error) {
        reject(startError(file ?? '', error));
        return;
      }

      const output = new TailBuffer(RAW_TAIL_BYTES);
      child.stdout?.on('data', (chunk: Buffer) => output.push(chunk));
      child.stderr?.on('data', (chunk: Buffer) => output.push(chunk));

      let timedOut = false;
      let cancelled = false;
      let exited: { code: number | null; signal: NodeJS.Signals | null; at: number } | undefined;
      let killTimer: NodeJS.Timeout | undefined;
      const stop = (): void => {
        if (exited || killTimer) return;
        killTree(child, 'SIGTERM', windows);
        killTimer = setTimeout(() => killTree(child, 'SIGKILL', windows), this.options.killGraceMs ?? 2000);
      };
      const timeout = setTimeout(() => {
        timedOut = true;
        stop();
      }, request.timeoutMs);
      const onAbort = (): void => {
        cancelled = true;
        stop();
      };
      request.signal.addEventListener('abort', onAbort, { once: true });

      let settled = false;
      const finish = (): void => {
        if (settled || !exited) return;
        settled = true;
        clearTimeout(timeout);
        clearTimeout(killTimer);
        clearTimeout(drainTimer);
        request.signal.removeEventListener('abort', onAbort);
        child.stdout?.destroy();
        child.stderr?.destroy();
        const signal = exited.signal ?? undefined;
        resolve({
          exitCode: exited.code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0),
          ...(signal ? { signal } : {}),
          durationMs: exited.at - started,
          outputTail: tailOutput(output.text(), secrets),
          timedOut,
          cancelled,
          isolation: probed.isolation,
        });
      };
      let drainTimer: NodeJS.Timeout | undefined;
      child.on('error', (error) => {
        if (exited) return;
        clearTimeout(timeout);
        request.signal.removeEventListener('abort', onAbort);
        settled = true;
        reject(startError(file ?? '', error));
      });
      child.on('exit', (code, signal) => {
        exited = { code, signal, at: performance.now() };
        // Whatever it left running in its group goes too (isolated, the namespace is gone already).
        if (!windows) killGroup(pid, 'SIGKILL');
        // A process that left the group may still hold the pipes open: do not wait for it for long.
        drainTimer = setTimeout(finish, DRAIN_MS);
      });
      child.on('close', finish);
    });
  }
}

/** Keeps the last `limit` bytes pushed. */
class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly limit: number) {}
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - (this.chunks[0]?.length ?? 0) >= this.limit)
      this.size -= this.chunks.shift()?.length ?? 0;
  }
  text(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.limit)).toString('utf8');
  }
}

/**
 * Signal the child's process group, and on Linux each of its descendants one by one too: under
 * `sudo` the group leader is root's and the group may differ, but the isolated command runs as our
 * user and its namespace ends when its first process is killed. On Windows, taskkill /T /F.
 */
function killTree(child: ChildProcess, signal: NodeJS.Signals, windows: boolean): void {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  if (windows) {
    spawn('taskkill', ['/pid', String(pid), '/T', '/F'], { stdio: 'ignore', windowsHide: true }).on(
      'error',
      () => undefined,
    );
    return;
  }
  const below = process.platform === 'linux' ? descendants(pid) : [];
  killGroup(pid, signal);
  for (const target of below) {
    try {
      process.kill(target, signal);
    } catch {
      /* gone already, or not ours (root's sudo, unshare): the rest still gets it */
    }
  }
}

function killGroup(leader: number, signal: NodeJS.Signals): void {
  if (leader <= 0) return;
  try {
    process.kill(-leader, signal);
  } catch {
    /* the group is empty */
  }
}

function identity(): { uid: number; gid: number } {
  return { uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1 };
}

/** The PIDs below `root` in the process tree, read from /proc (synchronously: it runs in timers). */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // Field 4 of /proc/<pid>/stat, after the command name in parentheses (which may hold spaces).
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      /* exited meanwhile */
    }
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length) {
    for (const pid of children.get(queue.shift() ?? -1) ?? []) {
      found.push(pid);
      queue.push(pid);
    }
  }
  return found;
}

/**
 * A multi-line command as one cmd.exe command line: each non-empty line joined with `&&`, so that,
 * as with bash -e, the first failing line stops it (a batch file would need `call` before npm).
 */
export function windowsCommandLine(command: string): string {
  return command
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' && ');
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await fsp.stat(p)).isDirectory();
  } catch {
    return false;
  }
}

function startError(file: string, error: unknown): ValidationError {
  const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
  return new ValidationError(
    `Could not start ${file} to run validateCommand (${describe(error)}).`,
    'validateCommand',
    missing
      ? `Nothing was written. ${file} was not found on the agent's PATH: install it, or run on an agent that has it.`
      : 'Nothing was written. Check the agent can run processes from its temp folder, and run again.',
    { cause: error },
  );
}

function describe(error: unknown): string {
  return (error as NodeJS.ErrnoException)?.code ?? (error instanceof Error ? error.message : String(error));
}
