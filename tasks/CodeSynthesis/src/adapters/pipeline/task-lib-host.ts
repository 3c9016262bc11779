/**
 * AgentHost over azure-pipelines-task-lib: the agent's environment conventions (INPUT_*, ENDPOINT_*,
 * variables, logging commands). The only module that imports task-lib.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tl from 'azure-pipelines-task-lib/task';
import { Writable } from 'node:stream';
import { INPUTS, type InputName, type OutputName } from '../../core/contract';
import { CredentialError } from '../../core/errors';
import { cancelOnSignals } from './cancellation';
import { maskText, neutraliseCommands } from './commands';
import type { TaskOutcome } from '../../core/ports';
import { secretForms } from '../../core/secret-forms';
import type { AgentHost, CertSettings, ProxySettings, ServiceConnection } from './agent-host';

/** Endpoint data keys an AzureRM connection may carry (task-lib reads data one key at a time). */
const ENDPOINT_DATA_KEYS = [
  'environment',
  'environmentAuthorityUrl',
  'activeDirectoryAuthority',
  'msiclientId',
  'EnableAdfsAuthentication',
  'activeDirectoryServiceEndpointResourceId',
  'AzureKeyVaultDnsSuffix',
  'AzureKeyVaultServiceEndpointResourceId',
  'subscriptionId',
  'subscriptionName',
  'resourceManagerUrl',
  'managementGroupId',
  'scopeLevel',
  'galleryUrl',
  'graphUrl',
  'armManagementPortalUrl',
  'microsoftGraphUrl',
];

/** Inputs that hold secrets: masked as soon as they are read. */
const SECRET_INPUTS: ReadonlySet<InputName> = new Set([INPUTS.apiKey]);

/** filePath inputs naming a file that is optional. */
const OPTIONAL_FILE_INPUTS: ReadonlySet<InputName> = new Set([
  INPUTS.intentFile,
  INPUTS.archiveFile,
  INPUTS.instructionsFile,
  INPUTS.policyFile,
]);

/**
 * The agent turns an empty filePath input into the repository root (as task-lib's filePathSupplied
 * documents), so an optional file input left empty arrives as Build.SourcesDirectory. Read that as unset.
 */
function readOptionalFileInput(name: InputName): string | undefined {
  const value = tl.getInput(name, false);
  if (!value) return undefined;
  const root = tl.getVariable('Build.SourcesDirectory') || tl.getVariable('System.DefaultWorkingDirectory');
  if (root && path.resolve(value) === path.resolve(root)) {
    tl.debug(`${name} is the repository root, which the agent passes for an empty file input: not set.`);
    return undefined;
  }
  return value;
}

/** Variables that hold secrets: read quietly and masked. */
const SECRET_VARIABLES = new Set(['system.accesstoken']);

/**
 * task-lib's getInput and getVariable write "name=value" to the debug stream before the task can mask the
 * value, secrets included (getHttpProxyConfiguration reads Agent.ProxyPassword that way). A key typed into
 * an input, or a secret the agent has not masked, would reach the log. Run such reads with task-lib's std
 * stream pointed at a sink (its public setStdStream seam); the caller masks what it read.
 */
function quietly<T>(read: () => T): T {
  tl.setStdStream(new Writable({ write: (_chunk, _encoding, done) => done() }));
  try {
    return read();
  } finally {
    tl.setStdStream(process.stdout);
  }
}

/** PEM armor lines ("-----BEGIN PRIVATE KEY-----"): not secret, and masking them would hide them in every message. */
const PEM_ARMOR = /^-----(BEGIN|END) [A-Z0-9 ]+-----$/;

/**
 * Register a value with the agent as a secret. task-lib's setSecret throws on a value with line breaks
 * ("Secrets cannot contain multiple lines", unless SYSTEM_UNSAFEALLOWMULTILINESECRET is set), and a
 * certificate connection's PEM has many: register each line instead, as the agent does for multi-line
 * secret variables. PEM armor and very short lines (a base64 tail such as "==") are left out. The
 * JSON-escaped forms are registered too (core/secret-forms.ts): the agent masks only the exact text,
 * and a server echoing a key in a JSON body escapes its quotes and backslashes.
 */
function maskSecret(value: string): void {
  const register = (text: string) => {
    for (const form of secretForms(text)) {
      if (masked.has(form)) continue;
      tl.setSecret(form);
      masked.add(form);
    }
  };
  if (!/[\r\n]/.test(value)) return register(value);
  // Each line masks itself in a JSON echo of the whole value too, where the line breaks become \n.
  for (const line of value.split(/\r\n|\r|\n/)) {
    const text = line.trim();
    if (text.length >= 8 && !PEM_ARMOR.test(text)) register(text);
  }
}

/** Every value registered with the agent as a secret in this process, for mask() and secrets(). */
const masked = new Set<string>();

/** The agent's temporary folder (cleaned after each job). */
function tempDirectory(): string {
  return tl.getVariable('Agent.TempDirectory') || process.env.RUNNER_TEMP || os.tmpdir();
}

/** The artifact Azure DevOps' SARIF SAST Scans Tab and Microsoft Security DevOps read SARIF logs from. */
const CODE_ANALYSIS_ARTIFACT = 'CodeAnalysisLogs';

/**
 * The secrets the agent handed to this task in its environment, which task-lib keeps in its vault after
 * deleting them from process.env: the values of secret variables (SECRET_*), and the credential
 * parameters of the service connections (ENDPOINT_AUTH_*: keys, secrets, tokens, certificates,
 * passwords). They join the registered secrets in secrets(), for keeping out of a child's output.
 */
function agentSecrets(): string[] {
  const found = new Set<string>();
  for (const variable of quietly(() => tl.getVariables()))
    if (variable.secret && variable.value && variable.value.length >= 4) found.add(variable.value);
  for (const endpoint of endpointIds()) {
    const auth = quietly(() => tl.getEndpointAuthorization(endpoint, true));
    for (const [key, value] of Object.entries(auth?.parameters ?? {}))
      if (/key|secret|token|password|certificate/i.test(key) && value && value.length >= 4) found.add(value);
  }
  return [...found];
}

/** The ids of the endpoints the agent passed (ENDPOINT_URL_<id> stays in the environment). */
function endpointIds(): string[] {
  return Object.keys(process.env)
    .filter((k) => k.startsWith('ENDPOINT_URL_'))
    .map((k) => k.slice('ENDPOINT_URL_'.length));
}

function readSecret(name: string, read: () => string | undefined): string | undefined {
  const value = quietly(read);
  if (value) maskSecret(value);
  tl.debug(`${name}=${value ? '***' : ''}`);
  return value;
}

/** Create the host for a run under the agent. Installs SIGINT/SIGTERM handlers that abort `signal`. */
export function createTaskLibHost(): AgentHost {
  const signal = cancelOnSignals((name) =>
    tl.warning(
      `Received ${name}: cancelling. Nothing is written unless the files have already started moving into place; a move that has started is completed.`,
    ),
  );
  return {
    signal,
    getInput: (name: InputName) =>
      SECRET_INPUTS.has(name)
        ? readSecret(name, () => tl.getInput(name, false))
        : OPTIONAL_FILE_INPUTS.has(name)
          ? readOptionalFileInput(name)
          : tl.getInput(name, false),
    getVariable: (name: string) =>
      SECRET_VARIABLES.has(name.toLowerCase())
        ? readSecret(name, () => tl.getVariable(name))
        : tl.getVariable(name),
    getConnection(id: string): ServiceConnection {
      const auth = tl.getEndpointAuthorization(id, true);
      if (!auth) {
        throw new CredentialError(
          `Service connection '${id}' was not found or is not authorized for this pipeline.`,
          'azureSubscription',
          "Check 'azureSubscription' names an Azure Resource Manager service connection and that the pipeline is allowed to use it (Project settings > Service connections > Security).",
        );
      }
      const parameters = auth.parameters ?? {};
      for (const key of ['serviceprincipalkey', 'servicePrincipalCertificate', 'certificate']) {
        const value = parameters[key];
        if (value) maskSecret(value);
      }
      const data: Record<string, string> = {};
      for (const key of ENDPOINT_DATA_KEYS) {
        const value = tl.getEndpointDataParameter(id, key, true);
        if (value) data[key] = value;
      }
      const url = tl.getEndpointUrl(id, true);
      return { id, scheme: auth.scheme ?? '', auth: parameters, data, ...(url ? { url } : {}) };
    },
    setSecret: (value: string) => maskSecret(value),
    secrets: () => [...masked, ...agentSecrets()],
    setOutput: (name: OutputName, value: string) => tl.setVariable(name, value, false, true),
    publishSummary(markdown: string) {
      const file = path.join(tempDirectory(), `code-synthesis-summary-${process.pid}.md`);
      // The agent masks log lines, not attachments.
      fs.writeFileSync(file, maskText(markdown, masked), 'utf8');
      // uploadSummary would title the tab with the file name; an attachment of the summary type names it.
      tl.addAttachment('Distributedtask.Core.Summary', 'Code synthesis', file);
    },
    logIssue(level, message, at) {
      tl.logIssue(
        level === 'error' ? tl.IssueType.Error : tl.IssueType.Warning,
        neutraliseCommands(message),
        at ? neutraliseCommands(at.path) : undefined,
        at?.line,
      );
    },
    publishCodeAnalysisLog(content: string): string | undefined {
      // The job id keeps logs of parallel jobs apart in the one artifact; the pid, of two steps in a job.
      const job = (tl.getVariable('System.JobId') ?? '').replace(/[^A-Za-z0-9]/g, '').slice(0, 8);
      const file = path.join(tempDirectory(), `CodeSynthesis-${job ? job + '-' : ''}${process.pid}.sarif`);
      try {
        fs.writeFileSync(file, content, 'utf8');
      } catch (err) {
        tl.warning(`Could not write the SARIF log ${file}: ${(err as Error).message}`);
        return undefined;
      }
      // Release pipelines have no build artifacts: the file is written and sarifPath set, not uploaded.
      const hostType = (tl.getVariable('System.HostType') || 'build').toLowerCase();
      if (hostType === 'build') {
        // A single file lands at the root of the artifact, where the Scans tab looks (sariftools.scans #25).
        tl.uploadArtifact(CODE_ANALYSIS_ARTIFACT, file, CODE_ANALYSIS_ARTIFACT);
      } else tl.debug(`System.HostType is '${hostType}': the SARIF log is not uploaded as an artifact.`);
      return file;
    },
    mask: (text: string) => maskText(text, masked),
    proxy(url?: string): ProxySettings | undefined {
      const config = quietly(() => tl.getHttpProxyConfiguration(url));
      if (!config?.proxyUrl) return undefined;
      if (config.proxyPassword) maskSecret(config.proxyPassword);
      tl.debug(
        `Agent proxy: ${config.proxyUrl}${config.proxyUsername ? ' (with credentials)' : ''}; bypass: ${JSON.stringify(config.proxyBypassHosts ?? [])}`,
      );
      return {
        url: config.proxyUrl,
        ...(config.proxyUsername ? { username: config.proxyUsername } : {}),
        ...(config.proxyPassword ? { password: config.proxyPassword } : {}),
        bypass: config.proxyBypassHosts ?? [],
      };
    },
    certificates(): CertSettings | undefined {
      const config = quietly(() => tl.getHttpCertConfiguration());
      const skipValidation = (tl.getVariable('Agent.SkipCertValidation') ?? '').toLowerCase() === 'true';
      if (!config) return skipValidation ? { skipValidation } : undefined;
      if (config.passphrase) maskSecret(config.passphrase);
      const certs: CertSettings = {
        ...(config.caFile ? { caFile: config.caFile } : {}),
        ...(config.certFile ? { certFile: config.certFile } : {}),
        ...(config.keyFile ? { keyFile: config.keyFile } : {}),
        ...(config.passphrase ? { passphrase: config.passphrase } : {}),
        ...(skipValidation ? { skipValidation } : {}),
      };
      return Object.keys(certs).length ? certs : undefined;
    },
    debug: (message: string) => tl.debug(message),
    info: (message: string) => console.log(message),
    warn: (message: string) => tl.warning(message),
    untrusted(message: string, level: 'debug' | 'info' | 'warn' = 'info') {
      if (level === 'debug') tl.debugExternalOutput(message, { source: 'remote' });
      else if (level === 'warn') tl.warningExternalOutput(message, { source: 'remote' });
      else tl.writeExternalOutput(message + '\n', { source: 'remote' });
    },
    setResult(result: TaskOutcome, message: string) {
      tl.setResult(tl.TaskResult[result], message);
    },
    // ##vso[task.setprogress value=N;]text: the percentage beside the step in the run's view.
    progress: (percent: number, text: string) =>
      tl.setProgress(Math.max(0, Math.min(100, Math.round(percent))), neutraliseCommands(text)),
  };
}
