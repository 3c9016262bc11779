/**
 * Archives built in the tests, hostile ones included: a zip writer that writes whatever it is told
 * (names with '..', links, sizes that lie), ustar headers by hand (any type flag, any declared size),
 * tar-stream's packer for ordinary tars, and deflate streams of zeros that unpack to gigabytes from a
 * few hundred kilobytes without the test ever holding the unpacked bytes.
 */
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { pack, type Header } from 'tar-stream';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

export interface ZipEntrySpec {
  /** The stored name: text (UTF-8), or raw bytes. */
  name: string | Buffer;
  /** The content (default empty). */
  data?: string | Buffer;
  /** 'deflate' (default) or 'store'. */
  method?: 'deflate' | 'store';
  /** The bytes stored, in place of `data` compressed (a bomb); give `declaredSize` and `crc` with it. */
  stored?: Buffer;
  /** The compression method number in the headers, in place of `method`'s (e.g. 12, bzip2). */
  methodNumber?: number;
  /** The unpacked size both headers declare (default the real one). */
  declaredSize?: number;
  /** The CRC-32 both headers declare (default the real one). */
  crc?: number;
  /** Unix mode (file type and permissions), stored in the high 16 bits of the external attributes. */
  unixMode?: number;
  /** The low 16 bits of the external attributes (MS-DOS / Windows attributes). */
  dosAttributes?: number;
  /** General purpose flags (default 0x800: the name is UTF-8). */
  flags?: number;
}

/** A zip file of the entries, in order: local headers and data, central directory, end record. */
export function zip(entries: readonly ZipEntrySpec[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = typeof e.name === 'string' ? Buffer.from(e.name, 'utf8') : e.name;
    const data = typeof e.data === 'string' ? Buffer.from(e.data, 'utf8') : (e.data ?? Buffer.alloc(0));
    const method = e.methodNumber ?? (e.method === 'store' ? 0 : 8);
    const stored = e.stored ?? (e.method === 'store' ? data : zlib.deflateRawSync(data));
    const crc = e.crc ?? zlib.crc32(data);
    const size = e.declaredSize ?? data.length;
    const flags = e.flags ?? 0x800;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(0x6000, 10); // 12:00
    local.writeUInt16LE(0x5b21, 12); // 2025-09-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(stored.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, name, stored);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, zip 2.0
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(0x6000, 12);
    central.writeUInt16LE(0x5b21, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(stored.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((e.unixMode ?? 0) * 0x10000 + (e.dosAttributes ?? 0), 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += local.length + name.length + stored.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** One tar entry for tar-stream's packer. */
export interface TarEntrySpec {
  header: Partial<Header> & { name: string };
  data?: string | Buffer;
}

/** A tar (ustar, pax headers for long names) made by tar-stream's packer. */
export async function tar(entries: readonly TarEntrySpec[]): Promise<Buffer> {
  const packer = pack();
  for (const e of entries) {
    if (e.data !== undefined) packer.entry(e.header, e.data);
    else packer.entry(e.header);
  }
  packer.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of packer as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/**
 * A 512-byte ustar header written by hand, so any type flag (`'0'`...`'7'`, `'S'`) and any declared
 * size (up to 8 GiB) can be given; the data that follows is the caller's.
 */
export function ustarHeader(name: string, size: number, typeflag = '0', linkname = ''): Buffer {
  const header = Buffer.alloc(512);
  const octal = (value: number, at: number, width: number): void => {
    header.write(value.toString(8).padStart(width - 1, '0') + '\0', at, 'ascii');
  };
  header.write(name, 0, 100, 'utf8');
  octal(0o644, 100, 8);
  octal(1000, 108, 8);
  octal(1000, 116, 8);
  octal(size, 124, 12);
  octal(1_750_000_000, 136, 12);
  header.write(typeflag, 156, 1, 'ascii');
  header.write(linkname, 157, 100, 'utf8');
  header.write('ustar\u000000', 257, 'ascii');
  header.fill(' ', 148, 156);
  const sum = header.reduce((total, byte) => total + byte, 0);
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return header;
}

/** The two zero blocks that end a tar. */
export const TAR_END = Buffer.alloc(1024);

/** One MiB of zeros deflated with a full flush: a byte-aligned block that needs no history, so it repeats. */
const ZERO_MIB = zlib.deflateRawSync(Buffer.alloc(MiB), {
  finishFlush: zlib.constants.Z_FULL_FLUSH,
  level: 9,
});
/** An empty final block (fixed Huffman codes): ends a raw deflate stream. */
const FINAL_BLOCK = Buffer.from([0x03, 0x00]);

/**
 * A raw deflate stream of `prefix` followed by `zeroMiB` MiB of zeros: about 1 KiB per MiB.
 * Built from one flushed block repeated, so a gigabyte of zeros costs the test a megabyte.
 */
export function deflatedZeros(zeroMiB: number, prefix: Buffer = Buffer.alloc(0)): Buffer {
  const head = prefix.length
    ? zlib.deflateRawSync(prefix, { finishFlush: zlib.constants.Z_FULL_FLUSH })
    : Buffer.alloc(0);
  return Buffer.concat([head, ...Array<Buffer>(zeroMiB).fill(ZERO_MIB), FINAL_BLOCK]);
}

/** CRC-32 of `prefix` followed by `zeroMiB` MiB of zeros, computed without holding them. */
export function crcOfZeros(zeroMiB: number, prefix: Buffer = Buffer.alloc(0)): number {
  const zeros = Buffer.alloc(MiB);
  let crc = zlib.crc32(prefix);
  for (let i = 0; i < zeroMiB; i++) crc = zlib.crc32(zeros, crc);
  return crc;
}

/**
 * A gzip file of `prefix` followed by `zeroMiB` MiB of zeros (and `suffix`), valid to its trailer: it
 * unpacks to all of it when nothing stops the reader.
 */
export function gzipOfZeros(
  zeroMiB: number,
  prefix: Buffer = Buffer.alloc(0),
  suffix: Buffer = Buffer.alloc(0),
): Buffer {
  const header = Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff]);
  const zeros = deflatedZeros(zeroMiB, prefix).subarray(0, -FINAL_BLOCK.length);
  const tail = zlib.deflateRawSync(suffix);
  let crc = crcOfZeros(zeroMiB, prefix);
  crc = zlib.crc32(suffix, crc);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc, 0);
  trailer.writeUInt32LE((prefix.length + zeroMiB * MiB + suffix.length) % 2 ** 32, 4);
  return Buffer.concat([header, zeros, tail, trailer]);
}

/** A readable of `chunks`, for yazl's addReadStream (which writes a data descriptor after the data). */
export function streamOf(...chunks: Buffer[]): Readable {
  return Readable.from(chunks);
}
