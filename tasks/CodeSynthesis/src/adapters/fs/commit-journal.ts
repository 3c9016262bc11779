/**
 * The journal of a commit, and the recovery of a commit that died (SIGKILL, a crash, a power cut) while
 * moving files into place, when `<root>/.synthesis-staging-<hex>/old/` holds the only copies of the files
 * it replaced.
 *
 * A commit writes `journal.json` in its staging folder, each time atomically (a temporary file, fsync,
 * rename; the first without fsync): phase 'staging' when it starts; phase 'moving' once every file is
 * staged, before the first rename, listing the files in move order (file i is staged as `new/i` and
 * backed up as `old/i`), whether each replaces an existing file, the SHA-256 of what it writes, and the
 * folders the move creates; phase 'done' once every file is in place (the commit point). The next run
 * reads it and puts the tree back as it was before the interrupted run, or refuses with a message naming
 * the folder: it never deletes a backup it has not put back, nor a file that changed since.
 */
import { createHash } from 'node:crypto';
import type { Stats } from 'node:fs';
import type * as fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MANIFEST_PATH } from '../../core/contract';
import { bulletList, PathError, WriteError } from '../../core/errors';
import { checkPaths, showPath } from '../../core/paths';
import type { Logger } from '../../core/ports';

/** The file operations the store uses; a seam for tests that need one of them to fail. */
export type FsOps = Pick<
  typeof fsp,
  'chmod' | 'lstat' | 'mkdir' | 'open' | 'readdir' | 'readFile' | 'rename' | 'rm' | 'rmdir' | 'unlink'
>;

/** Prefix of the scratch folder created inside the root during a commit (denied to generated paths). */
export const STAGING_PREFIX = '.synthesis-staging-';
/** The journal's name inside the staging folder. */
export const JOURNAL = 'journal.json';

/** One file of a commit, in move order. */
export interface JournalFile {
  /** Relative to the root, '/'-separated, as checked by checkPaths. */
  path: string;
  /** SHA-256 of the content written (UTF-8), lower-case hex. */
  sha256: string;
  /** An existing file was there when the move began: it is backed up as old/<index> before the rename. */
  replaces: boolean;
}

export interface Journal {
  version: 1;
  phase: 'staging' | 'moving' | 'done';
  /** The committing process, to tell a leftover from a run still going on this machine. */
  pid: number;
  host: string;
  /** Phase 'moving': every file, in move order. */
  files?: JournalFile[];
  /** Phase 'moving': folders the move creates, parents first, relative to the root. */
  dirs?: string[];
}

export interface RecoveryOptions {
  fs: FsOps;
  root: string;
  log?: Pick<Logger, 'info' | 'warn'>;
  /** Whether a process of this machine is running (default: signal 0). */
  isAlive?: (pid: number) => boolean;
}

/** SHA-256 of UTF-8 text, as recorded in the journal. */
export function contentHash(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

/** The journal of this process in `phase`. */
export function journalOf(phase: Journal['phase'], moving?: Pick<Journal, 'files' | 'dirs'>): Journal {
  return { version: 1, phase, pid: process.pid, host: os.hostname(), ...moving };
}

/**
 * Replace `<staging>/journal.json` atomically (a temporary file renamed over it) and, unless `durable` is
 * false, durably (the file and the folder fsynced). The 'staging' journal need not survive a power cut:
 * it only tells other runs on this machine that its process is using the folder, and a staging folder
 * without a journal and without backups is settled as one in phase 'staging' is (removed).
 */
export async function writeJournal(
  fs: FsOps,
  staging: string,
  journal: Journal,
  durable = true,
): Promise<void> {
  const tmp = path.join(staging, 'journal.tmp');
  const handle = await fs.open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(JSON.stringify(journal), 'utf8');
    if (durable) await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(tmp, path.join(staging, JOURNAL));
  if (durable) await syncDir(fs, staging);
}

/**
 * Remove a staging folder in an order a crash cannot make ambiguous: the backups first, the journal
 * last, so a folder without a journal never holds a backup this code removed on purpose.
 */
export async function removeStaging(fs: FsOps, staging: string): Promise<void> {
  await fs.rm(path.join(staging, 'old'), { recursive: true, force: true });
  await fs.rm(path.join(staging, 'new'), { recursive: true, force: true });
  await fs.rm(staging, { recursive: true, force: true });
}

/** fsync a folder so renames into it survive a crash. Not possible on Windows; best effort. */
export async function syncDir(fs: FsOps, dir: string): Promise<void> {
  try {
    const handle = await fs.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    /* EISDIR/EPERM on Windows */
  }
}

/**
 * Settle every staging folder a previous commit left in `root`: remove those whose run changed nothing
 * or had finished, roll back those whose move was interrupted, and report each on `log`.
 * Entries named like a staging folder that are not folders (a file, a symlink) are not ours and are left
 * alone (symlinks are never followed).
 * @throws WriteError naming the folder and what to do when a leftover cannot be accounted for (no or a
 *   bad journal while backups exist, files changed since, a run of this machine still going); nothing
 *   has been changed then.
 */
export async function recoverLeftovers(options: RecoveryOptions): Promise<void> {
  let entries: string[];
  try {
    entries = await options.fs.readdir(options.root);
  } catch {
    return; // no root yet, or not a folder (inspect reports that)
  }
  for (const name of entries.filter((e) => e.startsWith(STAGING_PREFIX)).sort()) {
    const dir = path.join(options.root, name);
    if ((await lstatOrUndefined(options.fs, dir))?.isDirectory()) await recoverOne(options, name, dir);
  }
}

async function recoverOne(o: RecoveryOptions, name: string, dir: string): Promise<void> {
  await checkShape(o.fs, name, dir);
  const backups = await listOrEmpty(o.fs, path.join(dir, 'old'));
  const text = await o.fs.readFile(path.join(dir, JOURNAL), 'utf8').catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw cannotRead(name, dir, error);
  });
  const interrupted = 'left by an interrupted run';
  const nothingChanged = `Removed ${name}, left by a run that was interrupted before it changed the output directory.`;
  if (text === undefined) {
    if (backups.length)
      throw refusal(
        name,
        dir,
        interrupted,
        [`no journal says what it changed; its old folder holds ${backups.length} replaced file(s)`],
        false,
      );
    await removeStaging(o.fs, dir);
    o.log?.info(nothingChanged);
    return;
  }
  const journal = parseJournal(text);
  if (!journal) throw refusal(name, dir, interrupted, [`its ${JOURNAL} cannot be read`], false);
  const alive = o.isAlive ?? isAlive;
  if (journal.host === os.hostname() && journal.pid !== process.pid && alive(journal.pid)) {
    throw new WriteError(
      `The output directory holds ${name} from process ${journal.pid} on this machine, which is still running: another run may be writing there.`,
      'outputDirectory',
      'Nothing was changed. Wait for that run to finish, then run again.',
    );
  }
  if (journal.phase === 'done') {
    await removeStaging(o.fs, dir);
    o.log?.info(
      `Removed ${name}, left by a run that had finished moving its files into place${backups.length ? ` (it held ${backups.length} file(s) that run replaced)` : ''}.`,
    );
    return;
  }
  if (journal.phase === 'staging') {
    if (backups.length)
      throw refusal(name, dir, interrupted, [
        `its journal says the move had not started, yet its old folder holds ${backups.length} file(s)`,
      ]);
    await removeStaging(o.fs, dir);
    o.log?.info(nothingChanged);
    return;
  }
  await rollBack(o, name, dir, journal);
}

interface Undo {
  index: number;
  file: JournalFile;
  target: string;
  removeTarget: boolean;
  restoreBackup: boolean;
}

/** Undo an interrupted move: plan every step first (refusing if any is unclear), then carry them out. */
async function rollBack(o: RecoveryOptions, name: string, dir: string, journal: Journal): Promise<void> {
  const files = journal.files ?? [];
  const dirs = journal.dirs ?? [];
  const how = 'left by a run that was interrupted while moving files into place';
  const problems = validatePaths(files, dirs);
  if (problems.length) throw refusal(name, dir, how, problems);

  const undo: Undo[] = [];
  for (const [index, file] of [...files.entries()].reverse()) {
    const staged = await lstatOrUndefined(o.fs, path.join(dir, 'new', String(index)));
    const backup = await lstatOrUndefined(o.fs, path.join(dir, 'old', String(index)));
    const shown = showPath(file.path);
    if ((staged && !staged.isFile()) || (backup && !backup.isFile())) {
      problems.push(`${shown}: its staged or backup copy is not a regular file`);
      continue;
    }
    if (backup && !file.replaces) {
      problems.push(`${shown}: has a backup the journal does not expect`);
      continue;
    }
    const target = await resolve(o.fs, o.root, file.path);
    if (target.kind === 'blocked') {
      problems.push(`${shown}: a folder on its way is now a symlink or a file`);
      continue;
    }
    const step: Undo = { index, file, target: target.abs, removeTarget: false, restoreBackup: false };
    if (staged) {
      // Not placed. If its backup was taken, the original is in old/ and the target must be empty.
      if (backup) {
        if (target.kind !== 'absent')
          problems.push(`${shown}: is back in the output directory, yet its backup was taken`);
        else if (!target.parentExists) problems.push(`${shown}: its folder is gone`);
        else step.restoreBackup = true;
      }
    } else {
      // Placed: the target holds what that run wrote, unless someone changed it since.
      const ours = target.kind === 'file' && contentHash(await o.fs.readFile(target.abs)) === file.sha256;
      if (target.kind === 'other') problems.push(`${shown}: is no longer a file`);
      else if (target.kind === 'file' && !ours && (backup || !file.replaces))
        problems.push(`${shown} was changed after that run wrote it`);
      else if (file.replaces && !backup && (ours || target.kind === 'absent'))
        problems.push(
          `${shown}: the file it replaced is neither in the output directory nor in the old folder`,
        );
      else {
        step.removeTarget = ours;
        step.restoreBackup = backup !== undefined;
        if (step.restoreBackup && !target.parentExists) problems.push(`${shown}: its folder is gone`);
      }
      // A replaced file without a backup whose target is not ours was already put back.
    }
    if (step.removeTarget || step.restoreBackup) undo.push(step);
  }
  if (problems.length) throw refusal(name, dir, how, problems);

  let restored = 0;
  let removed = 0;
  let removedDirs = 0;
  try {
    for (const step of undo) {
      if (step.removeTarget) await o.fs.unlink(step.target);
      if (step.restoreBackup) await o.fs.rename(path.join(dir, 'old', String(step.index)), step.target);
      if (step.restoreBackup) restored++;
      else removed++;
    }
    for (const rel of [...dirs].reverse()) {
      try {
        await o.fs.rmdir(path.join(o.root, ...rel.split('/')));
        removedDirs++;
      } catch {
        /* already gone, or holds something that run did not create: left as it is */
      }
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new WriteError(
      `Could not finish restoring the output directory from ${name} (${code}).`,
      'outputDirectory',
      `The output directory may be partly restored. The files that run replaced that are not yet back are in ${path.join(dir, 'old')}: run again to continue, or restore them by hand.`,
      { cause: error },
    );
  }
  await removeStaging(o.fs, dir);
  o.log?.warn(
    `Found ${name}, ${how}; restored the output directory as it was before that run: put back ${restored} replaced file(s) and removed ${removed} file(s) and ${removedDirs} folder(s) it had created.`,
  );
}

/**
 * A staging folder is what a commit makes of it: `old/` and `new/` real folders (when present) holding
 * regular files only, `journal.json` a regular file. Anything else (a symlink above all: `old` linked
 * to a folder outside would have recovery move files from there into the output directory) was not
 * made by this task: refuse before reading or moving anything.
 * @throws WriteError naming the folder and each entry at fault.
 */
async function checkShape(fs: FsOps, name: string, dir: string): Promise<void> {
  const problems: string[] = [];
  for (const sub of ['old', 'new']) {
    const stat = await lstatOrUndefined(fs, path.join(dir, sub));
    if (!stat) continue;
    if (!stat.isDirectory()) {
      problems.push(`its ${sub} folder is a symlink or not a folder`);
      continue;
    }
    for (const entry of (await fs.readdir(path.join(dir, sub))).sort()) {
      const entryStat = await lstatOrUndefined(fs, path.join(dir, sub, entry));
      if (entryStat && !entryStat.isFile())
        problems.push(`${showPath(`${sub}/${entry}`)} is a symlink or not a file`);
    }
  }
  const journal = await lstatOrUndefined(fs, path.join(dir, JOURNAL));
  if (journal && !journal.isFile()) problems.push(`its ${JOURNAL} is a symlink or not a file`);
  if (problems.length === 0) return;
  throw new WriteError(
    `The output directory holds ${name}, named like the task's staging folders but not made by it (symlinks are never followed):${bulletList(problems)}`,
    'outputDirectory',
    `Nothing was changed. Check what ${dir} holds, keep what you need, then delete it and run again.`,
  );
}

/** What a forged journal names must pass the rules a generated path passes (the manifest excepted). */
function validatePaths(files: readonly JournalFile[], dirs: readonly string[]): string[] {
  const problems: string[] = [];
  const named = files.map((f) => f.path).filter((p) => p !== MANIFEST_PATH);
  try {
    const checked = checkPaths(
      named.map((p) => ({ path: p, content: '' })),
      { deniedPaths: [], maxFiles: Number.MAX_SAFE_INTEGER, maxTotalBytes: Number.MAX_SAFE_INTEGER },
    );
    for (const [i, f] of checked.entries())
      if (f.path !== named[i]) problems.push(`${showPath(named[i] ?? '')}: is not a normalised path`);
  } catch (error) {
    if (!(error instanceof PathError)) throw error;
    problems.push(...error.problems);
  }
  for (const d of dirs)
    if (!files.some((f) => f.path.startsWith(d + '/')))
      problems.push(`${showPath(d)}: is not a folder of a file the journal lists`);
  return problems;
}

/** Where a journal path leads, without following symlinks. */
async function resolve(
  fs: FsOps,
  root: string,
  rel: string,
): Promise<{ kind: 'absent' | 'file' | 'other' | 'blocked'; abs: string; parentExists: boolean }> {
  const segments = rel.split('/');
  let dir = root;
  for (const name of segments.slice(0, -1)) {
    dir = path.join(dir, name);
    const stat = await lstatOrUndefined(fs, dir);
    if (!stat) return { kind: 'absent', abs: path.join(root, ...segments), parentExists: false };
    if (!stat.isDirectory()) return { kind: 'blocked', abs: dir, parentExists: false };
  }
  const abs = path.join(dir, segments[segments.length - 1] ?? '');
  const stat = await lstatOrUndefined(fs, abs);
  return { kind: !stat ? 'absent' : stat.isFile() ? 'file' : 'other', abs, parentExists: true };
}

function parseJournal(text: string): Journal | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const j = value as Partial<Journal> | null;
  if (!j || typeof j !== 'object' || j.version !== 1) return undefined;
  if (j.phase !== 'staging' && j.phase !== 'moving' && j.phase !== 'done') return undefined;
  if (!Number.isSafeInteger(j.pid) || (j.pid ?? 0) <= 0 || typeof j.host !== 'string') return undefined;
  if (j.phase !== 'moving') return j as Journal;
  const fileOk = (f: unknown): boolean => {
    const r = f as Partial<JournalFile> | null;
    return (
      !!r &&
      typeof r.path === 'string' &&
      typeof r.sha256 === 'string' &&
      /^[0-9a-f]{64}$/.test(r.sha256) &&
      typeof r.replaces === 'boolean'
    );
  };
  if (!Array.isArray(j.files) || !j.files.every(fileOk)) return undefined;
  if (!Array.isArray(j.dirs) || !j.dirs.every((d) => typeof d === 'string')) return undefined;
  return j as Journal;
}

/** `journaled`: the folder's journal can be read, and says which numbered backup is which file. */
function refusal(
  name: string,
  dir: string,
  how: string,
  problems: readonly string[],
  journaled = true,
): WriteError {
  return new WriteError(
    `The output directory holds ${name}, ${how}, and the task cannot tell how to undo it:${bulletList(problems)}`,
    'outputDirectory',
    `Nothing was changed. The files that run replaced are in ${path.join(dir, 'old')}${journaled ? `, numbered as in ${JOURNAL} there` : ''}: restore what you need, then delete ${name} and run again.`,
  );
}

function cannotRead(name: string, dir: string, error: unknown): WriteError {
  const code = (error as NodeJS.ErrnoException).code ?? String(error);
  return new WriteError(
    `The output directory holds ${name}, left by an interrupted run, and its ${JOURNAL} cannot be read (${code}).`,
    'outputDirectory',
    `Nothing was changed. Check that the agent can read ${dir}, then run again.`,
    { cause: error },
  );
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function lstatOrUndefined(fs: FsOps, abs: string): Promise<Stats | undefined> {
  try {
    return await fs.lstat(abs);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

async function listOrEmpty(fs: FsOps, dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch {
    return [];
  }
}
