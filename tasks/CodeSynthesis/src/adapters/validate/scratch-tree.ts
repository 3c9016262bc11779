/**
 * The scratch copy the validation command runs in: the output directory copied outside itself (into
 * the agent's temp folder), with the generated files written over it, removed afterwards. The output
 * directory is only read.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import * as fsp from 'node:fs/promises';
import path from 'node:path';
import { STAGING_PREFIX } from '../fs/tree-store';
import type { FileToWrite } from '../../core/ports';

/** Prefix of the scratch folders in the temp folder. */
export const SCRATCH_PREFIX = 'code-synthesis-validate-';

/**
 * Top-level entries of the output directory not copied: `.git` (a repository's history can be large,
 * and a command that runs generated code has no business with it; a command that needs git sees a
 * plain folder) and the tree store's staging folders.
 */
export function isSkipped(name: string): boolean {
  return name === '.git' || name.startsWith(STAGING_PREFIX);
}

export interface ScratchTree {
  /** The folder holding the copy. */
  readonly dir: string;
  /** Remove it, making read-only folders writable first (Go's module cache, `chmod -w` in tests). */
  remove(): Promise<void>;
}

/**
 * Copy `source` into a new folder under `tempDirectory` and write `files` over the copy.
 *
 * Regular files keep their mode and times (copy-on-write where the file system allows it); special
 * files (sockets, pipes, devices) are left out. A symlink is copied as a link: one that points into
 * `source` points to the same place in the copy instead, so that writing through it cannot reach the
 * output directory; one that points outside it points to the same absolute target as before.
 * A missing `source` gives an empty copy (the first run of a new output directory).
 * Generated files are written with the tree store's modes (0755 under bin/ or for *.sh, else 0644),
 * replacing a file or symlink at their path. `files` must hold checked paths (checkPaths).
 * @throws the file system's error; the partial copy is removed first.
 */
export async function makeScratchTree(
  source: string,
  tempDirectory: string,
  files: readonly FileToWrite[],
): Promise<ScratchTree> {
  const dir = path.join(tempDirectory, SCRATCH_PREFIX + randomBytes(6).toString('hex'));
  await fsp.mkdir(tempDirectory, { recursive: true });
  // Private: other users of the agent machine have no business reading the generated code.
  await fsp.mkdir(dir, { mode: 0o700 });
  const tree: ScratchTree = { dir, remove: () => removeTree(dir) };
  try {
    if (await exists(source)) await copyDir(source, dir, { source, copy: dir }, true);
    for (const file of files) {
      const target = path.join(dir, ...file.path.split('/'));
      if (!target.startsWith(dir + path.sep)) throw new Error(`${file.path} is outside the scratch copy`);
      await fsp.mkdir(path.dirname(target), { recursive: true });
      await fsp.rm(target, { force: true });
      const mode = /(^|\/)bin\//.test(file.path) || file.path.endsWith('.sh') ? 0o755 : 0o644;
      await fsp.writeFile(target, file.content, { encoding: 'utf8', mode });
      await fsp.chmod(target, mode);
    }
  } catch (error) {
    await tree.remove().catch(() => undefined);
    throw error;
  }
  return tree;
}

interface Roots {
  source: string;
  copy: string;
}

async function copyDir(from: string, to: string, roots: Roots, top: boolean): Promise<void> {
  for (const entry of await fsp.readdir(from, { withFileTypes: true })) {
    if (top && isSkipped(entry.name)) continue;
    const src = path.join(from, entry.name);
    const dest = path.join(to, entry.name);
    if (entry.isDirectory()) {
      const stat = await fsp.stat(src);
      await fsp.mkdir(dest, { mode: 0o700 });
      await copyDir(src, dest, roots, false);
      await fsp.chmod(dest, stat.mode & 0o7777);
      await fsp.utimes(dest, stat.atime, stat.mtime);
    } else if (entry.isFile()) {
      await fsp.copyFile(src, dest, constants.COPYFILE_FICLONE);
      const stat = await fsp.stat(src);
      await fsp.chmod(dest, stat.mode & 0o7777);
      await fsp.utimes(dest, stat.atime, stat.mtime);
    } else if (entry.isSymbolicLink()) {
      const pointsToDir = (await fsp.stat(src).catch(() => undefined))?.isDirectory();
      // The type matters on Windows only (a directory link needs 'dir'); elsewhere it is ignored.
      await fsp.symlink(
        relink(await fsp.readlink(src), src, dest, roots),
        dest,
        pointsToDir ? 'dir' : 'file',
      );
    }
  }
}

/** The target for the copy of a link: into the copy when it pointed into the source, else absolute. */
function relink(target: string, link: string, copyOfLink: string, roots: Roots): string {
  const absolute = path.resolve(path.dirname(link), target);
  const inside = path.relative(roots.source, absolute);
  if (inside === '' || (!inside.startsWith('..') && !path.isAbsolute(inside))) {
    return path.relative(path.dirname(copyOfLink), path.join(roots.copy, inside)) || '.';
  }
  return absolute;
}

async function exists(dir: string): Promise<boolean> {
  try {
    return (await fsp.stat(dir)).isDirectory();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** rm -rf, and on EACCES/EPERM make every folder writable and try once more. */
async function removeTree(dir: string): Promise<void> {
  try {
    await fsp.rm(dir, { recursive: true, force: true, maxRetries: 2 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM') throw error;
    await makeWritable(dir);
    await fsp.rm(dir, { recursive: true, force: true, maxRetries: 2 });
  }
}

async function makeWritable(dir: string): Promise<void> {
  await fsp.chmod(dir, 0o700).catch(() => undefined);
  const entries = await fsp.readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) if (entry.isDirectory()) await makeWritable(path.join(dir, entry.name));
}
