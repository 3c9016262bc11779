/**
 * Reads an archive (zip, tar or tar.gz, told apart by its first bytes) into files, as a model reply
 * would propose them, refusing anything an extractor could be tricked with. The file is read into
 * memory once (it may be no larger than the limits allow), so the SHA-256 recorded is of exactly the
 * bytes unpacked. Binary files are refused: the flow writes text, and bytes that are not UTF-8 cannot
 * be written back as they were. Valid UTF-8 with control characters is kept; the scan reports it.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { INPUTS } from '../../core/contract';
import { ArchiveError, CancelledError, InputError } from '../../core/errors';
import { showPath } from '../../core/paths';
import type { FileToWrite } from '../../core/ports';
import { readTar } from './tar-entries';
import { DAMAGED_HINT, maxArchiveBytes, Unpacking, type ArchiveLimits } from './unpacking';
import { readZip } from './zip-entries';

export { maxArchiveBytes, RATIO_FLOOR_BYTES, type ArchiveLimits } from './unpacking';

/** Unpacked bytes per compressed byte allowed by default. Source code compresses 3-10:1; zeros 1000:1. */
export const DEFAULT_MAX_RATIO = 100;

export type ArchiveFormat = 'zip' | 'tar' | 'tar.gz';

export interface UnpackedArchive {
  format: ArchiveFormat;
  /** SHA-256 of the archive file's bytes, lower-case hex. */
  sha256: string;
  /** Size of the archive file. */
  bytes: number;
  /**
   * Every regular file, in the archive's order, named as stored (not yet through checkPaths), with its
   * content decoded from UTF-8 (a byte order mark is kept).
   */
  files: FileToWrite[];
}

/**
 * Read every file of an archive, checking each entry while streaming.
 *
 * Refused, each problem listed in one ArchiveError with the entry's name escaped and cut (showPath):
 * names that climb out ('../x', 'a/../../x') or contain '..', absolute names ('/etc/x', 'C:\x',
 * '\\server\x'), symbolic and hard links (zip: Unix type S_IFLNK or a Windows reparse point; tar:
 * types 1 and 2), devices and FIFOs (tar types 3, 4, 6; zip Unix types), sockets, unknown kinds,
 * encrypted zip entries and compression other than stored/deflate, duplicate names (also by letter
 * case or Unicode form), files that are not UTF-8, and damaged entries (CRC-32, truncation).
 * Stopped at once, before or while inflating, never after: more than `maxFiles` files (or twice that
 * plus 64 entries), a file or all files declaring more than the byte limits, a zip entry inflating
 * past its declared size, a gzip stream unpacking past the largest tar the limits allow or past
 * `maxRatio` once 1 MiB is unpacked, and an archive file larger than maxArchiveBytes(limits).
 * @throws InputError when the file cannot be read or is not a file.
 * @throws ArchiveError as above, or when the format is not recognised or the archive is damaged.
 * @throws CancelledError when `signal` aborts.
 */
export async function readArchive(
  file: string,
  limits: ArchiveLimits,
  signal: AbortSignal,
): Promise<UnpackedArchive> {
  if (signal.aborted) throw new CancelledError();
  const shown = showPath(file);
  const bytes = await readBounded(file, shown, maxArchiveBytes(limits), signal);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const format = sniff(bytes);
  if (!format) {
    const start = [...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new ArchiveError(
      shown,
      [`is not a zip, tar or tar.gz archive (it starts with ${start || 'nothing: it is empty'})`],
      DAMAGED_HINT,
    );
  }
  const unpacking = new Unpacking(limits, shown);
  try {
    if (format === 'zip') await readZip(bytes, unpacking, signal);
    else await readTar(bytes, format === 'tar.gz', unpacking, signal);
  } catch (error) {
    if (error instanceof ArchiveError || error instanceof CancelledError) throw error;
    throw unpacking.damaged(format, error);
  }
  return { format, sha256, bytes: bytes.length, files: unpacking.finish() };
}

/** The format by magic bytes: zip local header (or the end record of an empty zip), gzip, ustar. */
export function sniff(bytes: Uint8Array): ArchiveFormat | undefined {
  const at = (offset: number, ...expected: number[]): boolean =>
    expected.every((b, i) => bytes[offset + i] === b);
  if (at(0, 0x50, 0x4b, 0x03, 0x04) || at(0, 0x50, 0x4b, 0x05, 0x06)) return 'zip';
  if (at(0, 0x1f, 0x8b)) return 'tar.gz';
  // 'ustar' at 257: POSIX ustar and pax ("ustar\0") and GNU tar ("ustar  ").
  if (at(257, 0x75, 0x73, 0x74, 0x61, 0x72)) return 'tar';
  return undefined;
}

async function readBounded(file: string, shown: string, cap: number, signal: AbortSignal): Promise<Buffer> {
  const tooBig = (size: number): ArchiveError =>
    new ArchiveError(
      shown,
      [
        `the file is ${size} bytes; files within maxFiles and maxTotalSizeKB fit in an archive of ${cap} bytes`,
      ],
      'Nothing was read. If the archive is genuine, raise maxFiles or maxTotalSizeKB.',
    );
  let bytes: Buffer;
  try {
    const stat = await fs.stat(file);
    if (!stat.isFile())
      throw new InputError(
        INPUTS.archiveFile,
        `${shown} is not a file.`,
        `Point '${INPUTS.archiveFile}' at a zip, tar or tar.gz file.`,
      );
    if (stat.size > cap) throw tooBig(stat.size);
    bytes = await fs.readFile(file, { signal });
  } catch (error) {
    if (error instanceof InputError || error instanceof ArchiveError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ABORT_ERR' || signal.aborted) throw new CancelledError();
    throw new InputError(
      INPUTS.archiveFile,
      `cannot read ${shown} (${code === 'ENOENT' ? 'no such file' : (code ?? String(error))}).`,
      `Check the path in '${INPUTS.archiveFile}'; relative paths are resolved from the working directory.`,
    );
  }
  // It may have grown since the stat.
  if (bytes.length > cap) throw tooBig(bytes.length);
  return bytes;
}
