/**
 * The rules every archive entry passes, whatever the format, before its data is read: a name that stays
 * inside the output directory, a regular file (no link, device, FIFO or socket), no second entry of the
 * same name (also by letter case or Unicode form), and room within the limits; then the data must be
 * UTF-8 text. Problems with entries are gathered and reported together; a limit stops the reading at once.
 */
import { INPUTS } from '../../core/contract';
import { ArchiveError } from '../../core/errors';
import { foldName, showPath } from '../../core/paths';
import type { FileToWrite } from '../../core/ports';

/** The limits of one unpacking (from the task's settings). */
export interface ArchiveLimits {
  /** Regular files at most (input maxFiles). */
  maxFiles: number;
  /** Unpacked bytes of all files together (input maxTotalSizeKB * 1024). */
  maxTotalBytes: number;
  /**
   * Unpacked bytes per compressed byte, over the whole archive; checked once more than
   * RATIO_FLOOR_BYTES are unpacked, so a small, very compressible file does not trip it.
   */
  maxRatio: number;
  /** Unpacked bytes of one file; default maxTotalBytes. */
  maxEntryBytes?: number;
}

/** Unpacked bytes below which the compression ratio is not checked. */
export const RATIO_FLOOR_BYTES = 1024 * 1024;

/**
 * Entries of any kind (folders too) at most: a tree of N files rarely has N folder entries, so twice
 * maxFiles plus a margin. Bounds the work of reading the headers of a flood of empty entries.
 */
export function maxEntries(limits: ArchiveLimits): number {
  return 2 * limits.maxFiles + 64;
}

/**
 * The largest archive file, and the largest tar stream inside a gzip file, these limits allow: the
 * files' bytes plus 4 KiB of headers, padding and long names per entry, plus 64 KiB (a zip comment, the
 * tar end-of-archive record). Files are stored as is at worst, so a genuine archive never needs more.
 */
export function maxArchiveBytes(limits: ArchiveLimits): number {
  return limits.maxTotalBytes + maxEntries(limits) * 4096 + 64 * 1024;
}

export type EntryKind =
  'file' | 'directory' | 'symlink' | 'hardlink' | 'device' | 'fifo' | 'socket' | 'other';

/** An entry as its header describes it, before any of its data is read. */
export interface EntryHead {
  /** The name as stored, decoded. */
  name: string;
  kind: EntryKind;
  /** A link's target (untrusted, shown escaped); for kind 'other', what it is, in our words. */
  detail?: string;
  /** The unpacked size the header declares. */
  declaredBytes: number;
}

const ENTRY_HINT =
  "Nothing was written. Rebuild the archive from regular UTF-8 text files under relative paths: no links, devices, '..' or absolute names, no two names that differ only in letter case.";
const LIMIT_HINT =
  'Nothing was written, and reading stopped at the limit. If the archive is genuine, raise maxFiles or maxTotalSizeKB; a decompression bomb or a damaged archive is never unpacked.';
export const DAMAGED_HINT = `Nothing was written. Point '${INPUTS.archiveFile}' at a zip, tar or tar.gz file (told apart by its content, not its extension) and check the step that made it.`;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** One unpacking: the entries admitted so far, the problems found, the files read. */
export class Unpacking {
  private readonly problems: string[] = [];
  private readonly files: FileToWrite[] = [];
  /** Folded, normalised file name -> the name as first spelled. */
  private readonly seen = new Map<string, string>();
  private entries = 0;
  private fileCount = 0;
  private declaredTotal = 0;
  private readonly maxEntryBytes: number;

  /** `shownFile` is the archive's path, escaped (showPath), for messages. */
  constructor(
    readonly limits: ArchiveLimits,
    private readonly shownFile: string,
  ) {
    this.maxEntryBytes = Math.min(limits.maxEntryBytes ?? limits.maxTotalBytes, limits.maxTotalBytes);
  }

  /**
   * Decide whether to read an entry's data: true for a regular file that passes every rule. A refused
   * entry is recorded as a problem (reported by `finish`); folders are checked, then skipped.
   * @throws ArchiveError at once when the entries, the files or their declared sizes pass a limit.
   */
  admit(head: EntryHead): boolean {
    this.entries++;
    if (this.entries > maxEntries(this.limits))
      this.stop(
        `the archive has more than ${maxEntries(this.limits)} entries, folders included (twice maxFiles ${this.limits.maxFiles}, plus 64)`,
      );
    const reasons = [...nameProblems(head.name), ...kindProblems(head)];
    if (reasons.length === 0 && head.kind === 'file') {
      const key = foldName(normalName(head.name));
      const earlier = this.seen.get(key);
      if (earlier === undefined) this.seen.set(key, head.name);
      else if (normalName(earlier) === normalName(head.name))
        reasons.push('appears more than once in the archive');
      else reasons.push(`differs only in letter case or Unicode form from ${showPath(earlier)}`);
    }
    if (reasons.length) {
      this.problems.push(`${showPath(head.name)}: ${reasons.join('; ')}`);
      return false;
    }
    if (head.kind !== 'file') return false;

    this.fileCount++;
    if (this.fileCount > this.limits.maxFiles)
      this.stop(`the archive holds more than maxFiles (${this.limits.maxFiles}) files`);
    if (head.declaredBytes > this.maxEntryBytes)
      this.stop(
        `${showPath(head.name)}: its header declares ${head.declaredBytes} bytes; one file may have ${this.maxEntryBytes}${this.maxEntryBytes === this.limits.maxTotalBytes ? ' (maxTotalSizeKB)' : ''}`,
      );
    this.declaredTotal += head.declaredBytes;
    if (this.declaredTotal > this.limits.maxTotalBytes)
      this.stop(
        `the files declare more than maxTotalSizeKB allows (${this.limits.maxTotalBytes} bytes) by ${showPath(head.name)}`,
      );
    return true;
  }

  /**
   * Check the compression ratio: `unpacked` bytes came from `packed` compressed bytes.
   * @throws ArchiveError when it passes maxRatio once more than RATIO_FLOOR_BYTES are unpacked.
   */
  checkRatio(unpacked: number, packed: number, what: string): void {
    if (unpacked > RATIO_FLOOR_BYTES && unpacked > this.limits.maxRatio * packed)
      this.stop(
        `${what} ${unpacked} bytes from ${packed} compressed bytes, more than ${this.limits.maxRatio}:1: a decompression bomb`,
      );
  }

  /**
   * Check a stream of unpacked archive data (a tar inside gzip) as it flows.
   * @throws ArchiveError when it passes maxArchiveBytes or maxRatio.
   */
  checkStream(unpacked: number, packed: number): void {
    const cap = maxArchiveBytes(this.limits);
    if (unpacked > cap)
      this.stop(
        `the compressed tar unpacks to more than ${cap} bytes, more than files within maxTotalSizeKB and maxFiles need: a decompression bomb`,
      );
    this.checkRatio(unpacked, packed, 'the compressed tar unpacks to');
  }

  /** @throws ArchiveError: an entry unpacked to more bytes than its header declared (checked while inflating). */
  overrun(head: EntryHead, unpacked: number): never {
    return this.stop(
      `${showPath(head.name)}: unpacks to more than the ${head.declaredBytes} bytes its header declares (stopped after ${unpacked}): a decompression bomb or a damaged archive`,
    );
  }

  /** Record a problem found while reading an entry's data (damage); reading goes on. */
  refuse(head: EntryHead, reason: string): void {
    this.problems.push(`${showPath(head.name)}: ${reason}`);
  }

  /** Keep an admitted entry's data as a file when it is UTF-8 text; otherwise record the problem. */
  take(head: EntryHead, data: Uint8Array): void {
    let content: string;
    try {
      content = utf8.decode(data);
    } catch {
      this.refuse(head, 'is not UTF-8 text; binary files are not unpacked');
      return;
    }
    this.files.push({ path: head.name, content });
  }

  /** The archive (or its format library) failed: damaged or not what its first bytes said. */
  damaged(format: string, error: unknown): ArchiveError {
    const reason = error instanceof Error ? error.message : String(error);
    return new ArchiveError(
      this.shownFile,
      [...this.problems, `the archive is damaged or not a valid ${format} archive: ${showPath(reason)}`],
      DAMAGED_HINT,
    );
  }

  /** @throws ArchiveError listing every problem so far, when there is one. */
  throwIfRefused(): void {
    if (this.problems.length) throw new ArchiveError(this.shownFile, this.problems, ENTRY_HINT);
  }

  /**
   * The files read, in the archive's order, with their names as stored (checkPaths normalises them).
   * @throws ArchiveError listing every problem, or when the archive holds no file.
   */
  finish(): FileToWrite[] {
    this.throwIfRefused();
    if (this.files.length === 0)
      throw new ArchiveError(this.shownFile, ['the archive holds no files'], ENTRY_HINT);
    return this.files;
  }

  private stop(problem: string): never {
    throw new ArchiveError(this.shownFile, [...this.problems, problem], LIMIT_HINT);
  }
}

/** A name's slashes and '.' segments made uniform, to compare names: 'a\\./b' -> 'a/b'. */
function normalName(name: string): string {
  return name
    .replace(/\\/g, '/')
    .split('/')
    .filter((s) => s !== '' && s !== '.')
    .join('/');
}

/**
 * The entry-level name rules: decodable, relative, and never above the output directory. The finer
 * rules (Windows names, hidden characters, denied paths) are checkPaths', applied to the files later.
 */
function nameProblems(name: string): string[] {
  const reasons: string[] = [];
  if (name.includes('\uFFFD')) reasons.push('its name is not valid UTF-8');
  const slashed = name.replace(/\\/g, '/');
  if (normalName(slashed) === '') return [...reasons, 'has no name'];
  if (slashed.startsWith('//')) reasons.push('is a UNC or network path; entries must be relative');
  else if (slashed.startsWith('/')) reasons.push('is an absolute path; entries must be relative');
  if (/^[a-z]:/i.test(slashed)) reasons.push('has a drive letter; entries must be relative');
  let depth = 0;
  let escapes = false;
  let parent = false;
  for (const segment of slashed.split('/')) {
    if (segment === '..') {
      parent = true;
      if (--depth < 0) escapes = true;
    } else if (segment !== '' && segment !== '.') depth++;
  }
  if (escapes) reasons.push("climbs out of the output directory with '..' (zip-slip)");
  else if (parent) reasons.push("contains a '..' segment");
  return reasons;
}

function kindProblems(head: EntryHead): string[] {
  const target = head.detail !== undefined ? ` to ${showPath(head.detail)}` : '';
  switch (head.kind) {
    case 'file':
    case 'directory':
      return [];
    case 'symlink':
      return [`is a symbolic link${target}; links are never unpacked`];
    case 'hardlink':
      return [`is a hard link${target}; links are never unpacked`];
    case 'device':
      return ['is a device file'];
    case 'fifo':
      return ['is a FIFO (named pipe)'];
    case 'socket':
      return ['is a socket'];
    case 'other':
      return [`is not a regular file (${head.detail ?? 'unknown kind'})`];
  }
}
