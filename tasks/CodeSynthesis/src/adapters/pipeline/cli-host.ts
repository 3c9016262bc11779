/**
 * PipelineHost for the local CLI: inputs from flags, outputs and summary to the terminal.
 * It does not import task-lib (whose import has process-wide side effects).
 */
import type { InputName, OutputName } from '../../core/contract';
import { CredentialError } from '../../core/errors';
import type { PipelineHost } from '../../core/ports';
import { cancelOnSignals } from './cancellation';

/** Neutralise agent logging commands, in case the CLI itself runs inside a pipeline script step. */
export function neutraliseCommands(text: string): string {
  return text.replace(/##(vso)?\[/gi, (m) => m.slice(0, 1) + '\u200b' + m.slice(1));
}

export interface CliHostOptions {
  inputs: Partial<Record<InputName, string>>;
  out?: (line: string) => void;
  err?: (line: string) => void;
  verbose?: boolean;
}

export interface CliHost extends PipelineHost {
  readonly outputs: Partial<Record<OutputName, string>>;
  readonly succeeded: boolean | undefined;
  summary?: string;
}

export function createCliHost(options: CliHostOptions): CliHost {
  const secrets: string[] = [];
  const mask = (text: string) => secrets.reduce((t, s) => t.split(s).join('***'), text);
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
      const ok = result === 'Succeeded';
      succeeded = ok;
      (ok ? out : err)((ok ? '' : 'error: ') + neutraliseCommands(message));
    },
  };
  return host;
}
