/**
 * Typed errors. Each names what is at fault (an input, a file, a remote resource) and how to fix it.
 * run.ts is the only place that turns them into a task result.
 */

import { INPUTS } from './contract';
import type { Finding } from './scan';

/** Marks our errors across bundles: the remote-provider code ships as a second bundle with its own class copies. */
const BRAND = Symbol.for('code-synthesis.SynthesisError');

/** Base class: `subject` is the input or resource at fault, `hint` says what to do. */
export class SynthesisError extends Error {
  constructor(
    message: string,
    readonly subject: string,
    readonly hint: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** The text shown to the user: the message, then the hint (on a line of its own after a list). */
  describe(): string {
    if (!this.hint) return this.message;
    return `${this.message}${this.message.includes('\n') ? '\n' : ' '}${this.hint}`;
  }
}

/** Items listed in a message; the rest are counted, so a flood of problems cannot flood the log. */
export const LISTED_ITEMS = 20;

/**
 * A bulleted list for a message: one item a line, each ended with a full stop, at most LISTED_ITEMS
 * (then "... and N more."). Items must already be escaped (showPath).
 */
export function bulletList(items: readonly string[]): string {
  const shown = items.slice(0, LISTED_ITEMS).map((item) => (/[.!?]$/.test(item) ? item : item + '.'));
  const more = items.length > LISTED_ITEMS ? `\n  ... and ${items.length - LISTED_ITEMS} more.` : '';
  return `\n  - ${shown.join('\n  - ')}${more}`;
}

/** True for a SynthesisError from any bundle of this task (instanceof only sees this bundle's class). */
export function isSynthesisError(value: unknown): value is SynthesisError {
  return value instanceof SynthesisError || (typeof value === 'object' && value !== null && BRAND in value);
}

/** A task input has a missing or invalid value. */
export class InputError extends SynthesisError {
  constructor(input: string, message: string, hint: string) {
    super(`Input '${input}': ${message}`, input, hint);
  }
}

/** The intent (a YAML service card or free text) cannot be used. Carries the line when known. */
export class IntentError extends SynthesisError {
  constructor(
    message: string,
    hint: string,
    readonly line?: number,
  ) {
    super(line ? `Intent, line ${line}: ${message}` : `Intent: ${message}`, 'intent', hint);
  }
}

/** A credential could not be obtained (service connection, Entra ID, Key Vault). */
export class CredentialError extends SynthesisError {}

/** The model service refused or failed the request. */
export class ModelError extends SynthesisError {
  constructor(
    message: string,
    hint: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, 'model', hint, options);
  }
}

/** The model's reply cannot be turned into files (truncated, malformed, off-schema). */
export class ReplyError extends SynthesisError {
  constructor(message: string, hint: string) {
    super(`Model reply: ${message}`, 'model reply', hint);
  }
}

/** One or more generated paths are unsafe or not allowed; all problems are listed together. */
export class PathError extends SynthesisError {
  constructor(readonly problems: readonly string[]) {
    super(
      `The model proposed ${problems.length} path(s) that cannot be written:${bulletList(problems)}`,
      'generated paths',
      'Nothing was written. Adjust the intent, deniedPaths or the limits and run again.',
    );
  }
}

/** Generated paths collide with existing files under conflictPolicy 'fail'. */
export class ConflictError extends SynthesisError {
  constructor(readonly paths: readonly string[]) {
    super(
      `${paths.length} generated file(s) already exist in the output directory:${bulletList(paths)}`,
      'conflictPolicy',
      "Nothing was written. Remove the files, choose another outputDirectory, or set conflictPolicy to 'overwrite' or 'skip'.",
    );
  }
}

/** The generated files exceed maxFiles or maxTotalSizeKB. */
export class LimitError extends SynthesisError {}

/** Writing to the output directory failed; the directory was restored. */
export class WriteError extends SynthesisError {}

/** The run was cancelled (SIGINT/SIGTERM) before anything was written. */
export class CancelledError extends SynthesisError {
  /** Survives the remote bundle's copy of this class, where instanceof does not. */
  readonly cancelled = true;
  constructor() {
    super('The run was cancelled.', 'run', 'The output directory was left as it was.');
  }
}

/** validateCommand failed after every repair, or could not be run at all (scratch copy, shell). */
export class ValidationError extends SynthesisError {}

/**
 * Files where a person and the model changed the same lines (conflictPolicy 'merge'). `problems` are
 * shown one per line, e.g. `"app.py": lines 12-20`; `paths` are the raw paths.
 */
export class MergeConflictError extends SynthesisError {
  constructor(
    readonly problems: readonly string[],
    readonly paths: readonly string[],
  ) {
    super(
      `${problems.length} file(s) have lines that both a person and the model changed:${bulletList(problems)}`,
      'conflictPolicy',
      "Nothing was written. Merge those lines by hand (or undo your edit there) and run again, or set conflictPolicy to 'overwrite' or 'skip'.",
    );
  }
}

/** The organisation's policy file (input policyFile) cannot be used; every problem with its line. */
export class PolicyFileError extends SynthesisError {
  constructor(
    file: string,
    readonly problems: readonly string[],
    hint = 'See "Organisation rules" in the README for the format.',
  ) {
    super(
      `Policy file '${file}' has ${problems.length} problem(s):${bulletList(problems)}`,
      'policyFile',
      hint,
    );
  }
}

/**
 * The scan found problems of severity error and failOnFindings is true: nothing was written. The
 * message lists file:line and rule, never the matched text.
 */
export class FindingsError extends SynthesisError {
  constructor(
    readonly findings: readonly Finding[],
    /** Where the SARIF log was written, when it was. */
    readonly sarifPath?: string,
  ) {
    const errors = findings.filter((f) => f.severity === 'error');
    // Paths passed checkPaths (no control or invisible characters): JSON quoting shows them as they are.
    const place = (f: Finding) =>
      `${JSON.stringify(f.path.length > 120 ? f.path.slice(0, 120) + '…' : f.path)}:${f.line}`;
    super(
      `The generated code has ${errors.length} finding(s) of severity error, so nothing was written:${bulletList(errors.map((f) => `${place(f)} ${f.ruleId}`))}`,
      'generated files',
      'Each finding is an issue with its file and line (and in the SARIF log). Make the intent or instructionsFile ask for secrets from the environment and run again, or set failOnFindings to false to write the files with warnings.',
    );
  }
}

/**
 * The archive named by input archiveFile cannot be unpacked safely: every problem found (entries that
 * escape, links, devices, duplicates, a limit passed, damage), each entry name escaped with showPath.
 * Nothing was written.
 */
export class ArchiveError extends SynthesisError {
  constructor(
    /** The archive's path, already escaped (showPath). */
    shownFile: string,
    readonly problems: readonly string[],
    hint: string,
  ) {
    super(
      `The archive ${shownFile} (input '${INPUTS.archiveFile}') cannot be unpacked:${bulletList(problems)}`,
      INPUTS.archiveFile,
      hint,
    );
  }
}

/**
 * A planned generation could not get a file of its outline from the model, after its attempts (or the
 * service failed the call): nothing was written. `paths` are the files the failed call asked for.
 */
export class FileGenerationError extends SynthesisError {
  constructor(
    readonly paths: readonly string[],
    message: string,
    hint: string,
    options?: { cause?: unknown },
  ) {
    super(message, 'model reply', hint, options);
  }
}
