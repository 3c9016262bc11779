/**
 * Running the toolchains the e2e tests build and test generated services with: a command's exit code
 * and output, and the Go toolchain to use.
 */
import assert from 'node:assert/strict';
import { execFile, type ExecFileException } from 'node:child_process';
import fs from 'node:fs';

export interface Run {
  code: number;
  stdout: string;
  /** The command, its stdout and its stderr, for failure messages. */
  output: string;
}

/**
 * Run a command to its end, never rejecting: its exit code (-1 when it could not start or timed out)
 * and output. Go runs with this toolchain only and no module proxy; Python writes no bytecode.
 */
export function run(command: string, args: readonly string[], cwd: string, timeout = 150_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      {
        cwd,
        timeout,
        maxBuffer: 16 * 1024 * 1024,
        env: {
          ...process.env,
          PYTHONDONTWRITEBYTECODE: '1',
          npm_config_update_notifier: 'false',
          // Go: this toolchain only, and no module proxy: the generated services need no download.
          GOTOOLCHAIN: 'local',
          GOPROXY: 'off',
          GOFLAGS: '-mod=mod',
          DOTNET_CLI_TELEMETRY_OPTOUT: '1',
        },
      },
      (error: ExecFileException | null, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, output: `$ ${command} ${args.join(' ')}\n${stdout}\n${stderr}` });
      },
    );
  });
}

/** Run a command and assert that it exits 0, showing its output when it does not. */
export async function succeeds(command: string, args: readonly string[], cwd: string): Promise<Run> {
  const result = await run(command, args, cwd);
  assert.equal(result.code, 0, result.output);
  return result;
}

/**
 * A Go toolchain of 1.22 or later (ServeMux patterns): CODE_SYNTHESIS_GO, else `go` on PATH, else the
 * newest of Debian's /usr/lib/go-1.N/bin/go (the golang-1.N-go packages do not put it on PATH).
 * Undefined, with the reason, when there is none.
 */
export async function findGo(cwd: string): Promise<{ go?: string; reason: string }> {
  const lib = fs.existsSync('/usr/lib')
    ? fs
        .readdirSync('/usr/lib')
        .filter((d) => /^go-1\.\d+$/.test(d))
        .sort((a, b) => Number(b.slice(5)) - Number(a.slice(5)))
        .map((d) => `/usr/lib/${d}/bin/go`)
    : [];
  const candidates = [process.env['CODE_SYNTHESIS_GO'], 'go', ...lib].filter((c): c is string => !!c);
  const seen: string[] = [];
  for (const go of candidates) {
    const { code, stdout } = await run(go, ['version'], cwd, 20_000);
    const version = /go1\.(\d+)/.exec(stdout);
    if (code !== 0 || !version) continue;
    if (Number(version[1]) >= 22) return { go, reason: '' };
    seen.push(`${go} is go1.${version[1]}`);
  }
  return {
    reason: seen.length
      ? `no Go 1.22 or later (${seen.join(', ')}); on Debian bookworm: apt-get install -t bookworm-backports golang-1.23-go`
      : 'no Go toolchain (go on PATH, /usr/lib/go-1.N/bin/go or CODE_SYNTHESIS_GO); see .ci/run',
  };
}
