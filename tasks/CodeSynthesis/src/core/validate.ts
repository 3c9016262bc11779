/**
 * Validation: the port through which the use case runs `validateCommand` over the generated files,
 * and the pure rules around it (the working directory, the output tail, the manifest record, the
 * failure message). The command runs generated code: its output is untrusted text.
 */
import { InputError, ValidationError } from './errors';
import type { FileToWrite, ProviderName } from './ports';

/** Defaults of the validation inputs, and the bounds of the output tail kept and shown. */
export const VALIDATION_DEFAULTS = {
  repairAttempts: 2,
  validateTimeoutSeconds: 600,
  /** The output tail keeps at most this many UTF-8 bytes... */
  tailBytes: 8192,
  /** ...and this many lines. */
  tailLines: 100,
  /** Lines of the tail quoted in the failure message. */
  messageLines: 20,
} as const;

/** One run of the command. */
export interface CommandRequest {
  /** `validateCommand` as the user wrote it; may span several lines. */
  command: string;
  /** The generated files, applied over a copy of the output directory. */
  files: readonly FileToWrite[];
  /** Relative to the output directory, '/' separators, '' for its root: see checkWorkingDirectory. */
  workingDirectory: string;
  timeoutMs: number;
  /** Aborting it stops the command and all it started. */
  signal: AbortSignal;
}

/**
 * Whether the command could see the task's process. `pid-namespace`: it ran in a new PID namespace
 * with its own /proc, so /proc/<task pid>/environ (which keeps the secrets the agent started the
 * task with) was out of its reach; `readOnly` lists the paths it could read but not write.
 * `none`: no such mechanism was available, for `reason`.
 */
export type Isolation =
  | { kind: 'pid-namespace'; mechanism: string; readOnly: readonly string[] }
  | { kind: 'none'; reason: string };

/** How the command ended. */
export interface CommandResult {
  /** The exit code; 128 + the signal number when a signal ended it (also on timeout and cancel). */
  exitCode: number;
  /** The signal that ended it, if any (SIGTERM, SIGKILL, ...). */
  signal?: string;
  durationMs: number;
  /** The end of stdout and stderr as they interleaved, masked and bounded (see tailOutput). */
  outputTail: string;
  /** It ran longer than `timeoutMs` and was stopped. */
  timedOut: boolean;
  /** `signal` aborted and it was stopped. */
  cancelled: boolean;
  isolation: Isolation;
}

/**
 * Runs a shell command over the generated files, in a scratch copy of the output directory, never in
 * the output directory itself, with an environment that holds no secret.
 */
export interface CommandRunner {
  /**
   * @throws InputError (validateWorkingDirectory) when the working directory is not a folder of the copy.
   * @throws ValidationError when the scratch copy cannot be made or the shell cannot be started.
   * A command that fails, times out or is cancelled is a result, not an error.
   */
  run(request: CommandRequest): Promise<CommandResult>;
}

/** One validation round, as the manifest records it (`validation: [...]`). */
export interface ValidationRound {
  /** 1 for the first run; each repair adds one. */
  round: number;
  command: string;
  exitCode: number;
  durationMs: number;
  outputTail: string;
  /** Paths the model changed or added before this round (empty for round 1). */
  changedFiles: string[];
  timedOut?: boolean;
}

/**
 * Check `validateWorkingDirectory` and normalise it: '\' becomes '/', '.' segments and surrounding
 * slashes go, '' or '.' mean the root of the output directory.
 * @returns the relative path with '/' separators, '' for the root.
 * @throws InputError for an absolute path, a drive letter, a '..' segment or control characters.
 */
export function checkWorkingDirectory(value: string | undefined): string {
  const raw = (value ?? '').trim();
  const fail = (why: string): never => {
    throw new InputError(
      'validateWorkingDirectory',
      `${JSON.stringify(raw.slice(0, 120))} ${why}.`,
      'Give a folder relative to the output directory, such as weather or services/api, or leave it empty for its root.',
    );
  };
  if (/[\p{Cc}\p{Cf}]/u.test(raw)) fail('contains control or invisible characters');
  const slashed = raw.replace(/\\/g, '/');
  if (slashed.startsWith('/') || /^[a-z]:/i.test(slashed)) fail('is absolute');
  const segments = slashed.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) fail("leaves the output directory ('..')");
  return segments.join('/');
}

/**
 * Replace every occurrence of each secret (and of its URL-encoded form) with '***'. Longer secrets
 * are replaced first, so a secret that contains another is masked whole.
 */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (!secret) continue;
    forms.add(secret);
    forms.add(encodeURIComponent(secret));
  }
  let masked = text;
  for (const form of [...forms].sort((a, b) => b.length - a.length)) masked = masked.split(form).join('***');
  return masked;
}

/** ANSI escape sequences: CSI (colours, cursor moves) and OSC (titles, links). */
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-_]/g;
/** C0 and C1 controls other than tab and line feed, DEL, and bidi overrides and isolates. */
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * The end of a command's output as it is kept and shown: secrets masked first (so a secret cut in
 * half by the bound is masked before it is cut), ANSI sequences and control characters removed, a
 * line rewritten with '\r' (a progress bar) kept as last drawn, trailing blank lines dropped, then
 * the last `maxLines` lines within `maxBytes` UTF-8 bytes.
 * Give it more output than it keeps: a secret split by the caller's own bound cannot be recognised.
 */
export function tailOutput(
  text: string,
  secrets: readonly string[],
  limits: { maxBytes: number; maxLines: number } = {
    maxBytes: VALIDATION_DEFAULTS.tailBytes,
    maxLines: VALIDATION_DEFAULTS.tailLines,
  },
): string {
  const lines = maskSecrets(text, secrets)
    .replace(ANSI, '')
    .split('\n')
    .map((line) => {
      const drawn = line.replace(/\r+$/, '');
      return drawn.slice(drawn.lastIndexOf('\r') + 1).replace(CONTROLS, '');
    });
  while (lines.length && lines[lines.length - 1]?.trim() === '') lines.pop();
  const kept: string[] = [];
  let bytes = 0;
  for (let i = lines.length - 1; i >= 0 && kept.length < limits.maxLines; i--) {
    const line = lines[i] ?? '';
    const size = Buffer.byteLength(line, 'utf8') + (kept.length ? 1 : 0);
    if (bytes + size > limits.maxBytes) {
      // Keep the end of a line longer than what is left, cut at a character boundary.
      const room = limits.maxBytes - bytes - (kept.length ? 1 : 0);
      if (room > 0) kept.unshift(cutStart(line, room));
      break;
    }
    kept.unshift(line);
    bytes += size;
  }
  return kept.join('\n');
}

/** The end of `line` within `maxBytes` UTF-8 bytes, starting on a whole character. */
function cutStart(line: string, maxBytes: number): string {
  const chars = [...line];
  let bytes = 0;
  let i = chars.length;
  while (i > 0 && bytes + Buffer.byteLength(chars[i - 1] ?? '', 'utf8') <= maxBytes) {
    bytes += Buffer.byteLength(chars[i - 1] ?? '', 'utf8');
    i--;
  }
  return chars.slice(i).join('');
}

/** The command as shown in a message: its first line, cut at 120 characters, '…' when more. */
export function showCommand(command: string): string {
  const lines = command.trim().split(/\r?\n/);
  const first = lines[0] ?? '';
  const cut = first.length > 120 ? first.slice(0, 120) : first;
  return JSON.stringify(cut + (cut !== first || lines.length > 1 ? ' …' : ''));
}

/** The manifest record of one round. `changedFiles` is sorted. */
export function validationRound(
  round: number,
  command: string,
  result: CommandResult,
  changedFiles: readonly string[],
): ValidationRound {
  return {
    round,
    command,
    exitCode: result.exitCode,
    durationMs: Math.round(result.durationMs),
    outputTail: result.outputTail,
    changedFiles: [...changedFiles].sort(),
    ...(result.timedOut ? { timedOut: true } : {}),
  };
}

/**
 * Apply a repair reply to the current files: a file the reply names replaces the current one (or is
 * added), a file it leaves out stays as it is. Paths must already be checked (checkPaths).
 * @returns the new files, in the current order followed by added ones, and the paths whose content changed.
 */
export function applyRepair(
  current: readonly FileToWrite[],
  repaired: readonly FileToWrite[],
): { files: FileToWrite[]; changed: string[] } {
  const byPath = new Map(repaired.map((f) => [f.path, f]));
  const changed: string[] = [];
  const files = current.map((file) => {
    const next = byPath.get(file.path);
    byPath.delete(file.path);
    if (!next || next.content === file.content) return file;
    changed.push(file.path);
    return next;
  });
  for (const added of byPath.values()) {
    files.push(added);
    changed.push(added.path);
  }
  return { files, changed: changed.sort() };
}

/**
 * The log line to warn with when the command ran without process isolation; undefined when it ran
 * isolated.
 */
export function isolationWarning(isolation: Isolation): string | undefined {
  if (isolation.kind !== 'none') return undefined;
  return (
    `validateCommand ran without process isolation (${isolation.reason}). Its environment held no secret, ` +
    'but it runs with the agent user’s rights and could read the secrets the agent handed to this task from ' +
    "the task process itself (/proc/<pid>/environ on Linux). Prefer authMode 'entraId' (short-lived tokens) " +
    'when validating, or run on an agent that allows user namespaces (unshare) or has bubblewrap.'
  );
}

/** Whether a model can repair the provider's files: not the offline templates, not an archive's files. */
export function canRepair(provider: ProviderName): boolean {
  return provider !== 'offline' && provider !== 'archive';
}

/** Why the provider's files cannot be repaired, and what to do instead. */
const NOT_REPAIRABLE: Partial<Record<ProviderName, string>> = {
  offline:
    'The offline provider renders fixed templates and cannot repair them: fix the command, or use a model provider.',
  archive:
    "The archive provider unpacks the archive as it is and cannot repair it: fix the step that made the archive ('archiveFile'), or the command.",
};

/**
 * The error for a validation that still fails: it names the command and its exit code and quotes the
 * last lines of its output (already masked by tailOutput).
 * @param provider whose files failed; with one that cannot repair (canRepair), the hint says so.
 */
export function validationFailed(
  result: CommandResult,
  command: string,
  rounds: number,
  provider: ProviderName,
): ValidationError {
  const how = result.cancelled
    ? 'was cancelled'
    : result.timedOut
      ? `timed out after ${Math.round(result.durationMs / 1000)} s (exit code ${result.exitCode})`
      : `failed with exit code ${result.exitCode}`;
  const last = result.outputTail.split('\n').slice(-VALIDATION_DEFAULTS.messageLines);
  const quoted = result.outputTail.trim()
    ? `\nLast lines of its output:\n${last.map((l) => `  | ${l}`).join('\n')}`
    : ' It printed nothing.';
  const hint = canRepair(provider)
    ? `Nothing was written. ${rounds > 1 ? `The model's ${rounds - 1} repair(s) did not fix it. ` : ''}Fix the intent or the command, or raise repairAttempts or validateTimeoutSeconds.`
    : `Nothing was written. ${NOT_REPAIRABLE[provider] ?? 'Its files cannot be repaired: fix the command.'}`;
  return new ValidationError(
    `validateCommand ${showCommand(command)} ${how} (round ${rounds}).${quoted}`,
    'validateCommand',
    hint,
  );
}
