import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  FsTreeStore,
  STAGING_PREFIX,
  type FsOps,
} from '../../tasks/CodeSynthesis/src/adapters/fs/tree-store';
import { FS_CONCURRENCY } from '../../tasks/CodeSynthesis/src/adapters/fs/bounded';
import { CancelledError, WriteError } from '../../tasks/CodeSynthesis/src/core/errors';
import type { FileToWrite } from '../../tasks/CodeSynthesis/src/core/ports';

/** Every entry under `dir`: type, mode, and content or link target. Symlinks are not followed. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (abs: string, rel: string): void => {
    const stat = fs.lstatSync(abs);
    const mode = (stat.mode & 0o7777).toString(8);
    if (stat.isSymbolicLink()) out[rel] = `link ${fs.readlinkSync(abs)}`;
    else if (stat.isDirectory()) {
      out[rel] = `dir ${mode}`;
      for (const name of fs.readdirSync(abs).sort())
        walk(path.join(abs, name), rel ? `${rel}/${name}` : name);
    } else if (stat.isFile()) out[rel] = `file ${mode} ${fs.readFileSync(abs).toString('base64')}`;
    else out[rel] = `other ${mode}`;
  };
  if (fs.existsSync(dir)) walk(dir, '');
  return out;
}

const f = (p: string, content = `content of ${p}\n`): FileToWrite => ({ path: p, content });
const live = (): AbortSignal => new AbortController().signal;

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  return assert.fail('expected a rejection');
}

describe('FsTreeStore (real file system)', function () {
  let tmp: string;
  let root: string;
  let outside: string;

  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tree-store-'));
    root = path.join(tmp, 'out');
    outside = path.join(tmp, 'outside');
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'victim.txt'), 'precious\n');
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  /** An existing tree: a file to overwrite, an untouched file, a nested folder, a symlink. */
  function seed(): void {
    fs.mkdirSync(path.join(root, 'src'), { recursive: true });
    fs.writeFileSync(path.join(root, 'src', 'old.ts'), 'old\n', { mode: 0o600 });
    fs.chmodSync(path.join(root, 'src', 'old.ts'), 0o600);
    fs.writeFileSync(path.join(root, 'keep.md'), 'keep\n');
    fs.symlinkSync('keep.md', path.join(root, 'alias.md'));
  }

  describe('commit', () => {
    it('writes every file, creating the root and folders, with 0644 / 0755 modes, and leaves no staging folder', async () => {
      const store = new FsTreeStore(root);
      // A strict umask must not change the modes: they are set explicitly, not left to open().
      const umask = process.umask(0o077);
      try {
        await store.commit(
          [
            f('README.md'),
            f('src/app/main.ts'),
            f('bin/run'),
            f('scripts/setup.sh'),
            f('é/ünï.txt', 'ünïcode ✓'),
          ],
          live(),
        );
      } finally {
        process.umask(umask);
      }
      const snap = snapshot(root);
      assert.equal(
        fs.readFileSync(path.join(root, 'src/app/main.ts'), 'utf8'),
        'content of src/app/main.ts\n',
      );
      assert.equal(fs.readFileSync(path.join(root, 'é/ünï.txt'), 'utf8'), 'ünïcode ✓');
      assert.match(snap['README.md']!, /^file 644 /);
      assert.match(snap['src/app/main.ts']!, /^file 644 /);
      assert.match(snap['bin/run']!, /^file 755 /);
      assert.match(snap['scripts/setup.sh']!, /^file 755 /);
      assert.deepEqual(
        fs.readdirSync(root).filter((n) => n.startsWith(STAGING_PREFIX)),
        [],
      );
    });

    it('overwrites an existing file and leaves everything else as it was', async () => {
      seed();
      const before = snapshot(root);
      await new FsTreeStore(root).commit([f('src/old.ts', 'new\n'), f('src/new.ts')], live());
      const after = snapshot(root);
      assert.equal(fs.readFileSync(path.join(root, 'src/old.ts'), 'utf8'), 'new\n');
      for (const key of ['keep.md', 'alias.md']) assert.equal(after[key], before[key]);
      assert.deepEqual(Object.keys(after).sort(), [...Object.keys(before), 'src/new.ts'].sort());
    });

    it('keeps the mode of a file it replaces (an executable stays executable)', async () => {
      seed();
      fs.writeFileSync(path.join(root, 'gradlew'), '#!/bin/sh\n', { mode: 0o755 });
      fs.chmodSync(path.join(root, 'gradlew'), 0o755);
      await new FsTreeStore(root).commit(
        [f('gradlew', '#!/bin/sh\nexec java\n'), f('src/old.ts', 'new\n')],
        live(),
      );
      assert.equal(fs.statSync(path.join(root, 'gradlew')).mode & 0o777, 0o755);
      assert.equal(fs.statSync(path.join(root, 'src', 'old.ts')).mode & 0o777, 0o600);
    });

    it('never carries setuid, setgid or sticky bits onto content it writes', async function () {
      if (process.platform === 'win32') this.skip();
      fs.mkdirSync(root);
      for (const [name, mode] of [
        ['suid', 0o4755],
        ['sgid', 0o2750],
        ['sticky', 0o1644],
      ] as const) {
        fs.writeFileSync(path.join(root, name), 'old\n');
        fs.chmodSync(path.join(root, name), mode);
        assert.equal(fs.statSync(path.join(root, name)).mode & 0o7777, mode, 'the seed has the bit');
      }
      await new FsTreeStore(root).commit([f('suid'), f('sgid'), f('sticky')], live());
      assert.equal(fs.statSync(path.join(root, 'suid')).mode & 0o7777, 0o755);
      assert.equal(fs.statSync(path.join(root, 'sgid')).mode & 0o7777, 0o750);
      assert.equal(fs.statSync(path.join(root, 'sticky')).mode & 0o7777, 0o644);
    });

    it('writes several staged files at once (at most FS_CONCURRENCY), and examines the next file while the current one is renamed', async () => {
      let writing = 0;
      let most = 0;
      let examining = 0;
      let overlaps = 0;
      const ops: Partial<FsOps> = {
        open: (async (file: fs.PathLike, flags?: string | number, mode?: fs.Mode) => {
          const handle = await fsp.open(file, flags, mode);
          if (flags !== 'wx') return handle;
          most = Math.max(most, ++writing);
          const close = handle.close.bind(handle);
          handle.close = async () => {
            writing--;
            return close();
          };
          return handle;
        }) as FsOps['open'],
        rename: async (from, to) => {
          if (String(from).includes(`${path.sep}new${path.sep}`) && examining > 0) overlaps++;
          return fsp.rename(from, to);
        },
        lstat: (async (p: fs.PathLike) => {
          examining++;
          try {
            return await fsp.lstat(p);
          } finally {
            examining--;
          }
        }) as FsOps['lstat'],
      };
      const files = Array.from({ length: 40 }, (_, i) => f(`dir${i % 4}/file${i}.ts`));
      await new FsTreeStore(root, { fs: ops }).commit(files, live());
      assert.ok(most > 1 && most <= FS_CONCURRENCY, `${most} files were being written at once`);
      assert.ok(overlaps > 10, `a file is examined while the one before it is renamed (${overlaps} times)`);
      for (const file of files)
        assert.equal(fs.readFileSync(path.join(root, file.path), 'utf8'), file.content);
    });

    it("fsyncs the journals that start and end the move, not the first ('staging': a power cut loses nothing there)", async () => {
      const synced: boolean[] = [];
      const ops: Partial<FsOps> = {
        open: (async (file: fs.PathLike, flags?: string | number, mode?: fs.Mode) => {
          const handle = await fsp.open(file, flags, mode);
          if (!String(file).endsWith('journal.tmp')) return handle;
          const at = synced.push(false) - 1;
          const sync = handle.sync.bind(handle);
          handle.sync = async () => {
            synced[at] = true;
            return sync();
          };
          return handle;
        }) as FsOps['open'],
      };
      await new FsTreeStore(root, { fs: ops }).commit([f('a.ts')], live());
      assert.deepEqual(synced, [false, true, true]);
    });

    it('an empty commit changes nothing and does not create the root', async () => {
      await new FsTreeStore(root).commit([], live());
      assert.equal(fs.existsSync(root), false);
    });

    it('refuses a parent folder that became a symlink after inspect, writing nothing through it', async () => {
      seed();
      fs.symlinkSync(outside, path.join(root, 'linked'));
      const before = snapshot(tmp);
      const error = await rejection(
        new FsTreeStore(root).commit(
          [f('a.ts'), f('linked/victim.txt', 'pwned'), f('linked/new.txt')],
          live(),
        ),
      );
      assert.ok(error instanceof WriteError, String(error));
      assert.match(error.message, /"linked\/victim\.txt".*parent folder "linked" that became a symlink/);
      assert.deepEqual(snapshot(tmp), before);
    });

    it('refuses a target that became a symlink after inspect, leaving its target alone', async () => {
      seed();
      fs.symlinkSync(path.join(outside, 'victim.txt'), path.join(root, 'victim.txt'));
      const before = snapshot(tmp);
      const error = await rejection(
        new FsTreeStore(root).commit([f('src/z.ts'), f('victim.txt', 'pwned')], live()),
      );
      assert.ok(error instanceof WriteError);
      assert.match(error.message, /"victim\.txt".*became a symlink/);
      assert.deepEqual(snapshot(tmp), before);
    });

    it('refuses a parent that is a file', async () => {
      seed();
      const before = snapshot(tmp);
      const error = await rejection(new FsTreeStore(root).commit([f('keep.md/x.ts')], live()));
      assert.ok(error instanceof WriteError);
      assert.match(error.message, /became a file/);
      assert.deepEqual(snapshot(tmp), before);
    });

    describe('a failure halfway through the move', () => {
      /** A rename that fails (with a real-looking OS error) when it would place `victim`. */
      function failingRename(victim: string, code = 'EACCES'): Partial<FsOps> {
        return {
          rename: async (from, to) => {
            if (String(to).endsWith(victim) && String(from).includes(STAGING_PREFIX)) {
              throw Object.assign(
                new Error(`${code}: injected, rename '${String(from)}' -> '${String(to)}'`),
                { code, syscall: 'rename' },
              );
            }
            return fsp.rename(from, to);
          },
        };
      }

      it('restores the tree byte for byte (overwritten files, created folders) and removes the staging folder', async () => {
        seed();
        const before = snapshot(tmp);
        const files = [
          f('src/old.ts', 'replaced\n'),
          f('deep/er/new.ts'),
          f('keep.md', 'changed\n'),
          f('src/late.ts'),
          f('zzz/last.ts'),
        ];
        const store = new FsTreeStore(root, { fs: failingRename(path.join('src', 'late.ts')) });
        const error = await rejection(store.commit(files, live()));
        assert.ok(error instanceof WriteError, String(error));
        assert.equal(error.message, 'Could not write "src/late.ts" in the output directory (EACCES).');
        assert.equal(error.subject, 'outputDirectory');
        assert.deepEqual(snapshot(tmp), before);
      });

      it('removes a root it created (and its created parents)', async () => {
        const nested = path.join(tmp, 'a', 'b', 'out');
        const store = new FsTreeStore(nested, { fs: failingRename('two.ts', 'ENOSPC') });
        const before = snapshot(tmp);
        const error = await rejection(store.commit([f('one.ts'), f('two.ts')], live()));
        assert.ok(error instanceof WriteError);
        assert.match(error.message, /ENOSPC/);
        assert.deepEqual(snapshot(tmp), before);
        assert.equal(fs.existsSync(path.join(tmp, 'a')), false);
      });

      it('keeps a root that existed, even when empty', async () => {
        fs.mkdirSync(root);
        const before = snapshot(tmp);
        await rejection(new FsTreeStore(root, { fs: failingRename('a.ts') }).commit([f('a.ts')], live()));
        assert.deepEqual(snapshot(tmp), before);
        assert.ok(fs.existsSync(root));
      });

      it('says so, and where the backups are, when the restore itself fails', async () => {
        seed();
        let restoring = false;
        const ops: Partial<FsOps> = {
          rename: async (from, to) => {
            if (String(to).endsWith('b.ts')) {
              restoring = true;
              throw Object.assign(new Error('injected'), { code: 'EIO' });
            }
            if (restoring) throw Object.assign(new Error('injected'), { code: 'EROFS' });
            return fsp.rename(from, to);
          },
        };
        const error = await rejection(
          new FsTreeStore(root, { fs: ops }).commit([f('src/old.ts', 'x'), f('b.ts')], live()),
        );
        assert.ok(error instanceof WriteError);
        assert.match(
          error.message,
          /"b\.ts".*\(EIO\), and 1 step\(s\) could not be undone: backup "src\/old\.ts" \(EROFS\)/,
        );
        assert.match(error.hint, new RegExp(`${STAGING_PREFIX}[0-9a-f]+/old`));
        const staging = fs.readdirSync(root).find((n) => n.startsWith(STAGING_PREFIX));
        assert.ok(staging, 'the staging folder with the backup is kept');
        assert.equal(fs.readFileSync(path.join(root, staging, 'old', '0'), 'utf8'), 'old\n');
      });
    });

    it('a root it cannot create is named as the output directory, not as a path in it', async () => {
      const ops: Partial<FsOps> = {
        mkdir: (async () => {
          throw Object.assign(new Error('injected'), { code: 'EACCES' });
        }) as FsOps['mkdir'],
      };
      const error = await rejection(new FsTreeStore(root, { fs: ops }).commit([f('a.ts')], live()));
      assert.ok(error instanceof WriteError);
      assert.equal(error.message, `Could not create the output directory '${root}' (EACCES).`);
      assert.match(error.hint, /^Nothing was changed\. Check that the agent may create folders there/);
      assert.doesNotMatch(error.describe(), /"\."/);
    });

    it('a failure while staging leaves the tree unchanged and names the file', async () => {
      seed();
      const before = snapshot(tmp);
      let opened = 0;
      const ops: Partial<FsOps> = {
        open: (async (file: fs.PathLike, flags?: string | number, mode?: fs.Mode) => {
          if (flags === 'wx' && ++opened === 2)
            throw Object.assign(new Error('injected'), { code: 'ENOSPC' });
          return fsp.open(file, flags, mode);
        }) as FsOps['open'],
      };
      const error = await rejection(
        new FsTreeStore(root, { fs: ops }).commit([f('one.ts'), f('two.ts')], live()),
      );
      assert.ok(error instanceof WriteError);
      assert.equal(error.message, 'Could not stage "two.ts" in the output directory (ENOSPC).');
      assert.deepEqual(snapshot(tmp), before);
    });

    describe('cancellation', () => {
      it('aborted before commit: CancelledError, nothing created', async () => {
        const controller = new AbortController();
        controller.abort();
        const before = snapshot(tmp);
        assert.ok(
          (await rejection(new FsTreeStore(root).commit([f('a.ts')], controller.signal))) instanceof
            CancelledError,
        );
        assert.deepEqual(snapshot(tmp), before);
      });

      it('aborted while staging: staging and the created root removed, tree unchanged', async () => {
        seed();
        const before = snapshot(tmp);
        const controller = new AbortController();
        let opened = 0;
        const ops: Partial<FsOps> = {
          open: (async (file: fs.PathLike, flags?: string | number, mode?: fs.Mode) => {
            if (flags === 'wx' && ++opened === 2) controller.abort();
            return fsp.open(file, flags, mode);
          }) as FsOps['open'],
        };
        const error = await rejection(
          new FsTreeStore(root, { fs: ops }).commit(
            [f('src/old.ts', 'x'), f('b.ts'), f('c.ts')],
            controller.signal,
          ),
        );
        assert.ok(error instanceof CancelledError);
        assert.equal(opened, 2, 'staging stops at the next file');
        assert.deepEqual(snapshot(tmp), before);
      });

      it('aborted while staging into a new root: the root is removed', async () => {
        const controller = new AbortController();
        const ops: Partial<FsOps> = {
          open: (async (file: fs.PathLike, flags?: string | number, mode?: fs.Mode) => {
            controller.abort();
            return fsp.open(file, flags, mode);
          }) as FsOps['open'],
        };
        const error = await rejection(
          new FsTreeStore(root, { fs: ops }).commit([f('a.ts'), f('b.ts')], controller.signal),
        );
        assert.ok(error instanceof CancelledError);
        assert.equal(fs.existsSync(root), false);
      });

      it('aborted once the move has started: the move completes', async () => {
        seed();
        const controller = new AbortController();
        const ops: Partial<FsOps> = {
          rename: async (from, to) => {
            // The first rename out of new/ is the start of the move.
            if (String(from).includes(`${path.sep}new${path.sep}`)) controller.abort();
            return fsp.rename(from, to);
          },
        };
        await new FsTreeStore(root, { fs: ops }).commit(
          [f('src/old.ts', 'new\n'), f('x/y.ts'), f('z.ts')],
          controller.signal,
        );
        assert.ok(controller.signal.aborted);
        assert.equal(fs.readFileSync(path.join(root, 'src/old.ts'), 'utf8'), 'new\n');
        assert.ok(fs.existsSync(path.join(root, 'x/y.ts')));
        assert.ok(fs.existsSync(path.join(root, 'z.ts')));
        assert.deepEqual(
          fs.readdirSync(root).filter((n) => n.startsWith(STAGING_PREFIX)),
          [],
        );
      });
    });
  });

  describe('inspect', () => {
    it('reports what is at each path without following symlinks', async () => {
      seed();
      fs.symlinkSync(outside, path.join(root, 'linked'));
      fs.writeFileSync(path.join(root, 'README.md'), 'readme');
      fs.mkdirSync(path.join(root, 'Docs'));
      if (process.platform !== 'win32') execFileSync('mkfifo', [path.join(root, 'pipe')]);
      const states = await new FsTreeStore(root).inspect([
        'new.ts',
        'src/old.ts',
        'src',
        'alias.md',
        'linked/victim.txt',
        'linked',
        'keep.md/x.ts',
        'readme.md',
        'docs/guide.md',
        'missing/deeper/x.ts',
        'pipe',
      ]);
      assert.deepEqual(states, [
        { path: 'new.ts', kind: 'absent' },
        { path: 'src/old.ts', kind: 'file' },
        { path: 'src', kind: 'directory' },
        { path: 'alias.md', kind: 'symlink' },
        { path: 'linked/victim.txt', kind: 'absent', blockedBy: 'linked' },
        { path: 'linked', kind: 'symlink' },
        { path: 'keep.md/x.ts', kind: 'absent', blockedBy: 'keep.md' },
        { path: 'readme.md', kind: 'absent', caseTwin: 'README.md' },
        { path: 'docs/guide.md', kind: 'absent', caseTwin: 'Docs' },
        { path: 'missing/deeper/x.ts', kind: 'absent' },
        { path: 'pipe', kind: 'other' },
      ]);
    });

    it('reports a case twin of an existing file too', async () => {
      fs.mkdirSync(root);
      fs.writeFileSync(path.join(root, 'a.md'), '');
      fs.writeFileSync(path.join(root, 'A.md'), '');
      assert.deepEqual(await new FsTreeStore(root).inspect(['a.md']), [
        { path: 'a.md', kind: 'file', caseTwin: 'A.md' },
      ]);
    });

    it('a missing root means every path is absent', async () => {
      assert.deepEqual(await new FsTreeStore(root).inspect(['a/b.ts', 'c.ts']), [
        { path: 'a/b.ts', kind: 'absent' },
        { path: 'c.ts', kind: 'absent' },
      ]);
    });

    it('compares content when given files: sameContent only for byte-identical files', async () => {
      seed();
      const states = await new FsTreeStore(root).inspect([
        f('src/old.ts', 'old\n'),
        f('keep.md', 'keeP\n'),
        f('keep.md', 'keep\n\n'),
        f('alias.md', 'keep\n'),
        'src/old.ts',
      ]);
      assert.deepEqual(states, [
        { path: 'src/old.ts', kind: 'file', sameContent: true },
        { path: 'keep.md', kind: 'file', sameContent: false },
        { path: 'keep.md', kind: 'file' },
        { path: 'alias.md', kind: 'symlink' },
        { path: 'src/old.ts', kind: 'file' },
      ]);
    });

    it('a root that is a file blocks every path', async () => {
      fs.writeFileSync(root, 'not a folder');
      assert.deepEqual(await new FsTreeStore(root).inspect(['a.ts']), [
        { path: 'a.ts', kind: 'absent', blockedBy: '.' },
      ]);
    });
  });

  describe('read', () => {
    it('reads a regular file, and nothing through a symlink or at a folder', async () => {
      fs.mkdirSync(path.join(root, '.synthesis', 'base'), { recursive: true });
      fs.writeFileSync(path.join(root, '.synthesis', 'base', 'a.py'), 'généré\n');
      fs.symlinkSync(outside, path.join(root, 'linked'));
      fs.symlinkSync(path.join(outside, 'victim.txt'), path.join(root, 'victim.txt'));
      const store = new FsTreeStore(root);
      assert.equal(await store.read('.synthesis/base/a.py'), 'généré\n');
      assert.equal(await store.read('missing.txt'), undefined);
      assert.equal(await store.read('.synthesis'), undefined);
      assert.equal(await store.read('linked/victim.txt'), undefined, 'not through a symlinked folder');
      assert.equal(await store.read('victim.txt'), undefined, 'not a symlink itself');
    });
  });

  it('requires an absolute root', () => {
    assert.throws(() => new FsTreeStore('relative/out'), /absolute/);
  });
});
