/**
 * node-diff3 is an ES module package (`"type": "module"`, builds behind `exports` only): the task's
 * CommonJS bundle must hold it whole, so the merge works with no node_modules beside the task.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { REPO_ROOT } from '../support/repo';

describe('core/merge.ts bundled as the task bundles (esbuild, node20, cjs)', function () {
  this.timeout(30_000);
  let work: string;
  beforeEach(() => (work = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-merge-bundle-'))));
  afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

  it('includes node-diff3 and merges without node_modules', async () => {
    const outfile = path.join(work, 'merge.js');
    const result = await esbuild.build({
      absWorkingDir: REPO_ROOT,
      entryPoints: [path.join(REPO_ROOT, 'tasks', 'CodeSynthesis', 'src', 'core', 'merge.ts')],
      outfile,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      metafile: true,
      logLevel: 'silent',
    });
    assert.ok(
      Object.keys(result.metafile.inputs).some((p) =>
        /node_modules\/node-diff3\/dist\/diff3\.(c|m)js$/.test(p),
      ),
      'node-diff3 is in the bundle',
    );
    const code = fs.readFileSync(outfile, 'utf8');
    assert.doesNotMatch(code, /require\(["']node-diff3["']\)/);
    const { mergeFile } = (await import(
      outfile
    )) as typeof import('../../tasks/CodeSynthesis/src/core/merge');
    assert.deepEqual(mergeFile('a\nb\nc\n', 'A\nb\nc\n', 'a\nb\nC\n'), { clean: true, content: 'A\nb\nC\n' });
  });
});
