// Runs the bundled task the way the agent does: inputs as INPUT_<NAME> environment variables,
// variables as upper-cased names with '.' -> '_', endpoints as ENDPOINT_* variables.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const TASK_ENTRY = path.join(ROOT, 'dist', 'tasks', 'CodeSynthesis', 'index.js');

/**
 * The inputs as the agent hands them to a task: every task.json input, the value given (by name or
 * alias) or its default, with $(variable) macros expanded (an undefined variable stays literal), and
 * filePath inputs rooted at the sources directory (an empty one becomes the sources directory itself).
 */
function agentInputs(inputs, variables, entry = TASK_ENTRY) {
  const task = JSON.parse(fs.readFileSync(path.join(path.dirname(entry), 'task.json'), 'utf8'));
  const vars = {};
  for (const [k, v] of Object.entries(variables)) vars[k.toLowerCase()] = v;
  const expand = (value) =>
    value.replace(/\$\(([^)]+)\)/g, (macro, name) => vars[name.toLowerCase()] ?? macro);
  const root = vars['build.sourcesdirectory'] ?? vars['system.defaultworkingdirectory'] ?? '';
  const out = { ...inputs };
  for (const input of task.inputs) {
    const given = [input.name, ...(input.aliases ?? [])].map((n) => inputs[n]).find((v) => v !== undefined);
    for (const alias of input.aliases ?? []) delete out[alias];
    let value = expand(String(given ?? input.defaultValue ?? ''));
    if (input.type === 'filePath' && root) value = value ? path.resolve(root, value) : root;
    if (value !== '') out[input.name] = value;
    else delete out[input.name];
  }
  return out;
}

/** Environment for one task run. inputs: {intent: '...'}; variables: {'Agent.TempDirectory': '...'}. */
function agentEnv({ inputs = {}, variables = {}, endpoints = {}, secrets = {} }) {
  const env = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^(INPUT_|ENDPOINT_|SECRET_|AGENT_|SYSTEM_|BUILD_)/.test(k)) env[k] = v;
  for (const [name, value] of Object.entries(agentInputs(inputs, { ...variables, ...secrets })))
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  for (const [name, value] of Object.entries(variables)) env[name.replace(/\./g, '_').toUpperCase()] = value;
  for (const [name, value] of Object.entries(secrets))
    env[`SECRET_${name.replace(/\./g, '_').toUpperCase()}`] = value;
  for (const [id, e] of Object.entries(endpoints)) {
    if (e.url) env[`ENDPOINT_URL_${id}`] = e.url;
    env[`ENDPOINT_AUTH_${id}`] = JSON.stringify({ scheme: e.scheme, parameters: e.auth ?? {} });
    env[`ENDPOINT_AUTH_SCHEME_${id}`] = e.scheme;
    for (const [k, v] of Object.entries(e.auth ?? {}))
      env[`ENDPOINT_AUTH_PARAMETER_${id}_${k.toUpperCase()}`] = v;
    for (const [k, v] of Object.entries(e.data ?? {})) env[`ENDPOINT_DATA_${id}_${k.toUpperCase()}`] = v;
  }
  return env;
}

/** Run the bundled task; resolves with {code, signal, stdout, stderr}. */
function runTask(options, { entry = TASK_ENTRY, node = process.execPath, onSpawn } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(node, [entry], {
      env: agentEnv(options),
      cwd: options.cwd ?? ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    onSpawn?.(child);
  });
}

/** Lines where '##vso[' stands anywhere but at the start: commands a task must never let through. */
function injectedCommands(stdout) {
  return stdout
    .split(/\r?\n/)
    .filter((line) => line.indexOf('##vso[') > 0 || (line.match(/##vso\[/g) ?? []).length > 1);
}

/** The ##vso commands in task output: [{command, properties, message}]. */
function vsoCommands(stdout) {
  const out = [];
  for (const line of stdout.split(/\r?\n/)) {
    const m = /^##vso\[([\w.]+)([^\]]*)\](.*)$/.exec(line);
    if (!m) continue;
    const properties = {};
    for (const p of m[2].trim().split(';')) {
      const i = p.indexOf('=');
      if (i > 0) properties[p.slice(0, i)] = p.slice(i + 1);
    }
    out.push({ command: m[1], properties, message: m[3] });
  }
  return out;
}

module.exports = { ROOT, TASK_ENTRY, agentEnv, agentInputs, runTask, vsoCommands, injectedCommands };
