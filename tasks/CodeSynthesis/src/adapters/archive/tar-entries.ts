/**
 * Tar archives, plain or inside gzip, through tar-stream: one pass, each header checked before its data
 * is read. A tar header's size is the framing of the stream, so a file cannot hold more than it
 * declares; what gzip can hide is the stream itself (padding, long headers, a tar of zeros), so every
 * byte gzip unpacks is counted as it leaves zlib, against the largest tar the limits allow and the
 * compression ratio, and reading stops the moment either is passed.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract, type Extract, type Header } from 'tar-stream';
import { CancelledError } from '../../core/errors';
import type { EntryHead, Unpacking } from './unpacking';

/** Compressed bytes handed to zlib at a time: the ratio is checked at this grain. */
const SLICE = 16 * 1024;

/**
 * Read a tar (gzipped or not) held in memory into `unpacking`.
 * @throws ArchiveError (through `unpacking`) at the first limit passed; CancelledError when `signal`
 *   aborts; tar-stream's or zlib's Error when the archive is malformed (the caller reports it as damaged).
 *   Refused entries are left in `unpacking` for its `finish`.
 */
export async function readTar(
  bytes: Buffer,
  gzipped: boolean,
  unpacking: Unpacking,
  signal: AbortSignal,
): Promise<void> {
  const extract = tarExtract();
  const feeding = feed(bytes, gzipped, extract, unpacking, signal);
  // A failure of the feed destroys `extract` with its error, which ends the loop below; it is awaited after.
  feeding.catch(() => undefined);
  try {
    for await (const entry of extract) {
      if (signal.aborted) throw new CancelledError();
      const head = tarHead(entry.header);
      if (!unpacking.admit(head)) {
        entry.resume();
        continue;
      }
      const chunks: Buffer[] = [];
      for await (const chunk of entry as AsyncIterable<Buffer>) chunks.push(chunk);
      unpacking.take(head, Buffer.concat(chunks));
    }
  } finally {
    // Finished: nothing happens. Thrown out of the loop: the feed stops at its next chunk.
    extract.destroy();
  }
  await feeding;
}

/** Write the tar stream into `extract`, counting what gzip unpacks. */
async function feed(
  bytes: Buffer,
  gzipped: boolean,
  extract: Extract,
  unpacking: Unpacking,
  signal: AbortSignal,
): Promise<void> {
  let packed = 0;
  function* slices(): Generator<Buffer> {
    for (let at = 0; at < bytes.length; at += SLICE) {
      const slice = bytes.subarray(at, at + SLICE);
      packed += slice.length;
      yield slice;
    }
  }
  const source = Readable.from(slices(), { objectMode: false, highWaterMark: SLICE });
  let tar: AsyncIterable<Buffer> = source;
  if (gzipped) {
    const gunzip = createGunzip();
    // Ends early (premature close) when the loop below stops reading; its errors surface there too.
    pipeline(source, gunzip).catch(() => undefined);
    tar = gunzip;
  }
  try {
    let unpacked = 0;
    for await (const chunk of tar) {
      if (signal.aborted) throw new CancelledError();
      unpacked += chunk.length;
      if (gzipped) unpacking.checkStream(unpacked, packed);
      if (!extract.write(chunk)) await drained(extract);
    }
    extract.end(null); // streamx types want an argument; null adds no data
  } catch (error) {
    extract.destroy(error as Error);
    throw error;
  }
}

/** Resolves when `extract` wants more; rejects when it is destroyed (the reader stopped). */
function drained(extract: Extract): Promise<void> {
  return new Promise((resolve, reject) => {
    if (extract.destroying) return reject(new Error('the tar reader stopped'));
    const off = (): void => {
      extract.off('drain', done);
      extract.off('close', closed);
    };
    const done = (): void => {
      off();
      resolve();
    };
    const closed = (): void => {
      off();
      reject(new Error('the tar reader stopped'));
    };
    extract.on('drain', done);
    extract.on('close', closed);
  });
}

/** What a tar header says about an entry (type flags 0-7; tar-stream applies pax and GNU long names). */
function tarHead(header: Header): EntryHead {
  const at = { name: header.name, declaredBytes: header.size };
  const target = header.linkname ? { detail: header.linkname } : {};
  // tar-stream reports a type flag it does not know (sparse 'S', volume label 'V', ...) as null.
  switch (header.type as Header['type'] | null) {
    case 'file':
    case 'contiguous-file':
      return { ...at, kind: 'file' };
    case 'directory':
      return { ...at, kind: 'directory' };
    case 'symlink':
      return { ...at, kind: 'symlink', ...target };
    case 'link':
      return { ...at, kind: 'hardlink', ...target };
    case 'character-device':
    case 'block-device':
      return { ...at, kind: 'device' };
    case 'fifo':
      return { ...at, kind: 'fifo' };
    default:
      return { ...at, kind: 'other', detail: 'a tar entry type that is not unpacked' };
  }
}
