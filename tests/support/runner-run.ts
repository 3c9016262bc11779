/**
 * Runs the bundled action (dist/action/index.js) the way the GitHub runner runs a node action: inputs
 * as INPUT_<NAME> (upper case, spaces as '_', hyphens kept) with action.yml's defaults, the file
 * commands GITHUB_OUTPUT / GITHUB_STEP_SUMMARY / GITHUB_ENV / GITHUB_PATH / GITHUB_STATE as empty files,
 * GITHUB_WORKSPACE as the working directory, the event payload at GITHUB_EVENT_PATH, and the other
 * default variables (https://docs.github.com/actions/reference/variables-reference).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from './repo';

export const ACTION_ENTRY = path.join(REPO_ROOT, 'dist', 'action', 'index.js');

export interface ActionRunOptions {
  /** Inputs by their action.yml names. */
  inputs?: Record<string, string>;
  /** The checkout (GITHUB_WORKSPACE, the working directory). */
  workspace: string;
  /** RUNNER_TEMP; the file commands and the event payload are written here too. */
  temp: string;
  /** What `${{ github.token }}` evaluates to in input defaults. */
  token?: string;
  /** The event payload (default: a push). */
  event?: Record<string, unknown>;
  /** More variables (GITHUB_REPOSITORY, HTTPS_PROXY, ACTIONS_ID_TOKEN_REQUEST_URL, ...). */
  env?: Record<string, string>;
  onSpawn?: (child: ChildProcess) => void;
}

/** A workflow command the action printed: `::name key=value,...::data`. */
export interface WorkflowCommand {
  name: string;
  properties: Record<string, string>;
  data: string;
}

export interface ActionRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** GITHUB_OUTPUT, read back. */
  outputs: Record<string, string>;
  /** GITHUB_STEP_SUMMARY, read back. */
  summary: string;
  commands: WorkflowCommand[];
}

/** The INPUT_ variable the runner sets for an input. */
export const inputVariable = (name: string): string => `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;

/**
 * The file-command format @actions/core writes: `name<<delimiter`, the value's lines, `delimiter`
 * (and the older `name=value`).
 */
export function readFileCommands(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delimiter] = heredoc;
      const end = lines.indexOf(delimiter!, i + 1);
      if (end < 0) throw new Error(`unterminated value of ${name} in a file command`);
      out[name!] = lines.slice(i + 1, end).join('\n');
      i = end;
    } else if (line.includes('=')) out[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
  }
  return out;
}

/** `::name k=v,k=v::data` lines, unescaped as the runner does. */
export function workflowCommands(stdout: string): WorkflowCommand[] {
  const unescape = (s: string, property: boolean) => {
    let t = s.replace(/%0D/g, '\r').replace(/%0A/g, '\n');
    if (property) t = t.replace(/%3A/g, ':').replace(/%2C/g, ',');
    return t.replace(/%25/g, '%');
  };
  const found: WorkflowCommand[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    const m = /^\s*::([\w-]+)(?: ([^:]*))?::(.*)$/.exec(line);
    if (!m) continue;
    const properties: Record<string, string> = {};
    for (const pair of (m[2] ?? '').split(',').filter(Boolean)) {
      const eq = pair.indexOf('=');
      if (eq > 0) properties[pair.slice(0, eq)] = unescape(pair.slice(eq + 1), true);
    }
    found.push({ name: m[1]!, properties, data: unescape(m[3]!, false) });
  }
  return found;
}

interface ActionYml {
  inputs: Record<string, { default?: string }>;
}

export async function runAction(options: ActionRunOptions): Promise<ActionRun> {
  const yml = parse(fs.readFileSync(path.join(REPO_ROOT, 'action.yml'), 'utf8')) as ActionYml;
  const files = Object.fromEntries(
    ['GITHUB_OUTPUT', 'GITHUB_STEP_SUMMARY', 'GITHUB_ENV', 'GITHUB_PATH', 'GITHUB_STATE'].map((name) => {
      const file = path.join(options.temp, `_runner_file_commands_${name.toLowerCase()}`);
      fs.writeFileSync(file, '');
      return [name, file];
    }),
  );
  const eventPath = path.join(options.temp, 'event.json');
  fs.writeFileSync(eventPath, JSON.stringify(options.event ?? { ref: 'refs/heads/main', commits: [] }));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !/^(INPUT_|GITHUB_|RUNNER_|ACTIONS_|CI$)|_proxy$/i.test(k)) env[k] = v;
  for (const [name, input] of Object.entries(yml.inputs)) {
    const given = options.inputs?.[name];
    const value =
      given ?? (input.default === '${{ github.token }}' ? (options.token ?? '') : (input.default ?? ''));
    env[inputVariable(name)] = value;
  }
  for (const name of Object.keys(options.inputs ?? {}))
    if (!(name in yml.inputs)) throw new Error(`action.yml has no input '${name}'`);
  Object.assign(env, files, {
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: options.workspace,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_EVENT_NAME: 'push',
    GITHUB_REPOSITORY: 'contoso/web',
    GITHUB_REPOSITORY_OWNER: 'contoso',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_RUN_ID: '4242',
    GITHUB_RUN_NUMBER: '7',
    GITHUB_WORKFLOW: 'intent-to-pr',
    GITHUB_JOB: 'synthesize',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: 'https://api.github.com',
    RUNNER_TEMP: options.temp,
    RUNNER_OS: 'Linux',
    ...options.env,
  });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ACTION_ENTRY], {
      env,
      cwd: options.workspace,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        code,
        stdout,
        stderr,
        outputs: readFileCommands(fs.readFileSync(files.GITHUB_OUTPUT!, 'utf8')),
        summary: fs.readFileSync(files.GITHUB_STEP_SUMMARY!, 'utf8'),
        commands: workflowCommands(stdout),
      }),
    );
    options.onSpawn?.(child);
  });
}
