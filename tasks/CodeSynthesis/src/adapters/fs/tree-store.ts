/**
 * The output directory on a real file system, written all-or-nothing: every file is staged inside
 * the root, then moved into place with rename; any failure in the move is rolled back, and a journal
 * lets the next run roll back a move this process did not live to finish (commit-journal.ts).
 */
import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import * as fsp from 'node:fs/promises';
import path from 'node:path';
import { INPUTS } from '../../core/contract';
import { CancelledError, InputError, WriteError } from '../../core/errors';
import { foldName, showPath } from '../../core/paths';
import type { FileToWrite, Logger, PathState, TreeStore } from '../../core/ports';
import { eachBounded, FS_CONCURRENCY, ItemFailure, mapBounded } from './bounded';
import {
  contentHash,
  JOURNAL,
  journalOf,
  recoverLeftovers,
  removeStaging,
  STAGING_PREFIX,
  syncDir,
  writeJournal,
  type FsOps,
  type JournalFile,
} from './commit-journal';

export { STAGING_PREFIX, type FsOps } from './commit-journal';

export interface FsTreeStoreOptions {
  /** Replaces some of node:fs/promises (tests inject failures here). */
  fs?: Partial<FsOps>;
  /** Suffix of the staging folder's name; random by default. */
  stagingSuffix?: () => string;
  /** Where the recovery of a leftover staging folder is reported. */
  log?: Pick<Logger, 'info' | 'warn'>;
  /**
   * The sources directory (Build.SourcesDirectory): when the root lies inside it, no folder between the
   * two (the root included) may be a symlink, or the files would land wherever the link points.
   */
  confinedTo?: string;
  /** Whether a process of this machine is running (tests). */
  isAlive?: (pid: number) => boolean;
}

type Step =
  | { kind: 'mkdir'; dir: string }
  | { kind: 'backup'; original: string; backup: string }
  | { kind: 'place'; target: string };

/** Thrown inside the move phase when the tree changed under us since inspect. */
class TreeChanged extends Error {}

/** What lies on the way to a file and at its target, and how many folders the move had created when asked. */
interface Examination {
  mkdirs: number;
  stats: Promise<PromiseSettledResult<Stats | undefined>[]>;
}

/** A TreeStore over a real directory. `root` is absolute; it is created when missing. */
export class FsTreeStore implements TreeStore {
  private readonly fs: FsOps;
  private readonly stagingSuffix: () => string;
  private settled?: Promise<void>;

  constructor(
    readonly root: string,
    private readonly options: FsTreeStoreOptions = {},
  ) {
    if (!path.isAbsolute(root))
      throw new Error(`FsTreeStore: the root must be an absolute path, got '${root}'.`);
    this.fs = { ...fsp, ...options.fs };
    this.stagingSuffix = options.stagingSuffix ?? (() => randomBytes(6).toString('hex'));
  }

  /**
   * lstat each segment of each path (symlinks are never followed). A missing segment, and the last
   * segment, are also looked up in their folder's listing to find entries differing only in case.
   * First (once per store) the root is checked not to be reached through a symlink inside `confinedTo`,
   * and staging folders left by an interrupted commit are settled (see commit-journal.ts).
   * @throws InputError on outputDirectory when the root is reached through a symlink.
   * @throws WriteError when a path cannot be examined (permission denied, ...), or a leftover staging
   *   folder cannot be accounted for (the message names it and says what to do).
   */
  async inspect(items: readonly (string | FileToWrite)[]): Promise<PathState[]> {
    await this.settle();
    const listings = new Map<string, Promise<string[]>>();
    return mapBounded(items, FS_CONCURRENCY, (item) =>
      this.inspectOne(
        typeof item === 'string' ? item : item.path,
        typeof item === 'string' ? undefined : item.content,
        listings,
      ),
    );
  }

  /**
   * The text of the regular file at `rel`, reached without following any symlink; undefined when
   * there is none (absent, a folder, a symlink, or a path through a symlink or a file).
   * @throws WriteError when the file cannot be read (permission denied, ...).
   */
  async read(rel: string): Promise<string | undefined> {
    const [state] = await this.inspect([rel]);
    if (state?.kind !== 'file' || state.blockedBy !== undefined) return undefined;
    try {
      return (await this.fs.readFile(path.join(this.root, ...rel.split('/')))).toString('utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw writeError('read', rel, error);
    }
  }

  /**
   * Stage all files in `<root>/.synthesis-staging-<random>/` (a few at a time, each fsynced), then rename
   * each into place, in order, moving any existing file aside first. If `signal` aborts before the move,
   * or staging fails, the staging folder (and the root, if this call created it) is removed and the tree
   * is untouched (files already being written finish first). The move is not interruptible; if it fails,
   * every step is undone in reverse order.
   * New files are written with mode 0644, or 0755 under a `bin/` folder or when named `*.sh`; a replaced
   * file keeps its permission bits (rwx), never setuid, setgid or sticky.
   * Before the first rename the journal lists every step, so that if this process dies during the move
   * the next run (its inspect or commit) puts the tree back as it was.
   * @throws CancelledError when aborted before the move.
   * @throws InputError on outputDirectory when the root is reached through a symlink (see inspect).
   * @throws WriteError naming the path and OS error code; the tree has been restored (the message
   *   says otherwise, and where the backups are, if the restore itself failed).
   */
  async commit(files: readonly FileToWrite[], signal: AbortSignal): Promise<void> {
    if (signal.aborted) throw new CancelledError();
    if (files.length === 0) return;
    await this.settle();
    await this.checkConfined(); // again: the check in inspect was a while ago

    let createdRoot: string | undefined;
    try {
      createdRoot = await this.fs.mkdir(this.root, { recursive: true });
    } catch (error) {
      throw new WriteError(
        `Could not create the output directory '${this.root}' (${describeCause(error)}).`,
        'outputDirectory',
        'Nothing was changed. Check that the agent may create folders there (permissions, not read-only) and run again.',
        { cause: error },
      );
    }
    const staging = path.join(this.root, STAGING_PREFIX + this.stagingSuffix());
    const staged = (i: number): string => path.join(staging, 'new', String(i));
    const backup = (i: number): string => path.join(staging, 'old', String(i));

    let current: string | undefined;
    try {
      await this.fs.mkdir(staging);
      await writeJournal(this.fs, staging, journalOf('staging'), false);
      await this.fs.mkdir(path.join(staging, 'new'));
      await this.fs.mkdir(path.join(staging, 'old'));
      // Each file's text becomes bytes once: hashed for the journal and written from the same buffer.
      const hashes = new Array<string>(files.length);
      try {
        await eachBounded(
          files,
          FS_CONCURRENCY,
          async (file, i) => {
            const bytes = Buffer.from(file.content, 'utf8');
            hashes[i] = contentHash(bytes);
            await this.writeStaged(staged(i), file.path, bytes);
          },
          () => signal.aborted, // files being written finish; no new one starts
        );
      } catch (failure) {
        if (!(failure instanceof ItemFailure)) throw failure;
        current = files[failure.index]?.path;
        throw failure.error;
      }
      if (signal.aborted) throw new CancelledError();
      await syncDir(this.fs, path.join(staging, 'new'));
      await writeJournal(this.fs, staging, journalOf('moving', await this.movePlan(files, hashes)));
      if (signal.aborted) throw new CancelledError();
    } catch (error) {
      await this.discard(staging, createdRoot);
      if (error instanceof CancelledError) throw error;
      throw writeError('stage', current, error);
    }

    const journal: Step[] = [];
    const touched = new Set<string>();
    // Each file's folders and target are examined while the file before it is being renamed; an
    // examination older than a folder this move created is taken again.
    const made = { dirs: 0 };
    const examine = (i: number): Examination | undefined => {
      const file = files[i];
      return file && this.examine(file.path, made.dirs);
    };
    let next = examine(0);
    try {
      for (const [i, file] of files.entries()) {
        current = file.path;
        let seen = await next!.stats;
        if (next!.mkdirs !== made.dirs) seen = await examine(i)!.stats;
        next = examine(i + 1);
        const { dir, existing } = await this.ensureParents(file.path, seen, journal, made);
        touched.add(dir);
        const target = path.join(dir, path.posix.basename(file.path));
        if (existing) {
          if (!existing.isFile())
            throw new TreeChanged(`became a ${kindOf(existing)} after it was inspected`);
          // A replaced file keeps its permissions (an executable gradlew stays executable), but never
          // setuid, setgid or sticky: those bits must not land on content the model wrote.
          await this.fs.chmod(staged(i), existing.mode & 0o777);
          const original = await this.actualName(dir, path.posix.basename(file.path));
          await this.fs.rename(original, backup(i));
          journal.push({ kind: 'backup', original, backup: backup(i) });
        }
        await this.fs.rename(staged(i), target);
        journal.push({ kind: 'place', target });
      }
    } catch (error) {
      const unrestored = await this.rollback(journal);
      if (unrestored.length) {
        throw new WriteError(
          `Could not write ${showPath(current ?? '')} in the output directory (${describeCause(error)}), and ${unrestored.length} step(s) could not be undone: ${unrestored.join('; ')}.`,
          'outputDirectory',
          `The output directory may be partly written. Replaced files are kept in ${staging}${path.sep}old: the next run of the task puts them back from there (its journal says how), or restore them by hand.`,
          { cause: error },
        );
      }
      await this.discard(staging, createdRoot);
      throw writeError('write', current, error);
    }

    await eachBounded([...touched], FS_CONCURRENCY, (dir) => syncDir(this.fs, dir));
    // The commit point: from here on a leftover staging folder is a finished commit, not one to undo.
    try {
      await writeJournal(this.fs, staging, journalOf('done'));
    } catch {
      // Without the 'done' journal the next run would undo this commit: take the journal away instead.
      await this.fs.unlink(path.join(staging, JOURNAL)).catch(() => undefined);
    }
    // The files are in place; a leftover scratch folder is untidy but not a failed write.
    await removeStaging(this.fs, staging).catch(() => undefined);
  }

  /** Check the root once, and settle leftover staging folders, before anything reads or writes the tree. */
  private settle(): Promise<void> {
    this.settled ??= (async () => {
      await this.checkConfined();
      await recoverLeftovers({
        fs: this.fs,
        root: this.root,
        ...(this.options.log ? { log: this.options.log } : {}),
        ...(this.options.isAlive ? { isAlive: this.options.isAlive } : {}),
      });
    })();
    return this.settled;
  }

  /**
   * Refuse a root reached through a symlink inside the sources directory: lstat every folder from
   * there down to the root (the sources directory itself may be a symlink; a missing folder ends the
   * walk, as the commit creates it as a real folder).
   */
  private async checkConfined(): Promise<void> {
    const base = this.options.confinedTo ? path.resolve(this.options.confinedTo) : undefined;
    if (!base) return;
    const rel = path.relative(base, this.root);
    if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) return;
    let dir = base;
    for (const name of rel.split(path.sep)) {
      dir = path.join(dir, name);
      let stat: Stats | undefined;
      try {
        stat = await this.lstat(dir);
      } catch {
        return; // ENOTDIR and the like: inspect reports what is in the way
      }
      if (stat?.isSymbolicLink()) {
        throw new InputError(
          INPUTS.outputDirectory,
          `'${this.root}' is reached through the symlink '${dir}' inside the sources directory '${base}'.`,
          `Writing through it would put the files wherever the link points. Set '${INPUTS.outputDirectory}' to a real folder, or replace the symlink with a folder. Nothing was written.`,
        );
      }
      if (!stat?.isDirectory()) return;
    }
  }

  /**
   * The journal's view of the move about to start: for each file, whether it replaces an existing file
   * and the hash of its content (`hashes`, by index), and the folders the move creates (parents first).
   * Each folder is examined once; the files' targets a few at a time.
   */
  private async movePlan(
    files: readonly FileToWrite[],
    hashes: readonly string[],
  ): Promise<{ files: JournalFile[]; dirs: string[] }> {
    const folders = new Map<string, Promise<Stats | undefined>>();
    const folder = (rel: string): Promise<Stats | undefined> => {
      let stat = folders.get(rel);
      if (!stat) folders.set(rel, (stat = this.lstat(path.join(this.root, ...rel.split('/')))));
      return stat;
    };
    const looked = await mapBounded(files, FS_CONCURRENCY, async (file) => {
      const segments = file.path.split('/');
      const missing: string[] = [];
      let blocked = false;
      for (const j of segments.slice(0, -1).keys()) {
        const rel = segments.slice(0, j + 1).join('/');
        if (missing.length > 0) {
          missing.push(rel);
          continue;
        }
        const stat = await folder(rel);
        if (!stat) missing.push(rel);
        else if (!stat.isDirectory()) {
          blocked = true; // the move stops there (TreeChanged)
          break;
        }
      }
      const target =
        missing.length > 0 || blocked ? undefined : await this.lstat(path.join(this.root, ...segments));
      return { missing, replaces: target?.isFile() ?? false };
    });
    const dirs: string[] = [];
    for (const { missing } of looked) for (const rel of missing) if (!dirs.includes(rel)) dirs.push(rel);
    return {
      files: files.map((file, i) => ({
        path: file.path,
        sha256: hashes[i] ?? contentHash(file.content),
        replaces: looked[i]?.replaces ?? false,
      })),
      dirs,
    };
  }

  private async inspectOne(
    rel: string,
    content: string | undefined,
    listings: Map<string, Promise<string[]>>,
  ): Promise<PathState> {
    const segments = rel.split('/');
    let dir = this.root;
    for (const [i, name] of segments.entries()) {
      const so = segments.slice(0, i + 1).join('/');
      const abs = path.join(dir, name);
      const last = i === segments.length - 1;
      let stat: Stats | undefined;
      try {
        stat = await this.lstat(abs);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOTDIR')
          return { path: rel, kind: 'absent', blockedBy: segments.slice(0, i).join('/') || '.' };
        throw writeError('examine', so, error);
      }
      if (!stat || last) {
        const state: PathState = { path: rel, kind: stat ? kindOf(stat) : 'absent' };
        const twin = await this.findTwin(dir, name, listings);
        if (twin !== undefined) state.caseTwin = [...segments.slice(0, i), twin].join('/');
        if (stat?.isFile() && content !== undefined && stat.size === Buffer.byteLength(content)) {
          state.sameContent = (await this.fs.readFile(abs)).equals(Buffer.from(content));
        }
        return state;
      }
      if (!stat.isDirectory()) return { path: rel, kind: 'absent', blockedBy: so };
      dir = abs;
    }
    return { path: rel, kind: 'absent' };
  }

  /** An entry of `dir` whose name differs from `name` only in letter case or Unicode form. */
  private async findTwin(
    dir: string,
    name: string,
    listings: Map<string, Promise<string[]>>,
  ): Promise<string | undefined> {
    let listing = listings.get(dir);
    if (!listing) {
      listing = this.fs.readdir(dir).catch(() => [] as string[]);
      listings.set(dir, listing);
    }
    const key = foldName(name);
    return (await listing).find((entry) => entry !== name && foldName(entry) === key);
  }

  /** The path of `name` in `dir` as spelled on disk (differs on case-insensitive file systems). */
  private async actualName(dir: string, name: string): Promise<string> {
    const entries = await this.fs.readdir(dir);
    const key = foldName(name);
    return path.join(dir, entries.includes(name) ? name : (entries.find((e) => foldName(e) === key) ?? name));
  }

  private async writeStaged(file: string, rel: string, bytes: Buffer): Promise<void> {
    const mode = /(^|\/)bin\//.test(rel) || rel.endsWith('.sh') ? 0o755 : 0o644;
    const handle = await this.fs.open(file, 'wx', mode);
    try {
      await handle.writeFile(bytes);
      await handle.chmod(mode); // open's mode is filtered by the umask
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  /** lstat every folder on the way to `rel` and `rel` itself, together (never rejects). */
  private examine(rel: string, mkdirs: number): Examination {
    const segments = rel.split('/');
    const paths = segments.map((_, j) => path.join(this.root, ...segments.slice(0, j + 1)));
    return { mkdirs, stats: Promise.allSettled(paths.map((p) => this.lstat(p))) };
  }

  /**
   * Check (with `stats`, taken while the previous file was being renamed) that none of the existing
   * parent folders of `rel` is a symlink or a file, and create the missing ones one by one, recording
   * each (and counting them in `made`).
   * @returns the parent folder, and what is at the target (undefined when absent).
   */
  private async ensureParents(
    rel: string,
    stats: PromiseSettledResult<Stats | undefined>[],
    journal: Step[],
    made: { dirs: number },
  ): Promise<{ dir: string; existing: Stats | undefined }> {
    const segments = rel.split('/');
    const paths = segments.map((_, j) => path.join(this.root, ...segments.slice(0, j + 1)));
    const seen = (j: number): Stats | undefined => {
      const result = stats[j]!;
      if (result.status === 'rejected') throw result.reason;
      return result.value;
    };
    let created = false;
    for (const j of segments.slice(0, -1).keys()) {
      const dir = paths[j]!;
      const stat = created ? undefined : seen(j); // below a folder just created, nothing can be
      if (!stat) {
        await this.fs.mkdir(dir);
        journal.push({ kind: 'mkdir', dir });
        made.dirs += 1;
        created = true;
      } else if (!stat.isDirectory()) {
        throw new TreeChanged(
          `has a parent folder ${showPath(path.relative(this.root, dir))} that became a ${kindOf(stat)} after it was inspected`,
        );
      }
    }
    return {
      dir: paths.length > 1 ? paths[paths.length - 2]! : this.root,
      existing: created ? undefined : seen(paths.length - 1),
    };
  }

  /** Undo the journal in reverse; returns what could not be undone. */
  private async rollback(journal: readonly Step[]): Promise<string[]> {
    const failed: string[] = [];
    for (const step of [...journal].reverse()) {
      try {
        if (step.kind === 'place') await this.fs.unlink(step.target);
        else if (step.kind === 'backup') await this.fs.rename(step.backup, step.original);
        else await this.fs.rmdir(step.dir);
      } catch (error) {
        const where = step.kind === 'place' ? step.target : step.kind === 'backup' ? step.original : step.dir;
        failed.push(`${step.kind} ${showPath(path.relative(this.root, where))} (${describeCause(error)})`);
      }
    }
    return failed;
  }

  /** Remove the staging folder, and the root and its parents if this commit created them (only while empty). */
  private async discard(staging: string, createdRoot: string | undefined): Promise<void> {
    // Nothing to undo is left (or never was): the journal goes first, so a crash here leaves nothing to roll back.
    await this.fs.unlink(path.join(staging, JOURNAL)).catch(() => undefined);
    await removeStaging(this.fs, staging).catch(() => undefined);
    if (createdRoot === undefined) return;
    for (let dir = this.root; ; dir = path.dirname(dir)) {
      try {
        await this.fs.rmdir(dir);
      } catch {
        return;
      }
      if (dir === createdRoot || dir === path.dirname(dir)) return;
    }
  }

  private async lstat(abs: string): Promise<Stats | undefined> {
    try {
      return await this.fs.lstat(abs);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }
}

function kindOf(stat: Stats): PathState['kind'] {
  if (stat.isSymbolicLink()) return 'symlink';
  if (stat.isDirectory()) return 'directory';
  return stat.isFile() ? 'file' : 'other';
}

function describeCause(error: unknown): string {
  if (error instanceof TreeChanged) return error.message;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code ?? (error instanceof Error ? error.message : String(error));
}

/** `rel` undefined: the failure was the staging folder's or the journal's, not a file's. */
function writeError(action: string, rel: string | undefined, error: unknown): WriteError {
  const what = rel === undefined ? 'the staging folder' : showPath(rel);
  return new WriteError(
    `Could not ${action === 'stage' && rel === undefined ? 'prepare' : action} ${what} in the output directory (${describeCause(error)}).`,
    'outputDirectory',
    'Nothing was changed: the output directory is as it was. Check that the agent can write there (permissions, free space, not read-only) and run again.',
    { cause: error },
  );
}
