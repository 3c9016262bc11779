/**
 * The commit stage: every file of the run, the prompt records and the manifest written into the output
 * directory in one all-or-nothing commit (TreeStore), then listed in the log.
 */
import { throwIfAborted } from './generate';
import type { Logger, TreeStore } from './ports';
import type { RunRecord } from './record';

export interface CommitPorts {
  log: Logger;
  tree: Pick<TreeStore, 'commit'>;
  signal: AbortSignal;
}

/**
 * Write the record's files.
 * @throws CancelledError when the run was cancelled before the move started; WriteError (the tree is
 *   restored).
 */
export async function commit(record: RunRecord, ports: CommitPorts): Promise<void> {
  throwIfAborted(ports.signal);
  await ports.tree.commit(record.files, ports.signal);
  for (const f of record.manifest.files)
    ports.log.untrusted(`  ${f.action}: ${f.path} (${f.bytes} bytes)`, 'info');
  for (const p of record.manifest.skipped) ports.log.untrusted(`  skipped (exists): ${p}`, 'info');
}
