/**
 * What the bundled task loads on the offline path (the demo), where start-up is most of the run: no
 * remote provider code, and none of task-lib's process-running parts (its ToolRunner, the q promise
 * library, child_process), which scripts/bundle.mjs defers to their first use. The task runs black-box
 * with a preloaded script that records every module it asks Node for.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { agent, outcome } from '../support/agent-run';
import { useWorkDir } from '../support/work-dir';

/** Records each require() the task makes of Node (bundled modules never reach Module.prototype.require). */
const RECORDER = `
const Module = require('node:module');
const fs = require('node:fs');
const asked = new Set();
const original = Module.prototype.require;
Module.prototype.require = function (id) {
  asked.add(id);
  return original.apply(this, arguments);
};
process.on('exit', () => fs.writeSync(2, 'required=' + JSON.stringify([...asked]) + '\\n'));
`;

describe('bundle: what the task loads on the offline path', function () {
  this.timeout(30000);
  const dir = useWorkDir('cs-startup', {});

  it("loads neither remote.js nor child_process (task-lib's ToolRunner and q wait for their first use)", () => {
    const recorder = path.join(dir.work, 'recorder.cjs');
    fs.writeFileSync(recorder, RECORDER);
    const intent = fs.readFileSync(path.join(agent.ROOT, 'examples', 'weather.yaml'), 'utf8');
    const env = agent.agentEnv({
      inputs: { provider: 'offline', intent, outputDirectory: dir.out },
      variables: { 'Agent.TempDirectory': dir.work },
    });
    const run = spawnSync(process.execPath, ['--require', recorder, agent.TASK_ENTRY], {
      env,
      encoding: 'utf8',
    });
    assert.equal(outcome({ ...run, code: run.status }).result, 'Succeeded', run.stdout + run.stderr);
    const line = /^required=(.*)$/m.exec(run.stderr);
    assert.ok(line, run.stderr);
    const required = JSON.parse(line[1]!) as string[];
    assert.ok(required.includes('node:fs'), `the recorder saw the task's requires: ${required.join(', ')}`);
    for (const unwanted of ['child_process', 'node:child_process', './remote.js'])
      assert.ok(!required.includes(unwanted), `the offline run required ${unwanted}: ${required.join(', ')}`);
  });
});
