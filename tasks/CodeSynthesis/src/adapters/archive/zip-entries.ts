/**
 * Zip archives through yauzl, which reads the central directory (the list the extractors trust) rather
 * than scanning for local headers. Two passes: every entry's header is checked before anything is
 * inflated, so a hostile archive costs no decompression; then each file is inflated with its bytes
 * counted against the size its header declares, and reading stops the moment it passes it.
 */
import type { Readable } from 'node:stream';
import { crc32, InflateRaw } from 'node:zlib';
import { getFileNameLowLevel, fromBufferPromise, type Entry } from 'yauzl';
import { ArchiveError, CancelledError } from '../../core/errors';
import { showPath } from '../../core/paths';
import type { EntryHead, EntryKind, Unpacking } from './unpacking';

const S_IFMT = 0o170000;
/** Unix file types in the high 16 bits of the external attributes (Info-ZIP and most Unix tools set them). */
const UNIX_KINDS: Readonly<Record<number, EntryKind>> = {
  0o100000: 'file',
  0o040000: 'directory',
  0o120000: 'symlink',
  0o020000: 'device',
  0o060000: 'device',
  0o010000: 'fifo',
  0o140000: 'socket',
};
/** MS-DOS attribute: a folder. */
const DOS_DIRECTORY = 0x10;
/** Windows attribute: a reparse point (symbolic link or junction). */
const REPARSE_POINT = 0x400;
const STORED = 0;
const DEFLATED = 8;

/**
 * Read a zip held in memory into `unpacking`.
 * @throws ArchiveError (through `unpacking`) at the first limit passed, or listing every refused entry
 *   before anything is inflated; CancelledError when `signal` aborts; yauzl's Error when the archive
 *   itself is malformed (the caller reports it as damaged).
 */
export async function readZip(bytes: Buffer, unpacking: Unpacking, signal: AbortSignal): Promise<void> {
  // decodeStrings: false, so yauzl leaves the names to us (its own check would stop at the first bad
  // name, and we report them all); validateEntrySizes: false, because we count every inflated byte
  // against the declared size ourselves, so the refusal names the entry.
  const zip = await fromBufferPromise(bytes, { decodeStrings: false, validateEntrySizes: false });
  try {
    const admitted: { head: EntryHead; entry: Entry }[] = [];
    let declared = 0;
    let packed = 0;
    for await (const entry of zip.eachEntry()) {
      if (signal.aborted) throw new CancelledError();
      const head = zipHead(entry);
      if (!unpacking.admit(head)) continue;
      admitted.push({ head, entry });
      declared += head.declaredBytes;
      packed += entry.compressedSize;
    }
    // The headers are all read: refuse a hostile archive before inflating a byte of it. Since no file
    // may inflate past its declared size (below), the declared ratio bounds the real one.
    unpacking.throwIfRefused();
    unpacking.checkRatio(declared, packed, 'the headers declare');

    for (const { head, entry } of admitted) {
      if (signal.aborted) throw new CancelledError();
      const data = await inflate(zip.openReadStreamPromise(entry), head, unpacking, signal);
      if (data === undefined) continue;
      if (crc32(data) !== entry.crc32) unpacking.refuse(head, 'is damaged (its CRC-32 does not match)');
      else unpacking.take(head, data);
    }
  } finally {
    zip.close();
  }
}

/** An entry's data, counted as it inflates; undefined (with the problem recorded) when it is damaged. */
async function inflate(
  opening: Promise<Readable>,
  head: EntryHead,
  unpacking: Unpacking,
  signal: AbortSignal,
): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let unpacked = 0;
  let stream: Readable | undefined;
  try {
    stream = await opening;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      unpacked += chunk.length;
      // Throwing out of the loop destroys the stream: nothing more is inflated.
      if (unpacked > head.declaredBytes) unpacking.overrun(head, unpacked);
      if (signal.aborted) throw new CancelledError();
      chunks.push(chunk);
    }
  } catch (error) {
    if (isOurs(error)) throw error;
    unpacking.refuse(
      head,
      `is damaged (${showPath(error instanceof Error ? error.message : String(error))})`,
    );
    return undefined;
  } finally {
    // yauzl replaces the inflater's _destroy and so never frees its zlib handle (yauzl issue #27).
    if (stream instanceof InflateRaw) stream.close();
  }
  if (unpacked !== head.declaredBytes) {
    unpacking.refuse(head, `is damaged (${unpacked} bytes where its header declares ${head.declaredBytes})`);
    return undefined;
  }
  return Buffer.concat(chunks, unpacked);
}

/** What the central directory says about an entry. */
function zipHead(entry: Entry): EntryHead {
  // strictFileNames: true keeps '\' as written, so `C:\x` and `\\server\x` are seen for what they are.
  const name = getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, true);
  const head = (kind: EntryKind, detail?: string): EntryHead => ({
    name,
    kind,
    declaredBytes: entry.uncompressedSize,
    ...(detail !== undefined ? { detail } : {}),
  });
  const attributes = entry.externalFileAttributes;
  const unixType = (attributes >>> 16) & S_IFMT;
  const unixKind = unixType ? UNIX_KINDS[unixType] : undefined;
  if (unixType && !unixKind) return head('other', `Unix file type 0o${unixType.toString(8)}`);
  if (unixKind && unixKind !== 'file' && unixKind !== 'directory') return head(unixKind);
  if (attributes & REPARSE_POINT) return head('symlink');
  if (/[\\/]$/.test(name) || unixKind === 'directory' || (!unixKind && attributes & DOS_DIRECTORY))
    return head('directory');
  if (entry.isEncrypted()) return head('other', 'encrypted');
  if (entry.compressionMethod !== STORED && entry.compressionMethod !== DEFLATED)
    return head('other', `compression method ${entry.compressionMethod}; only stored and deflate are read`);
  return head('file');
}

function isOurs(error: unknown): boolean {
  return error instanceof ArchiveError || error instanceof CancelledError;
}
