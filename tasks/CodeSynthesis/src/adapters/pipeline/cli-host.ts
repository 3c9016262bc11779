/**
 * AgentHost for the local CLI: inputs from flags, outputs and summary to the terminal.
 * It does not import task-lib (whose import has process-wide side effects).
 *
 * With `json`, stdout carries exactly one line, a CliReport, written when the run ends; every other
 * line (log, summary, the result's message) goes to stderr, so `code-synthesis --json ... | jq` works.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { InputName, OutputName } from '../../core/contract';
import { CredentialError } from '../../core/errors';
import type { TaskOutcome } from '../../core/ports';
import type { AgentHost } from './agent-host';
import { cancelOnSignals } from './cancellation';
import { maskText, neutraliseCommands } from './commands';

// Printed text is neutralised in case the CLI itself runs inside a pipeline script step.
export { neutraliseCommands };

/** The CLI's exit codes, listed in its --help and the README. */
export const EXIT_CODES = { succeeded: 0, failed: 1, usage: 2, cancelled: 3 } as const;

const EXIT_BY_OUTCOME: Record<TaskOutcome, number> = {
  Succeeded: EXIT_CODES.succeeded,
  SucceededWithIssues: EXIT_CODES.succeeded,
  Failed: EXIT_CODES.failed,
  Cancelled: EXIT_CODES.cancelled,
};

/** The one JSON object `--json` prints on stdout. `outputs` are the task's output variables, as strings. */
export interface CliReport {
  result: TaskOutcome | 'UsageError';
  exitCode: number;
  message: string;
  outputs: Partial<Record<OutputName, string>>;
}

/** The report as one line of JSON, with logging commands neutralised like every other line. */
export function formatReport(report: CliReport): string {
  return neutraliseCommands(JSON.stringify(report));
}

export interface CliHostOptions {
  inputs: Partial<Record<InputName, string>>;
  out?: (line: string) => void;
  err?: (line: string) => void;
  verbose?: boolean;
  /** Where to write the SARIF log of the scan (--sarif); none is written without it. */
  sarif?: string;
  /** Print one CliReport on `out` when the run ends, and every other line on `err`. */
  json?: boolean;
  /** Cancels the run; by default SIGINT and SIGTERM do. */
  signal?: AbortSignal;
}

export interface CliHost extends AgentHost {
  readonly outputs: Partial<Record<OutputName, string>>;
  /** EXIT_CODES for the result set; `failed` until a result is set. */
  readonly exitCode: number;
  summary?: string;
}

const stdout = (line: string) => process.stdout.write(line + '\n');
const stderr = (line: string) => process.stderr.write(line + '\n');

/**
 * Report a usage error (a bad or missing option): the message and the help on stderr and, with `json`,
 * a CliReport on stdout. Returns EXIT_CODES.usage.
 */
export function reportUsageError(
  message: string,
  help: string,
  options: Pick<CliHostOptions, 'out' | 'err' | 'json'> = {},
): number {
  (options.err ?? stderr)(`error: ${message}\n\n${help}`);
  if (options.json) {
    const report: CliReport = { result: 'UsageError', exitCode: EXIT_CODES.usage, message, outputs: {} };
    (options.out ?? stdout)(formatReport(report));
  }
  return EXIT_CODES.usage;
}

/** The host for one CLI run. Its `exitCode` is what the process should exit with once run() returns. */
export function createCliHost(options: CliHostOptions): CliHost {
  const secrets: string[] = [];
  const mask = (text: string) => maskText(text, secrets);
  const out = (line: string) => (options.out ?? stdout)(mask(line));
  const err = (line: string) => (options.err ?? stderr)(mask(line));
  // In JSON mode stdout is kept for the report alone.
  const log = options.json ? err : out;
  const outputs: Partial<Record<OutputName, string>> = {};
  let outcome: TaskOutcome | undefined;
  const host: CliHost = {
    outputs,
    get exitCode() {
      return outcome === undefined ? EXIT_CODES.failed : EXIT_BY_OUTCOME[outcome];
    },
    signal: options.signal ?? cancelOnSignals((name) => err(`Received ${name}: cancelling.`)),
    getInput: (name) => options.inputs[name],
    getVariable: (name) => process.env[name.replace(/\./g, '_').toUpperCase()],
    getConnection(id) {
      throw new CredentialError(
        `Service connection '${id}' is only available inside a pipeline.`,
        'azureSubscription',
        'Locally, use --provider offline, or --auth-mode apiKey with the key in CODE_SYNTHESIS_API_KEY.',
      );
    },
    setSecret: (value) => {
      if (value) secrets.push(value);
    },
    secrets: () => [...secrets],
    setOutput: (name, value) => {
      outputs[name] = value;
      if (options.verbose) log(`output ${name}=${value}`);
    },
    publishSummary: (markdown) => {
      host.summary = mask(markdown);
      log('');
      log(neutraliseCommands(host.summary));
    },
    logIssue: (level, message, at) =>
      err(`${level}: ${at ? `${at.path}:${at.line}: ` : ''}${neutraliseCommands(message)}`),
    publishCodeAnalysisLog(content) {
      if (!options.sarif) return undefined;
      const file = path.resolve(options.sarif);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, content, 'utf8');
      return file;
    },
    mask,
    proxy: () => undefined,
    certificates: () => undefined,
    debug: (m) => {
      if (options.verbose) err(neutraliseCommands(m));
    },
    info: (m) => log(neutraliseCommands(m)),
    warn: (m) => err('warning: ' + neutraliseCommands(m)),
    untrusted: (m, level = 'info') =>
      level === 'debug' ? host.debug(m) : level === 'warn' ? host.warn(m) : host.info(m),
    progress: (percent, text) => err(`progress: ${Math.round(percent)}% ${neutraliseCommands(text)}`),
    setResult: (result, message) => {
      outcome = result;
      const ok = result === 'Succeeded' || result === 'SucceededWithIssues';
      (ok ? log : err)((ok ? '' : 'error: ') + neutraliseCommands(message));
      if (options.json) {
        // Masked field by field: JSON escaping would hide a secret holding a quote or a backslash from the line mask.
        const masked = Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, mask(v)]));
        out(formatReport({ result, exitCode: host.exitCode, message: mask(message), outputs: masked }));
      }
    },
  };
  return host;
}
