import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { ZipFile as YazlZip } from 'yazl';
import {
  readArchive,
  maxArchiveBytes,
  type ArchiveLimits,
} from '../../tasks/CodeSynthesis/src/adapters/archive/archive-reader';
import { ArchiveError, CancelledError, InputError } from '../../tasks/CodeSynthesis/src/core/errors';
import { showPath } from '../../tasks/CodeSynthesis/src/core/paths';
import type { FileToWrite } from '../../tasks/CodeSynthesis/src/core/ports';
import {
  crcOfZeros,
  deflatedZeros,
  GiB,
  gzipOfZeros,
  KiB,
  MiB,
  streamOf,
  tar,
  TAR_END,
  ustarHeader,
  zip,
} from '../support/archives';

const LIMITS: ArchiveLimits = { maxFiles: 50, maxTotalBytes: 5 * MiB, maxRatio: 100 };
const live = (): AbortSignal => new AbortController().signal;

/** The files of the clean archives, in order: text, nested, Unicode, a BOM, empty, a long name. */
const FILES: FileToWrite[] = [
  { path: 'app/main.py', content: 'import os\n\nprint(os.environ["PORT"])\n' },
  { path: 'app/requirements.txt', content: 'flask==3.0.3\n' },
  { path: 'docs/café-ünïcode.md', content: '# Café\n\n“quoted” — ✓\n' },
  { path: 'with-bom.cs', content: '\uFEFFnamespace App;\n' },
  { path: 'empty.txt', content: '' },
  { path: `deep/${'n'.repeat(120)}/file.txt`, content: 'a name longer than 100 bytes needs a pax header\n' },
];

describe('readArchive (archives built in the test, real yauzl, tar-stream and zlib)', function () {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'archive-reader-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function save(bytes: Buffer, name = 'archive.bin'): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, bytes);
    return file;
  }
  const read = (bytes: Buffer, limits = LIMITS, name?: string) =>
    readArchive(save(bytes, name), limits, live());

  async function refusal(bytes: Buffer, limits = LIMITS): Promise<ArchiveError> {
    try {
      await read(bytes, limits);
    } catch (error) {
      if (error instanceof ArchiveError) return error;
      throw error;
    }
    return assert.fail('expected an ArchiveError');
  }

  /** The problem that names `name` (escaped as messages show it); fails when there is none. */
  function problemOf(error: ArchiveError, name: string): string {
    const found = error.problems.find((p) => p.startsWith(`${showPath(name)}: `));
    assert.ok(found, `no problem names ${showPath(name)} in:\n${error.problems.join('\n')}`);
    assert.ok(error.message.includes(found), 'the message lists the problem');
    return found;
  }

  /** Time a refusal and return it with the elapsed milliseconds. */
  async function timedRefusal(bytes: Buffer, limits: ArchiveLimits): Promise<[ArchiveError, number]> {
    const file = save(bytes);
    const started = process.hrtime.bigint();
    try {
      await readArchive(file, limits, live());
    } catch (error) {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (error instanceof ArchiveError) return [error, ms];
      throw error;
    }
    return assert.fail('expected an ArchiveError');
  }

  async function yazlZip(): Promise<Buffer> {
    const z = new YazlZip();
    z.addEmptyDirectory('app/');
    const [main, requirements, cafe, bom, empty, long] = FILES as [FileToWrite, ...FileToWrite[]];
    z.addBuffer(Buffer.from(main.content), main.path);
    z.addBuffer(Buffer.from(requirements!.content), requirements!.path, { compress: false });
    // A stream: yazl writes sizes and CRC in a data descriptor after the data, as streaming zippers do.
    z.addReadStream(streamOf(Buffer.from(cafe!.content)), cafe!.path);
    z.addBuffer(Buffer.from(bom!.content), bom!.path);
    z.addBuffer(Buffer.from(empty!.content), empty!.path);
    z.addBuffer(Buffer.from(long!.content), long!.path);
    z.end();
    const chunks: Buffer[] = [];
    for await (const chunk of z.outputStream as AsyncIterable<Buffer>) chunks.push(chunk);
    return Buffer.concat(chunks);
  }

  const cleanTar = () =>
    tar([
      { header: { name: 'app/', type: 'directory' } },
      ...FILES.map((f) => ({ header: { name: f.path }, data: f.content })),
    ]);

  describe('clean archives', () => {
    it('reads a zip made by yazl back to exactly its files, with the SHA-256 of its bytes', async () => {
      const bytes = await yazlZip();
      const result = await read(bytes);
      assert.equal(result.format, 'zip');
      assert.deepEqual(result.files, FILES);
      assert.equal(result.sha256, createHash('sha256').update(bytes).digest('hex'));
      assert.equal(result.bytes, bytes.length);
    });

    it('reads a tar made by tar-stream (pax long name, folder entry) back to exactly its files', async () => {
      const result = await read(await cleanTar());
      assert.equal(result.format, 'tar');
      assert.deepEqual(result.files, FILES);
    });

    it('reads a tar.gz back to exactly its files', async () => {
      const result = await read(zlib.gzipSync(await cleanTar()));
      assert.equal(result.format, 'tar.gz');
      assert.deepEqual(result.files, FILES);
    });

    it('tells the format by its first bytes, not by the file name', async () => {
      assert.equal((await read(await yazlZip(), LIMITS, 'generated.tar.gz')).format, 'zip');
      assert.equal((await read(await cleanTar(), LIMITS, 'generated.zip')).format, 'tar');
      assert.equal((await read(zlib.gzipSync(await cleanTar()), LIMITS, 'generated.zip')).format, 'tar.gz');
    });

    it('lets small, very compressible files through: the ratio counts only past 1 MiB', async () => {
      const spaces = ' '.repeat(600 * KiB) + '\n';
      const fromZip = await read(zip([{ name: 'indent.txt', data: spaces }]));
      assert.equal(fromZip.files[0]!.content, spaces);
      const fromTgz = await read(
        zlib.gzipSync(await tar([{ header: { name: 'indent.txt' }, data: spaces }])),
      );
      assert.equal(fromTgz.files[0]!.content, spaces);
    });

    it('keeps UTF-8 text with control characters as it is, for the scan to report', async () => {
      const content = 'a\u0000b\u001bc\n';
      const { files } = await read(zip([{ name: 'odd.txt', data: content }]));
      assert.deepEqual(files, [{ path: 'odd.txt', content }]);
    });
  });

  describe('refused entries: all listed together, each by its escaped name', () => {
    const ESCAPING = ['../x.txt', 'a/../../x.txt', '/etc/x.txt'];

    it('refuses zip entries that climb out, absolute names, drive letters and UNC paths', async () => {
      const names = [...ESCAPING, 'C:\\x.txt', 'C:/y.txt', '\\\\server\\share\\x.txt', 'a/../b.txt'];
      const error = await refusal(zip([...names.map((name) => ({ name, data: 'x' })), { name: 'ok.txt' }]));
      assert.equal(error.problems.length, names.length);
      assert.equal(error.subject, 'archiveFile');
      assert.match(
        error.message,
        /^The archive ".*archive\.bin" \(input 'archiveFile'\) cannot be unpacked:/,
      );
      assert.match(
        problemOf(error, '../x.txt'),
        /climbs out of the output directory with '\.\.' \(zip-slip\)/,
      );
      assert.match(problemOf(error, 'a/../../x.txt'), /zip-slip/);
      assert.match(problemOf(error, '/etc/x.txt'), /is an absolute path/);
      assert.match(problemOf(error, 'C:\\x.txt'), /has a drive letter/);
      assert.match(problemOf(error, 'C:/y.txt'), /has a drive letter/);
      assert.match(problemOf(error, '\\\\server\\share\\x.txt'), /is a UNC or network path/);
      assert.match(problemOf(error, 'a/../b.txt'), /contains a '\.\.' segment/);
    });

    it('refuses tar entries that climb out or are absolute', async () => {
      const error = await refusal(await tar(ESCAPING.map((name) => ({ header: { name }, data: 'x' }))));
      assert.equal(error.problems.length, 3);
      assert.match(problemOf(error, '../x.txt'), /zip-slip/);
      assert.match(problemOf(error, 'a/../../x.txt'), /zip-slip/);
      assert.match(problemOf(error, '/etc/x.txt'), /is an absolute path/);
    });

    it('refuses zip symlinks (Unix type or Windows reparse point), devices, FIFOs and sockets', async () => {
      const error = await refusal(
        zip([
          { name: 'link', data: '/etc/passwd', unixMode: 0o120777 },
          { name: 'fifo', unixMode: 0o010644 },
          { name: 'chardev', unixMode: 0o020644 },
          { name: 'blockdev', unixMode: 0o060644 },
          { name: 'socket', unixMode: 0o140644 },
          { name: 'junction', dosAttributes: 0x400 },
          { name: 'odd-type', unixMode: 0o030644 },
          { name: 'fine.txt', data: 'x', unixMode: 0o100644 },
        ]),
      );
      assert.equal(error.problems.length, 7);
      assert.match(problemOf(error, 'link'), /is a symbolic link; links are never unpacked/);
      assert.match(problemOf(error, 'fifo'), /is a FIFO/);
      assert.match(problemOf(error, 'chardev'), /is a device file/);
      assert.match(problemOf(error, 'blockdev'), /is a device file/);
      assert.match(problemOf(error, 'socket'), /is a socket/);
      assert.match(problemOf(error, 'junction'), /is a symbolic link/);
      assert.match(problemOf(error, 'odd-type'), /is not a regular file \(Unix file type 0o30000\)/);
    });

    it('refuses tar symlinks and hard links (types 2, 1), devices and FIFOs (3, 4, 6) and unknown types', async () => {
      const packed = await tar([
        { header: { name: 'link', type: 'symlink', linkname: '/etc/passwd' } },
        { header: { name: 'hard', type: 'link', linkname: 'fine.txt' } },
        { header: { name: 'chardev', type: 'character-device' } },
        { header: { name: 'blockdev', type: 'block-device' } },
        { header: { name: 'fifo', type: 'fifo' } },
        { header: { name: 'fine.txt' }, data: 'x' },
      ]);
      // A GNU sparse entry ('S'), which tar-stream does not know, written by hand before the end blocks.
      const sparse = Buffer.concat([ustarHeader('sparse.txt', 0, 'S')]);
      const error = await refusal(Buffer.concat([packed.subarray(0, -TAR_END.length), sparse, TAR_END]));
      assert.equal(error.problems.length, 6);
      assert.match(
        problemOf(error, 'link'),
        /is a symbolic link to "\/etc\/passwd"; links are never unpacked/,
      );
      assert.match(problemOf(error, 'hard'), /is a hard link to "fine\.txt"/);
      assert.match(problemOf(error, 'chardev'), /is a device file/);
      assert.match(problemOf(error, 'blockdev'), /is a device file/);
      assert.match(problemOf(error, 'fifo'), /is a FIFO/);
      assert.match(problemOf(error, 'sparse.txt'), /is not a regular file/);
    });

    it('refuses duplicates: the same name, or one differing in letter case, Unicode form or spelling', async () => {
      const nfc = 'caf\u00e9.md';
      const nfd = 'cafe\u0301.md';
      const error = await refusal(
        zip([
          { name: 'README.md', data: 'first' },
          { name: 'README.md', data: 'second' },
          { name: 'readme.MD', data: 'third' },
          { name: nfc, data: 'x' },
          { name: nfd, data: 'y' },
          { name: 'a/b.txt', data: 'x' },
          { name: 'a/./b.txt', data: 'y' },
          { name: 'a//b.txt', data: 'z' },
        ]),
      );
      assert.deepEqual(error.problems, [
        `"README.md": appears more than once in the archive`,
        `"readme.MD": differs only in letter case or Unicode form from "README.md"`,
        `${showPath(nfd)}: differs only in letter case or Unicode form from ${showPath(nfc)}`,
        `"a/./b.txt": appears more than once in the archive`,
        `"a//b.txt": appears more than once in the archive`,
      ]);
      const fromTar = await refusal(
        await tar([
          { header: { name: 'x.txt' }, data: '1' },
          { header: { name: 'X.txt' }, data: '2' },
        ]),
      );
      assert.match(problemOf(fromTar, 'X.txt'), /differs only in letter case/);
    });

    it('refuses encrypted zip entries, other compression methods, names and contents that are not UTF-8', async () => {
      const error = await refusal(
        zip([
          { name: 'secret.txt', data: 'x', flags: 0x801 },
          { name: 'bzip2.txt', data: 'x', methodNumber: 12 },
          { name: Buffer.from([0x61, 0xff, 0x2e, 0x74]), data: 'x' },
        ]),
      );
      assert.match(problemOf(error, 'secret.txt'), /is not a regular file \(encrypted\)/);
      assert.match(problemOf(error, 'bzip2.txt'), /compression method 12; only stored and deflate are read/);
      assert.match(problemOf(error, 'a\uFFFD.t'), /its name is not valid UTF-8/);
      // Contents are seen only once every header passed.
      const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff]);
      const binary = await refusal(
        zip([
          { name: 'logo.png', data: png },
          { name: 'ok.txt', data: 'x' },
        ]),
      );
      assert.deepEqual(binary.problems, ['"logo.png": is not UTF-8 text; binary files are not unpacked']);
      const fromTar = await refusal(await tar([{ header: { name: 'blob.bin' }, data: randomBytes(64) }]));
      assert.match(problemOf(fromTar, 'blob.bin'), /is not UTF-8 text/);
    });

    it('refuses damaged zip entries: a CRC-32 that does not match, data shorter than declared', async () => {
      const error = await refusal(
        zip([
          { name: 'flipped.txt', data: 'hello', crc: 1234 },
          { name: 'short.txt', data: 'hello', declaredSize: 9 },
          { name: 'garbage.txt', stored: Buffer.from('not deflate at all'), declaredSize: 5, crc: 0 },
        ]),
      );
      assert.match(problemOf(error, 'flipped.txt'), /is damaged \(its CRC-32 does not match\)/);
      assert.match(problemOf(error, 'short.txt'), /is damaged \(5 bytes where its header declares 9\)/);
      assert.match(problemOf(error, 'garbage.txt'), /is damaged \(".+"\)/);
    });

    it('inflates nothing once a header is refused', async () => {
      // The second entry is not deflate data: reading it would add a "damaged" problem.
      const error = await refusal(
        zip([
          { name: '../evil.sh', data: 'x' },
          { name: 'fine.txt', stored: Buffer.from('not deflate'), declaredSize: 4, crc: 0 },
        ]),
      );
      assert.equal(error.problems.length, 1);
      problemOf(error, '../evil.sh');
    });

    it('shows hostile names escaped and cut', async () => {
      const name = `\u202e${'x'.repeat(300)}/../../../../evil`;
      const error = await refusal(zip([{ name, data: 'x' }]));
      const problem = problemOf(error, name);
      assert.ok(!problem.includes('\u202e'), 'the bidi override is escaped');
      assert.match(problem, /^"\\u202exxx/);
      assert.ok(problem.length < 250, `cut: ${problem.length} characters`);
    });
  });

  describe('limits: checked from the headers, then while unpacking, never after', () => {
    it('stops at more than maxFiles files', async () => {
      const six = Array.from({ length: 6 }, (_, i) => ({ name: `f${i}.txt`, data: 'x' }));
      const limits = { ...LIMITS, maxFiles: 5 };
      const error = await refusal(zip(six), limits);
      assert.deepEqual(error.problems, ['the archive holds more than maxFiles (5) files']);
      const fromTar = await refusal(
        await tar(six.map((f) => ({ header: { name: f.name }, data: f.data }))),
        limits,
      );
      assert.deepEqual(fromTar.problems, ['the archive holds more than maxFiles (5) files']);
    });

    it('stops at more entries than twice maxFiles plus 64, folders included', async () => {
      const folders = Array.from({ length: 75 }, (_, i) => ({ name: `d${i}/` }));
      const error = await refusal(zip(folders), { ...LIMITS, maxFiles: 5 });
      assert.match(error.problems[0]!, /more than 74 entries, folders included/);
    });

    it('stops at a file whose header declares more than maxEntryBytes', async () => {
      const error = await refusal(zip([{ name: 'big.txt', data: 'y'.repeat(2048) }]), {
        ...LIMITS,
        maxEntryBytes: 1024,
      });
      assert.deepEqual(error.problems, [`"big.txt": its header declares 2048 bytes; one file may have 1024`]);
    });

    it('stops when the declared sizes add up past maxTotalSizeKB', async () => {
      const text = () => randomBytes(300 * KiB).toString('base64'); // 400 KiB, incompressible
      const error = await refusal(
        zip([
          { name: 'a.txt', data: text() },
          { name: 'b.txt', data: text() },
          { name: 'c.txt', data: text() },
        ]),
        { ...LIMITS, maxTotalBytes: MiB },
      );
      assert.deepEqual(error.problems, [
        'the files declare more than maxTotalSizeKB allows (1048576 bytes) by "c.txt"',
      ]);
    });

    it('refuses an archive file larger than the limits allow before reading it', async () => {
      const limits = { ...LIMITS, maxTotalBytes: 64 * KiB };
      const size = maxArchiveBytes(limits) + 1;
      const error = await refusal(Buffer.alloc(size, 'x'), limits);
      assert.match(
        error.problems[0]!,
        new RegExp(`^the file is ${size} bytes; .* fit in an archive of ${size - 1} bytes`),
      );
    });

    describe('decompression bombs', function () {
      // A gigabyte of zeros in ~1 MiB of deflate. Unpacking it takes seconds here; refusing it, milliseconds.
      let gigabyteOfZeros: Buffer;
      let crcOfGigabyte: number;
      before(() => {
        gigabyteOfZeros = deflatedZeros(1024);
        crcOfGigabyte = crcOfZeros(1024);
      });
      const roomy: ArchiveLimits = { maxFiles: 50, maxTotalBytes: 64 * MiB, maxRatio: 100 };

      it('refuses a zip declaring 1 GiB from its header, before inflating a byte', async () => {
        const bomb = zip([
          { name: 'zeros.txt', stored: gigabyteOfZeros, declaredSize: GiB, crc: crcOfGigabyte },
        ]);
        const [error, ms] = await timedRefusal(bomb, roomy);
        assert.deepEqual(error.problems, [
          `"zeros.txt": its header declares ${GiB} bytes; one file may have ${64 * MiB} (maxTotalSizeKB)`,
        ]);
        assert.ok(ms < 1000, `refused in ${ms} ms`);
      });

      it('stops a zip whose header understates the size the moment it inflates past it', async () => {
        const bomb = zip([
          { name: 'liar.txt', stored: gigabyteOfZeros, declaredSize: 1024, crc: crcOfGigabyte },
        ]);
        const [error, ms] = await timedRefusal(bomb, roomy);
        const problem = problemOf(error, 'liar.txt');
        assert.match(
          problem,
          /unpacks to more than the 1024 bytes its header declares \(stopped after \d+\): a decompression bomb/,
        );
        const stoppedAfter = Number(/stopped after (\d+)/.exec(problem)![1]);
        assert.ok(stoppedAfter <= 1024 + 64 * KiB, `inflated ${stoppedAfter} bytes`);
        assert.ok(ms < 1000, `refused in ${ms} ms`);
      });

      it('refuses a zip whose headers declare more than maxRatio, before inflating it', async () => {
        const bomb = zip([{ name: 'zeros.txt', data: Buffer.alloc(4 * MiB) }]);
        const error = await refusal(bomb, roomy);
        assert.match(
          error.problems[0]!,
          /^the headers declare 4194304 bytes from \d+ compressed bytes, more than 100:1: a decompression bomb$/,
        );
      });

      it('stops a tar.gz of zeros at the ratio while gunzipping, without unpacking it', async () => {
        const prefix = await tar([{ header: { name: 'readme.txt' }, data: 'hello\n' }]);
        const [error, ms] = await timedRefusal(gzipOfZeros(1024, prefix), roomy);
        const [problem] = error.problems;
        assert.match(
          problem!,
          /^the compressed tar unpacks to (\d+) bytes from (\d+) compressed bytes, more than 100:1/,
        );
        const unpacked = Number(/unpacks to (\d+)/.exec(problem!)![1]);
        assert.ok(unpacked < 8 * MiB, `unpacked ${unpacked} bytes`);
        assert.ok(ms < 1000, `refused in ${ms} ms`);
      });

      it('stops a tar.gz at the largest tar the limits allow, whatever the ratio', async () => {
        const limits = { maxFiles: 10, maxTotalBytes: MiB, maxRatio: 1e9 };
        const [error, ms] = await timedRefusal(gzipOfZeros(1024), limits);
        assert.deepEqual(error.problems, [
          `the compressed tar unpacks to more than ${maxArchiveBytes(limits)} bytes, more than files within maxTotalSizeKB and maxFiles need: a decompression bomb`,
        ]);
        assert.ok(ms < 1000, `refused in ${ms} ms`);
      });

      it('refuses a tar.gz whose header declares 1 GiB before reading its data', async () => {
        const bomb = gzipOfZeros(1024, ustarHeader('zeros.txt', GiB), TAR_END);
        const [error, ms] = await timedRefusal(bomb, { ...roomy, maxRatio: 1e9 });
        assert.deepEqual(error.problems, [
          `"zeros.txt": its header declares ${GiB} bytes; one file may have ${64 * MiB} (maxTotalSizeKB)`,
        ]);
        assert.ok(ms < 1000, `refused in ${ms} ms`);
      });

      it('stops unpacking when the run is cancelled', async () => {
        // Limits so wide that only the cancellation stops the gigabyte.
        const wide = { maxFiles: 10, maxTotalBytes: 2 * GiB, maxRatio: 1e9 };
        for (const bomb of [
          zip([{ name: 'zeros.txt', stored: gigabyteOfZeros, declaredSize: GiB, crc: crcOfGigabyte }]),
          gzipOfZeros(1024, ustarHeader('zeros.txt', GiB), TAR_END),
        ]) {
          const controller = new AbortController();
          const file = save(bomb);
          const started = Date.now();
          setTimeout(() => controller.abort(), 50);
          await assert.rejects(readArchive(file, wide, controller.signal), CancelledError);
          assert.ok(Date.now() - started < 1500, `stopped after ${Date.now() - started} ms`);
        }
      });
    });
  });

  describe('not an archive, damaged, unreadable', () => {
    it('names what the file starts with when it is no archive', async () => {
      const error = await refusal(Buffer.from('hello, world\n'));
      assert.deepEqual(error.problems, ['is not a zip, tar or tar.gz archive (it starts with 68 65 6c 6c)']);
      assert.match(error.hint, /told apart by its content, not its extension/);
      const empty = await refusal(Buffer.alloc(0));
      assert.deepEqual(empty.problems, [
        'is not a zip, tar or tar.gz archive (it starts with nothing: it is empty)',
      ]);
    });

    it('refuses an archive with no files', async () => {
      assert.deepEqual((await refusal(zip([]))).problems, ['the archive holds no files']);
      assert.deepEqual((await refusal(zip([{ name: 'only/' }]))).problems, ['the archive holds no files']);
    });

    it('reports a truncated or malformed archive as damaged', async () => {
      const tgz = zlib.gzipSync(await cleanTar());
      const cut = await refusal(tgz.subarray(0, tgz.length >> 1));
      assert.match(cut.problems.at(-1)!, /^the archive is damaged or not a valid tar\.gz archive: ".+"$/);
      const notTar = await refusal(zlib.gzipSync('just some text, long enough '.repeat(40)));
      assert.match(notTar.problems.at(-1)!, /^the archive is damaged or not a valid tar\.gz archive/);
      const z = await yazlZip();
      const brokenZip = await refusal(z.subarray(0, z.length - 30));
      assert.match(brokenZip.problems.at(-1)!, /^the archive is damaged or not a valid zip archive/);
    });

    it('names the input when the file is missing or a folder', async () => {
      await assert.rejects(readArchive(path.join(dir, 'missing.zip'), LIMITS, live()), (error: unknown) => {
        assert.ok(error instanceof InputError);
        assert.match(error.message, /^Input 'archiveFile': cannot read ".*missing\.zip" \(no such file\)\./);
        return true;
      });
      await assert.rejects(readArchive(dir, LIMITS, live()), /Input 'archiveFile': ".*" is not a file\./);
    });

    it('does nothing once cancelled', async () => {
      const controller = new AbortController();
      controller.abort();
      await assert.rejects(readArchive(save(await cleanTar()), LIMITS, controller.signal), CancelledError);
    });
  });
});
