/**
 * PipelineHost for the local CLI: inputs from flags, outputs and summary to the terminal.
 * It does not import task-lib (whose import has process-wide side effects).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { InputName, OutputName } from '../../core/contract';
import { CredentialError } from '../../core/errors';
import type { PipelineHost } from '../../core/ports';
import { cancelOnSignals } from './cancellation';
import { maskText, neutraliseCommands } from './commands';

// Printed text is neutralised in case the CLI itself runs inside a pipeline script step.
export { neutraliseCommands };

export interface CliHostOptions {
  inputs: Partial<Record<InputName, string>>;
  out?: (line: string) => void;
  err?: (line: string) => void;
  verbose?: boolean;
  /** Where to write the SARIF log of the scan (--sarif); none is written without it. */
  sarif?: string;
}

export interface CliHost extends PipelineHost {
  readonly outputs: Partial<Record<OutputName, string>>;
  readonly succeeded: boolean | undefined;
  summary?: string;
}

export function createCliHost(options: CliHostOptions): CliHost {
  const secrets: string[] = [];
  const mask = (text: string) => maskText(text, secrets);
  const out = (line: string) => (options.out ?? ((l) => process.stdout.write(l + '\n')))(mask(line));
  const err = (line: string) => (options.err ?? ((l) => process.stderr.write(l + '\n')))(mask(line));
  const outputs: Partial<Record<OutputName, string>> = {};
  let succeeded: boolean | undefined;
  const host: CliHost = {
    outputs,
    get succeeded() {
      return succeeded;
    },
    signal: cancelOnSignals((name) => err(`Received ${name}: cancelling.`)),
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
    setOutput: (name, value) => {
      outputs[name] = value;
      if (options.verbose) out(`output ${name}=${value}`);
    },
    publishSummary: (markdown) => {
      host.summary = markdown;
      out('');
      out(neutraliseCommands(markdown));
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
    info: (m) => out(neutraliseCommands(m)),
    warn: (m) => err('warning: ' + neutraliseCommands(m)),
    untrusted: (m, level = 'info') =>
      level === 'debug' ? host.debug(m) : level === 'warn' ? host.warn(m) : host.info(m),
    setResult: (result, message) => {
      const ok = result === 'Succeeded' || result === 'SucceededWithIssues';
      succeeded = ok;
      (ok ? out : err)((ok ? '' : 'error: ') + neutraliseCommands(message));
    },
  };
  return host;
}
