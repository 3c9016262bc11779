/**
 * Process isolation for the validation command on Linux: a new PID namespace with its own /proc, so
 * that the command cannot open /proc/<task pid>/environ, which keeps, for the life of the task, the
 * SECRET_* and ENDPOINT_AUTH_* values the agent started the task with (task-lib deletes them from
 * process.env, not from the kernel's copy; any process of the same user may read it).
 *
 * Inside the namespace the command also loses every capability and gains no new privilege
 * (no_new_privs: sudo and other setuid programs do not elevate), so it cannot unmount the new /proc
 * to uncover the agent's one, and the paths in `readOnly` (the output directory) are bound read-only.
 *
 * Mechanisms, tried in order until one passes a probe (see PROBE):
 * - `unshare-user`: util-linux unshare in a new user namespace (unprivileged; needs the kernel and
 *   AppArmor to allow user namespaces: Ubuntu 24.04 restricts them by default);
 * - `unshare-root`: unshare without a user namespace, when the task runs as root;
 * - `bwrap`: bubblewrap, when installed (it drops capabilities and sets no_new_privs itself);
 * - `sudo-unshare`: `sudo -n unshare ...`, then back to the agent's user id with setpriv, when the
 *   agent user has passwordless sudo (Microsoft-hosted agents do).
 */
import { spawn } from 'node:child_process';
import type { Isolation } from '../../core/validate';

export type StrategyName = 'unshare-user' | 'unshare-root' | 'bwrap' | 'sudo-unshare';

/** The default order. */
export const STRATEGIES: readonly StrategyName[] = ['unshare-user', 'unshare-root', 'bwrap', 'sudo-unshare'];

const DESCRIPTION: Record<StrategyName, string> = {
  'unshare-user': 'unshare --user --pid',
  'unshare-root': 'unshare --pid (as root)',
  bwrap: 'bubblewrap --unshare-pid',
  'sudo-unshare': 'sudo unshare --pid',
};

/** The flags that drop every capability and forbid gaining privileges, for setpriv. */
const DROP_PRIVILEGES = ['--no-new-privs', '--bounding-set=-all', '--inh-caps=-all'];

/**
 * Run as root inside the new namespaces, before dropping privileges: bind each path up to `--`
 * read-only over itself, then exec the rest. Exits 125 when a path cannot be bound.
 * The binds must land in a mount namespace of the sandbox's own, never the agent's: every unshare
 * below says `--mount --propagation private` itself rather than rely on `--mount-proc` implying it.
 */
const BIND_READ_ONLY =
  'while [ "$1" != -- ]; do mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" || exit 125; shift; done; shift; exec "$@"';

/**
 * Passes only when the sandbox holds: /proc is a new PID namespace's (its PID 1, the probe's shell or
 * bubblewrap's init, has our marker in its environment; the agent machine's PID 1 has not), /proc
 * cannot be unmounted, and every path given is read-only.
 */
const PROBE = [
  'grep -q CODE_SYNTHESIS_SANDBOX_PROBE=1 /proc/1/environ || { echo "/proc is not a new PID namespace\'s own" >&2; exit 1; }',
  'if umount /proc 2>/dev/null; then echo "/proc could be unmounted" >&2; exit 1; fi',
  'for p; do if [ -w "$p" ]; then echo "$p is writable" >&2; exit 1; fi; done',
  'exit 0',
].join('\n');

/** What a strategy needs to know about the task's process. */
export interface Identity {
  uid: number;
  gid: number;
}

/** A command line to spawn and the environment to spawn it with. */
export interface Launch {
  argv: string[];
  env: Record<string, string>;
}

/**
 * The command line that runs `command` (argv, e.g. bash -c ...) isolated with `strategy`, with
 * `env` as its environment and `readOnly` (absolute paths that exist) bound read-only.
 * `cwd` is the folder the command starts in (the spawn's cwd; bubblewrap needs it said).
 */
export function isolate(
  strategy: StrategyName,
  command: readonly string[],
  env: Record<string, string>,
  readOnly: readonly string[],
  cwd: string,
  id: Identity,
): Launch {
  const bindThen = ['sh', '-c', BIND_READ_ONLY, 'code-synthesis-sandbox', ...readOnly, '--'];
  switch (strategy) {
    case 'unshare-user':
      return {
        argv: [
          'unshare',
          ...[
            '--user',
            '--map-root-user',
            '--pid',
            '--mount',
            '--propagation',
            'private',
            '--fork',
            '--mount-proc',
            '--kill-child',
            '--',
          ],
          ...bindThen,
          ...['setpriv', ...DROP_PRIVILEGES, '--', ...command],
        ],
        env,
      };
    case 'unshare-root':
      return {
        argv: [
          'unshare',
          ...['--pid', '--mount', '--propagation', 'private', '--fork', '--mount-proc', '--kill-child', '--'],
          ...bindThen,
          ...['setpriv', ...DROP_PRIVILEGES, '--', ...command],
        ],
        env,
      };
    case 'bwrap':
      return {
        argv: [
          'bwrap',
          ...['--dev-bind', '/', '/', '--proc', '/proc', '--unshare-pid', '--die-with-parent'],
          ...readOnly.flatMap((p) => ['--ro-bind', p, p]),
          ...['--chdir', cwd, '--', ...command],
        ],
        env,
      };
    case 'sudo-unshare':
      // sudo resets the environment: the command's is given to env -i, after the user id is back.
      return {
        argv: [
          'sudo',
          ...[
            '-n',
            '--',
            'unshare',
            '--pid',
            '--mount',
            '--propagation',
            'private',
            '--fork',
            '--mount-proc',
            '--kill-child',
            '--',
          ],
          ...bindThen,
          ...['setpriv', `--reuid=${id.uid}`, `--regid=${id.gid}`, '--init-groups', ...DROP_PRIVILEGES],
          ...['--', 'env', '-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...command],
        ],
        env: { PATH: env.PATH ?? '/usr/bin:/bin' },
      };
  }
}

/** The result of probing: the strategy that works (if any), the paths it binds read-only, what to report. */
export interface Probed {
  strategy?: StrategyName;
  readOnly: readonly string[];
  isolation: Isolation;
}

export interface ProbeOptions {
  strategies: readonly StrategyName[];
  readOnly: readonly string[];
  platform: NodeJS.Platform;
  id: Identity;
  /** PATH for finding unshare, bwrap, sudo, setpriv. */
  path: string;
  cwd: string;
  /** A note for debug output. */
  debug?: (message: string) => void;
}

/**
 * Find the first strategy whose sandbox passes PROBE, first with `readOnly` bound read-only, then
 * without (the isolation then lists no read-only path). Strategies that cannot apply are skipped
 * (`unshare-root` unless uid 0, `sudo-unshare` as root). Not Linux: none.
 */
export async function probeIsolation(options: ProbeOptions): Promise<Probed> {
  if (options.platform !== 'linux') {
    return {
      readOnly: [],
      isolation: {
        kind: 'none',
        reason: `${options.platform === 'win32' ? 'Windows' : options.platform === 'darwin' ? 'macOS' : options.platform} has no PID namespaces`,
      },
    };
  }
  const failures: string[] = [];
  const env = { PATH: options.path, CODE_SYNTHESIS_SANDBOX_PROBE: '1' };
  for (const strategy of options.strategies) {
    if (strategy === 'unshare-root' && options.id.uid !== 0) {
      failures.push(`${DESCRIPTION[strategy]}: the task is not root`);
      continue;
    }
    if (strategy === 'sudo-unshare' && options.id.uid === 0) {
      failures.push(`${DESCRIPTION[strategy]}: not needed as root`);
      continue;
    }
    for (const readOnly of options.readOnly.length ? [options.readOnly, []] : [[]]) {
      const launch = isolate(
        strategy,
        ['sh', '-c', PROBE, 'probe', ...readOnly],
        env,
        readOnly,
        options.cwd,
        options.id,
      );
      const outcome = await runProbe(launch, options.cwd);
      options.debug?.(`Isolation probe ${strategy} (read-only: ${readOnly.length}): ${outcome.note}`);
      if (outcome.ok) {
        return {
          strategy,
          readOnly,
          isolation: { kind: 'pid-namespace', mechanism: DESCRIPTION[strategy], readOnly },
        };
      }
      if (!readOnly.length || outcome.missing) {
        failures.push(`${DESCRIPTION[strategy]}: ${outcome.note}`);
        break;
      }
    }
  }
  return {
    readOnly: [],
    isolation: {
      kind: 'none',
      reason: failures.length
        ? `no PID namespace could be made: ${failures.join('; ')}`
        : 'no isolation mechanism was tried',
    },
  };
}

/** Spawn a probe with a 10 s limit; its stderr's first line says why it failed. */
function runProbe(launch: Launch, cwd: string): Promise<{ ok: boolean; missing?: boolean; note: string }> {
  return new Promise((resolve) => {
    const [file, ...args] = launch.argv;
    const child = spawn(file ?? '', args, { cwd, env: launch.env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      if (stderr.length < 2000) stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({
        ok: false,
        missing: error.code === 'ENOENT',
        note: error.code === 'ENOENT' ? `${file} is not installed` : error.message,
      });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const why = stderr.trim().split('\n')[0]?.slice(0, 200);
      resolve({
        ok: code === 0,
        note: code === 0 ? 'works' : `${signal ?? `exit ${code}`}${why ? ` (${why})` : ''}`,
      });
    });
  });
}
