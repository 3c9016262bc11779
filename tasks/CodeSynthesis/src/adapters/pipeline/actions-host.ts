/**
 * AgentHost over @actions/core: the GitHub runner's conventions. Inputs come from INPUT_<NAME>
 * (kebab-case names, see action-contract.ts), secrets are masked with `::add-mask::`, outputs go to
 * the GITHUB_OUTPUT file, the summary to GITHUB_STEP_SUMMARY, issues become annotations on the file
 * and line (relative to the workspace), the SARIF log is written to RUNNER_TEMP for
 * github/codeql-action/upload-sarif, the proxy is the runner's (HTTPS_PROXY, NO_PROXY), and the agent's
 * predefined variables are read from their runner twins (RUNNER_VARIABLES). The "service connection"
 * is the identity named by `client-id` and `tenant-id`, signed in with the workflow's OIDC token.
 *
 * Why @actions/core 2.x: 3.x is published as an ES module only (`exports` has an `import` condition
 * alone), which this CommonJS build cannot require outside the bundle; 2.x is its maintained CommonJS line.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as core from '@actions/core';
import { INPUTS, type InputName, type OutputName } from '../../core/contract';
import { CredentialError, InputError } from '../../core/errors';
import type { TaskOutcome } from '../../core/ports';
import { isBypassed } from '../net/network';
import {
  ACTION_INPUTS,
  RUNNER_VARIABLES,
  actionInputName,
  actionOutputName,
  withActionNames,
} from './action-contract';
import type { AgentHost, CertSettings, ProxySettings, ServiceConnection } from './agent-host';
import { cancelOnSignals } from './cancellation';
import { maskText, neutraliseCommands } from './commands';
import { secretForms } from '../../core/secret-forms';

/** The audience Entra ID expects in a federated credential's token. */
export const ENTRA_AUDIENCE = 'api://AzureADTokenExchange';

/** The host of one action run, with what only the action needs. */
export interface ActionsHost extends AgentHost {
  /** An input only the action has (ACTION_INPUTS), trimmed; undefined when empty. */
  getActionInput(name: string): string | undefined;
  /** One of the runner's environment variables (GITHUB_REPOSITORY, GITHUB_SHA, ...), undefined when empty. */
  runnerVariable(name: string): string | undefined;
  /**
   * The runner's OIDC token for `audience` (the job needs `permissions: id-token: write`); masked.
   * @throws CredentialError naming the permission when the runner offers no token.
   */
  getIdToken(audience: string): Promise<string>;
  /** The GITHUB_WORKSPACE folder (the checkout). */
  readonly workspace: string;
  /** Waits for the summary to be written. Call before the process ends. */
  flush(): Promise<void>;
}

/** Task inputs naming a path: relative ones are resolved against the workspace, as the agent roots filePath inputs. */
const PATH_INPUTS: ReadonlySet<InputName> = new Set([
  INPUTS.intentFile,
  INPUTS.instructionsFile,
  INPUTS.policyFile,
  INPUTS.archiveFile,
  INPUTS.outputDirectory,
]);

/** Inputs that hold secrets: masked as soon as they are read. */
const SECRET_INPUTS: ReadonlySet<InputName> = new Set([INPUTS.apiKey]);

/**
 * Secrets the runner hands the step in its environment: the secret inputs (the key, the workflow's
 * token, given or not) and the runtime's own tokens. They join secrets(), so a validation command's
 * environment and output are kept clear of them even before they are read.
 */
const RUNNER_SECRET_VARIABLES = [
  `INPUT_${actionInputName(INPUTS.apiKey).toUpperCase()}`,
  `INPUT_${ACTION_INPUTS.githubToken.toUpperCase()}`,
  'ACTIONS_RUNTIME_TOKEN',
  'ACTIONS_ID_TOKEN_REQUEST_TOKEN',
];

/**
 * Neutralise workflow commands in text we print: a line starting (after blanks) with `::` would be
 * a command to the runner (actions/runner ActionCommand.TryParseV2), and `##[` anywhere starts the
 * older form (TryParse). A zero-width space breaks both.
 */
export function neutraliseWorkflowCommands(text: string): string {
  return neutraliseCommands(text).replace(/^(\s*):(?=:)/gm, '$1:\u200b');
}

/**
 * NO_PROXY as the bypass list network.ts reads (regular expressions tested on the URL): `host` and
 * `.host` match the host and its subdomains, `host:port` that port only, `*` everything. CIDR ranges
 * are not supported (they are listed literally, so match nothing but the text).
 */
export function noProxyPatterns(noProxy: string | undefined): string[] {
  const patterns: string[] = [];
  for (const raw of (noProxy ?? '').split(/[,\s]+/)) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') {
      patterns.push('.*');
      continue;
    }
    const m = /^(?:\*?\.)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(entry);
    if (!m) continue;
    const host = m[1]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const port = m[2];
    const portPart = !port ? '(?::\\d+)?' : port === '443' || port === '80' ? `(?::${port})?` : `:${port}`;
    patterns.push(`^[a-z][a-z0-9+.-]*://(?:[^/?#@]*@)?(?:[^/?#:@]*\\.)?${host}${portPart}(?:[/?#]|$)`);
  }
  return patterns;
}

/** The runner's proxy for HTTPS (https_proxy / HTTPS_PROXY) with its credentials split out, as ProxySettings. */
export function runnerProxy(env: NodeJS.ProcessEnv): ProxySettings | undefined {
  const raw = (env.https_proxy || env.HTTPS_PROXY || '').trim();
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw.includes('://') ? raw : `http://${raw}`);
  } catch {
    throw new CredentialError(
      'The HTTPS_PROXY environment variable is not a URL.',
      'HTTPS_PROXY',
      "Set HTTPS_PROXY to the proxy's URL, e.g. http://proxy.example.com:8080, in the runner's .env file or the job's env.",
    );
  }
  const username = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  return {
    url: `${url.protocol}//${url.host}`,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    bypass: noProxyPatterns(env.no_proxy || env.NO_PROXY),
  };
}

/** Create the host for an action run. Installs SIGINT/SIGTERM handlers that abort `signal`. */
export function createActionsHost(env: NodeJS.ProcessEnv = process.env): ActionsHost {
  const masked = new Set<string>();
  const workspace = path.resolve(env.GITHUB_WORKSPACE || process.cwd());
  const inRepo = (value: string) => path.resolve(workspace, value);
  let summary: Promise<void> = Promise.resolve();
  const setSecret = (value: string): void => {
    // A multi-line value is masked line by line, as the runner masks multi-line secrets; each with its
    // JSON-escaped forms (core/secret-forms.ts), since the runner masks exact text only.
    for (const line of /[\r\n]/.test(value) ? value.split(/\r\n|\r|\n/) : [value]) {
      const text = line.trim();
      if (text.length < (line === value ? 1 : 8)) continue;
      for (const form of secretForms(text)) {
        if (masked.has(form)) continue;
        core.setSecret(form);
        masked.add(form);
      }
    }
  };
  const runnerSecrets = (): string[] =>
    RUNNER_SECRET_VARIABLES.map((name) => env[name]?.trim() ?? '').filter((v) => v.length >= 4);
  // As @actions/core's getInput reads them (INPUT_<NAME>, spaces as '_', upper case, trimmed), from `env`.
  const read = (name: string): string | undefined =>
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`]?.trim() || undefined;
  const input = (name: InputName): string | undefined => {
    if (name === INPUTS.azureSubscription) return read(ACTION_INPUTS.clientId);
    const value = read(actionInputName(name));
    if (value && SECRET_INPUTS.has(name)) setSecret(value);
    if (PATH_INPUTS.has(name)) {
      if (value) return inRepo(value);
      return name === INPUTS.outputDirectory ? workspace : undefined;
    }
    // The task's default intent is the macro $(intent), which GitHub does not have: an empty input is
    // an empty intent, so the message asks for 'intent' or 'intent-file'.
    if (name === INPUTS.intent) return value ?? '';
    return value;
  };
  const annotationFile = (relative: string): string => {
    const file = path.resolve(input(INPUTS.outputDirectory) ?? workspace, relative);
    const inWorkspace = path.relative(workspace, file);
    const shown = inWorkspace.startsWith('..') || path.isAbsolute(inWorkspace) ? file : inWorkspace;
    return shown.split(path.sep).join('/');
  };
  // Our own lines name inputs as the action does; text from outside (`untrusted`) is printed as it came.
  const say = (level: 'debug' | 'info' | 'warn', message: string, ours = true): void => {
    const text = neutraliseWorkflowCommands(ours ? withActionNames(message) : message);
    if (level === 'debug') core.debug(text);
    else if (level === 'warn') core.warning(text);
    else core.info(text);
  };
  const signal = cancelOnSignals((name) =>
    core.warning(
      `Received ${name}: cancelling. Nothing is written unless the files have already started moving into place; a move that has started is completed.`,
    ),
  );
  const host: ActionsHost = {
    signal,
    workspace,
    getInput: input,
    getActionInput: read,
    getVariable: (name) => {
      const from = RUNNER_VARIABLES[name];
      return from ? env[from] || undefined : undefined;
    },
    runnerVariable: (name) => env[name] || undefined,
    getConnection(id: string): ServiceConnection {
      const tenantId = read(ACTION_INPUTS.tenantId);
      if (!tenantId)
        throw new InputError(
          ACTION_INPUTS.tenantId,
          `signing in as '${id}' needs the Entra ID tenant.`,
          `Set '${ACTION_INPUTS.tenantId}' to the tenant (directory) id of the app or managed identity '${ACTION_INPUTS.clientId}' names.`,
        );
      return {
        id,
        scheme: 'WorkloadIdentityFederation',
        auth: { tenantid: tenantId, serviceprincipalid: id },
        data: { environment: read(ACTION_INPUTS.azureEnvironment) ?? 'AzureCloud' },
      };
    },
    setSecret,
    secrets: () => [...new Set([...masked, ...runnerSecrets()])],
    setOutput: (name: OutputName, value: string) => core.setOutput(actionOutputName(name), value),
    publishSummary(markdown: string) {
      // The runner masks log lines; the summary file is ours to mask. core.summary.write is
      // asynchronous: chained here, awaited by flush().
      const text = maskText(markdown, [...masked, ...runnerSecrets()]);
      summary = summary
        .then(() => core.summary.addRaw(text, true).write())
        .then(
          () => undefined,
          (err: unknown) => core.warning(`Could not write the step summary: ${(err as Error).message}`),
        );
    },
    flush: () => summary,
    logIssue(level, message, at) {
      const text = neutraliseWorkflowCommands(withActionNames(message));
      const properties = at ? { file: annotationFile(at.path), startLine: at.line } : {};
      if (level === 'error') core.error(text, properties);
      else core.warning(text, properties);
    },
    publishCodeAnalysisLog(content: string): string | undefined {
      const job = (env.GITHUB_JOB ?? '').replace(/[^A-Za-z0-9_-]/g, '').slice(0, 40);
      const file = path.join(
        env.RUNNER_TEMP || os.tmpdir(),
        `code-synthesis-${job ? job + '-' : ''}${process.pid}.sarif`,
      );
      try {
        fs.writeFileSync(file, content, 'utf8');
      } catch (err) {
        core.warning(`Could not write the SARIF log ${file}: ${(err as Error).message}`);
        return undefined;
      }
      return file;
    },
    mask: (text: string) => maskText(text, [...masked, ...runnerSecrets()]),
    proxy(url?: string): ProxySettings | undefined {
      const proxy = runnerProxy(env);
      if (!proxy) return undefined;
      if (proxy.password) setSecret(proxy.password);
      if (url && isBypassed(proxy, url)) return undefined;
      core.debug(
        `Runner proxy: ${proxy.url}${proxy.username ? ' (with credentials)' : ''}; NO_PROXY entries: ${proxy.bypass.length}`,
      );
      return proxy;
    },
    // Node itself trusts NODE_EXTRA_CA_CERTS, where a runner's extra CA goes; nothing more to load.
    certificates: (): CertSettings | undefined => undefined,
    async getIdToken(audience: string): Promise<string> {
      if (!env.ACTIONS_ID_TOKEN_REQUEST_URL || !env.ACTIONS_ID_TOKEN_REQUEST_TOKEN)
        throw new CredentialError(
          'The runner offers no OIDC token to this job, so the action cannot sign in to Entra ID.',
          'permissions',
          "Give the job 'permissions: id-token: write' (and contents: read), or use auth-mode 'apiKey' with 'api-key' from a secret.",
        );
      try {
        const token = await core.getIDToken(audience);
        setSecret(token);
        return token;
      } catch (err) {
        // The service's answer, for debug output only.
        say('debug', `OIDC token request failed: ${(err as Error)?.message ?? String(err)}`, false);
        throw new CredentialError(
          "The runner's OIDC token service did not answer with a token.",
          'permissions',
          "Check the job's 'permissions: id-token: write' and run again; re-run with debug logging to see the cause.",
          { cause: err },
        );
      }
    },
    debug: (message) => say('debug', message),
    // GitHub shows no step percentage: progress is a log line.
    progress: (percent, text) => say('info', `progress: ${Math.round(percent)}% ${text}`),
    info: (message) => say('info', message),
    warn: (message) => say('warn', message),
    untrusted: (message, level = 'info') => say(level, message, false),
    setResult(result: TaskOutcome, message: string) {
      const text = neutraliseWorkflowCommands(withActionNames(message));
      if (result === 'Succeeded') core.info(text);
      else if (result === 'SucceededWithIssues') core.warning(text);
      else core.setFailed(text);
    },
  };
  return host;
}
