import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { STAGING_PREFIX } from '../../tasks/CodeSynthesis/src/adapters/fs/tree-store';
import type { FileToWrite } from '../../tasks/CodeSynthesis/src/core/ports';

const STORE_MODULE = path.resolve(__dirname, '../../tasks/CodeSynthesis/src/adapters/fs/tree-store.js');

/** When the child kills itself: right before its n-th file-system call, or before the rename placing a file. */
export interface KillPoint {
  killAt?: number;
  /** The end of the target path whose placement (the rename out of the staging folder) is not reached. */
  killBefore?: string;
}

/**
 * Commit `files` into `root` through FsTreeStore (the compiled build) in a child process that SIGKILLs
 * itself at `kill`, as a crash, an OOM kill or a power cut would stop it: no finally block, no rollback.
 * @returns 'killed', or 'done' when the commit finished before the kill point.
 */
export function commitInChild(
  root: string,
  files: readonly FileToWrite[],
  kill: KillPoint,
): 'killed' | 'done' {
  const script = `
    const fsp = require('node:fs/promises');
    const { FsTreeStore } = require(${JSON.stringify(STORE_MODULE)});
    const killAt = Number(process.env.KILL_AT || 0);
    const killBefore = process.env.KILL_BEFORE || '';
    let calls = 0;
    const ops = {};
    for (const name of ['chmod', 'lstat', 'mkdir', 'open', 'readdir', 'readFile', 'rename', 'rm', 'rmdir', 'unlink']) {
      ops[name] = (...args) => {
        calls += 1;
        const placing = name === 'rename' && String(args[0]).includes(${JSON.stringify(STAGING_PREFIX)}) && String(args[1]).endsWith(killBefore);
        if (calls === killAt || (killBefore && placing)) process.kill(process.pid, 'SIGKILL');
        return fsp[name](...args);
      };
    }
    new FsTreeStore(${JSON.stringify(root)}, { fs: ops })
      .commit(${JSON.stringify(files)}, new AbortController().signal)
      .then(() => process.exit(0), (error) => { console.error(error); process.exit(3); });
  `;
  const r = spawnSync(process.execPath, ['-e', script], {
    env: { ...process.env, KILL_AT: String(kill.killAt ?? 0), KILL_BEFORE: kill.killBefore ?? '' },
    encoding: 'utf8',
  });
  if (r.signal === 'SIGKILL') return 'killed';
  assert.equal(r.status, 0, r.stderr);
  return 'done';
}
