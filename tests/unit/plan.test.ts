import assert from 'node:assert/strict';
import { ConflictError, PathError } from '../../tasks/CodeSynthesis/src/core/errors';
import { planWrite } from '../../tasks/CodeSynthesis/src/core/plan';
import type { FileToWrite, PathState } from '../../tasks/CodeSynthesis/src/core/ports';
import type { ConflictPolicy } from '../../tasks/CodeSynthesis/src/core/settings';

const f = (path: string): FileToWrite => ({ path, content: `content of ${path}` });
const POLICIES: readonly Exclude<ConflictPolicy, 'merge'>[] = ['fail', 'overwrite', 'skip'];

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return assert.fail('expected an error');
}

describe('planWrite', () => {
  it('writes absent paths under every policy', () => {
    for (const policy of POLICIES) {
      const files = [f('a.ts'), f('src/b.ts')];
      const plan = planWrite(
        files,
        [
          { path: 'src/b.ts', kind: 'absent' },
          { path: 'a.ts', kind: 'absent' },
        ],
        policy,
      );
      assert.deepEqual(
        plan,
        { write: files, skipped: [], overwritten: [], unchanged: [], merged: [], conflicts: [] },
        policy,
      );
    }
  });

  describe('existing files', () => {
    const files = [f('new.ts'), f('old.ts'), f('older.ts')];
    const states: PathState[] = [
      { path: 'new.ts', kind: 'absent' },
      { path: 'old.ts', kind: 'file' },
      { path: 'older.ts', kind: 'file' },
    ];

    it("'fail' throws one ConflictError listing every existing file", () => {
      const error = thrown(() => planWrite(files, states, 'fail'));
      assert.ok(error instanceof ConflictError);
      assert.deepEqual(error.paths, ['"old.ts"', '"older.ts"']);
      assert.equal(error.subject, 'conflictPolicy');
      assert.match(error.describe(), /:\n {2}- "old\.ts"\.\n {2}- "older\.ts"\.\nNothing was written\./);
    });

    it("'overwrite' writes them and lists them", () => {
      assert.deepEqual(planWrite(files, states, 'overwrite'), {
        write: files,
        skipped: [],
        overwritten: ['old.ts', 'older.ts'],
        unchanged: [],
        merged: [],
        conflicts: [],
      });
    });

    it("'skip' leaves them out and lists them", () => {
      assert.deepEqual(planWrite(files, states, 'skip'), {
        write: [f('new.ts')],
        skipped: ['old.ts', 'older.ts'],
        overwritten: [],
        unchanged: [],
        merged: [],
        conflicts: [],
      });
    });
  });

  describe('case twins', () => {
    it("on a case-insensitive file system (the path resolves to the twin) they are existing files: 'fail' lists them with the twin", () => {
      const states: PathState[] = [{ path: 'Readme.md', kind: 'file', caseTwin: 'README.md' }];
      const error = thrown(() => planWrite([f('Readme.md')], states, 'fail'));
      assert.ok(error instanceof ConflictError);
      assert.deepEqual(error.paths, ['"Readme.md" (exists as "README.md")']);
      assert.deepEqual(planWrite([f('Readme.md')], states, 'overwrite').overwritten, ['Readme.md']);
    });

    it('escapes a twin name read from the disk', () => {
      const states: PathState[] = [{ path: 'a.md', kind: 'absent', caseTwin: 'A\u001b[2J.md' }];
      const error = thrown(() => planWrite([f('a.md')], states, 'fail')) as ConflictError;
      assert.deepEqual(error.paths, ['"a.md" (exists as "A\\u001b[2J.md")']);
    });

    it("on a case-sensitive file system (the path is absent) 'fail' and 'skip' treat them as conflicts", () => {
      const states: PathState[] = [{ path: 'src/a.ts', kind: 'absent', caseTwin: 'Src' }];
      assert.deepEqual((thrown(() => planWrite([f('src/a.ts')], states, 'fail')) as ConflictError).paths, [
        '"src/a.ts" (exists as "Src")',
      ]);
      assert.deepEqual(planWrite([f('src/a.ts')], states, 'skip'), {
        write: [],
        skipped: ['src/a.ts'],
        overwritten: [],
        unchanged: [],
        merged: [],
        conflicts: [],
      });
    });

    it("on a case-sensitive file system 'overwrite' refuses, since writing would leave both names", () => {
      const states: PathState[] = [{ path: 'readme.md', kind: 'absent', caseTwin: 'README.md' }];
      const error = thrown(() => planWrite([f('readme.md')], states, 'overwrite'));
      assert.ok(error instanceof PathError);
      assert.match(error.problems[0]!, /^"readme\.md": "README\.md" exists and differs only in letter case/);
    });
  });

  describe('unsafe targets are PathErrors under every policy', () => {
    const rows: [label: string, state: PathState, reason: RegExp][] = [
      [
        'a parent folder is a symlink',
        { path: 'link/a.ts', kind: 'absent', blockedBy: 'link' },
        /would write through "link", which is a symlink or a file/,
      ],
      [
        'a parent is a file',
        { path: 'src/a.ts/b.ts', kind: 'absent', blockedBy: 'src/a.ts' },
        /would write through "src\/a\.ts"/,
      ],
      ['the path is a symlink', { path: 'a.ts', kind: 'symlink' }, /would write through a symlink/],
      ['the path is a folder', { path: 'a.ts', kind: 'directory' }, /is an existing folder/],
      ['the path is a special file', { path: 'a.ts', kind: 'other' }, /special file/],
      [
        'blocked even if it looks like the same content',
        { path: 'a.ts', kind: 'symlink', sameContent: true },
        /symlink/,
      ],
    ];
    for (const [label, state, reason] of rows) {
      for (const policy of POLICIES) {
        it(`${label} (${policy})`, () => {
          const error = thrown(() => planWrite([f(state.path)], [state], policy));
          assert.ok(error instanceof PathError);
          assert.equal(error.problems.length, 1);
          assert.match(error.problems[0]!, reason);
        });
      }
    }

    it('lists all unsafe targets together, before any conflict', () => {
      const files = [f('exists.ts'), f('l/a.ts'), f('d')];
      const states: PathState[] = [
        { path: 'exists.ts', kind: 'file' },
        { path: 'l/a.ts', kind: 'absent', blockedBy: 'l' },
        { path: 'd', kind: 'directory' },
      ];
      const error = thrown(() => planWrite(files, states, 'fail'));
      assert.ok(error instanceof PathError, 'unsafe targets win over conflicts');
      assert.equal(error.problems.length, 2);
    });
  });

  describe('unchanged files', () => {
    it('a file already holding the same bytes is unchanged, not a conflict, under every policy', () => {
      for (const policy of POLICIES) {
        const plan = planWrite(
          [f('same.ts'), f('new.ts')],
          [
            { path: 'same.ts', kind: 'file', sameContent: true },
            { path: 'new.ts', kind: 'absent' },
          ],
          policy,
        );
        assert.deepEqual(
          plan,
          {
            write: [f('new.ts')],
            skipped: [],
            overwritten: [],
            unchanged: ['same.ts'],
            merged: [],
            conflicts: [],
          },
          policy,
        );
      }
    });
    it('sameContent false is an ordinary conflict', () => {
      assert.ok(
        thrown(() =>
          planWrite([f('a.ts')], [{ path: 'a.ts', kind: 'file', sameContent: false }], 'fail'),
        ) instanceof ConflictError,
      );
    });
  });

  it('a file without a state is a programming error', () => {
    assert.throws(() => planWrite([f('a.ts')], [], 'overwrite'), /no state for "a\.ts"/);
  });
});
