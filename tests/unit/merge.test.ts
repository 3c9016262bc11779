import assert from 'node:assert/strict';
import { mergeDiff3 } from 'node-diff3';
import { MergeConflictError } from '../../tasks/CodeSynthesis/src/core/errors';
import { sha256 } from '../../tasks/CodeSynthesis/src/core/manifest';
import {
  BASE_DIR,
  basePath,
  decideMergeAction,
  MARKERS,
  mergeConflictError,
  mergeFile,
} from '../../tasks/CodeSynthesis/src/core/merge';
import { checkPaths } from '../../tasks/CodeSynthesis/src/core/paths';
import { PathError } from '../../tasks/CodeSynthesis/src/core/errors';

const lines = (...l: string[]): string => l.map((x) => `${x}\n`).join('');

/** What we generated last time. */
const BASE = lines(
  'from flask import Flask',
  '',
  'app = Flask(__name__)',
  '',
  '',
  '@app.get("/healthz")',
  'def healthz():',
  '    return {"status": "ok"}',
  '',
  '',
  '@app.get("/weather")',
  'def weather():',
  '    return {"city": "Paris", "temp": 21}',
);

describe('mergeFile', () => {
  it("keeps a person's added function through a regeneration that changed another part of the file", () => {
    const added = lines('', '', '@app.get("/forecast")', 'def forecast():', '    return []');
    const yours = BASE + added;
    // The regeneration adds an import and changes the health check; the person's function stays.
    const generated = BASE.replace('{"status": "ok"}', '{"status": "ok", "version": VERSION}').replace(
      'from flask import Flask',
      'import os\nfrom flask import Flask',
    );
    const result = mergeFile(BASE, yours, generated);
    assert.deepEqual(result, { clean: true, content: generated + added });
  });

  it('an untouched file is simply updated', () => {
    const generated = BASE.replace('Paris', 'Lyon');
    assert.deepEqual(mergeFile(BASE, BASE, generated), { clean: true, content: generated });
  });

  it('a file the model did not change keeps the person’s edits', () => {
    const yours = BASE.replace('Paris', 'Berlin');
    assert.deepEqual(mergeFile(BASE, yours, BASE), { clean: true, content: yours });
  });

  it('the same edit on both sides is not a conflict', () => {
    const both = BASE.replace('21', '22');
    assert.deepEqual(mergeFile(BASE, both, both), { clean: true, content: both });
  });

  it('same-line edits conflict, with markers and the range of lines they span', () => {
    const yours = BASE.replace('"temp": 21', '"temp": 19');
    const generated = BASE.replace('"temp": 21', '"temp": 25');
    const result = mergeFile(BASE, yours, generated);
    assert.equal(result.clean, false);
    assert.ok(!result.clean);
    assert.deepEqual(result.conflicts, [{ startLine: 13, endLine: 19 }]);
    const out = result.content.split('\n');
    assert.deepEqual(out.slice(12, 19), [
      '<<<<<<< yours',
      '    return {"city": "Paris", "temp": 19}',
      '||||||| last generation',
      '    return {"city": "Paris", "temp": 21}',
      '=======',
      '    return {"city": "Paris", "temp": 25}',
      '>>>>>>> generated',
    ]);
    // Everything around the conflict is as both had it.
    assert.deepEqual(out.slice(0, 12), BASE.split('\n').slice(0, 12));
    assert.ok(result.content.endsWith('>>>>>>> generated\n'));
  });

  it('reports each conflict with its own range, counted in the merged text', () => {
    const base = lines('a', 'b', 'c', 'd', 'e', 'f', 'g');
    const yours = lines('A1', 'b', 'c', 'd', 'e', 'f', 'G1');
    const generated = lines('A2', 'b', 'c', 'd', 'e', 'f', 'G2');
    const result = mergeFile(base, yours, generated);
    assert.ok(!result.clean);
    assert.deepEqual(result.conflicts, [
      { startLine: 1, endLine: 7 },
      { startLine: 13, endLine: 19 },
    ]);
    const out = result.content.split('\n');
    for (const c of result.conflicts) {
      assert.equal(out[c.startLine - 1], MARKERS.yours);
      assert.equal(out[c.endLine - 1], MARKERS.generated);
    }
  });

  it('merges CRLF files line by line and keeps the person’s CRLF', () => {
    const base = 'one\ntwo\nthree\n';
    const yours = 'one\r\ntwo (mine)\r\nthree\r\n';
    const generated = 'one\ntwo\nthree\nfour\n';
    assert.deepEqual(mergeFile(base, yours, generated), {
      clean: true,
      content: 'one\r\ntwo (mine)\r\nthree\r\nfour\r\n',
    });
  });

  it('a person who only converted the file to CRLF gets the regeneration in CRLF', () => {
    const base = 'a\nb\n';
    assert.deepEqual(mergeFile(base, 'a\r\nb\r\n', 'a\nB\n'), { clean: true, content: 'a\r\nB\r\n' });
  });

  it('conflict markers use the file’s line ending', () => {
    const result = mergeFile('x\n', 'mine\r\n', 'theirs\n');
    assert.ok(!result.clean);
    assert.equal(
      result.content,
      '<<<<<<< yours\r\nmine\r\n||||||| last generation\r\nx\r\n=======\r\ntheirs\r\n>>>>>>> generated\r\n',
    );
  });

  it('merges the final newline like a line: the side that changed it wins', () => {
    const base = 'a\nb\n';
    assert.deepEqual(mergeFile(base, 'a\nb', 'a\nb\nc\n'), { clean: true, content: 'a\nb\nc' });
    assert.deepEqual(mergeFile(base, 'a\nB\n', 'a\nb'), { clean: true, content: 'a\nB' });
    assert.deepEqual(mergeFile('a', 'a', 'a\nb'), { clean: true, content: 'a\nb' });
  });

  it('a missing trailing newline alone is not a conflict when the other side kept the line', () => {
    assert.deepEqual(mergeFile('a\nb\n', 'a\nb', 'a2\nb\n'), { clean: true, content: 'a2\nb' });
  });

  it('without a base, common lines merge and the rest conflicts (added on both sides)', () => {
    const result = mergeFile('', 'same\nmine\n', 'same\ntheirs\n');
    assert.ok(!result.clean);
    assert.equal(result.content.split('\n')[0], '<<<<<<< yours');
    assert.equal(mergeFile('', 'same\n', 'same\n').content, 'same\n');
  });

  it('handles empty files and deletions', () => {
    assert.deepEqual(mergeFile('', '', ''), { clean: true, content: '' });
    assert.deepEqual(mergeFile('a\n', 'a\n', ''), { clean: true, content: '' });
    assert.deepEqual(mergeFile('a\nb\nc\n', 'a\nc\n', 'a\nb\nc\nd\n'), { clean: true, content: 'a\nc\nd\n' });
  });

  it('treats lines that look like object keys as text (no prototype lookups)', () => {
    const base = lines('__proto__', 'constructor', 'toString');
    const yours = lines('__proto__', 'constructor', 'toString', 'hasOwnProperty');
    assert.deepEqual(mergeFile(base, yours, base), { clean: true, content: yours });
  });

  it('edits on neighbouring lines conflict, as git merge-file does', () => {
    const result = mergeFile(lines('a', 'b'), lines('a', 'b', 'mine'), lines('a', 'B'));
    assert.ok(!result.clean);
    assert.deepEqual(result.conflicts, [{ startLine: 2, endLine: 9 }]);
  });

  it('agrees with node-diff3 on the whole file, conflicts included, on random edits (splitting at unique lines changes nothing)', () => {
    let seed = 42;
    const random = (n: number): number => {
      // mulberry32: deterministic, so a failure reproduces.
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return (((t ^ (t >>> 14)) >>> 0) % n) as number;
    };
    const vocabulary = ['', '}', '  return x;', 'if (x) {', 'else {'];
    const edit = (from: string[], tag: string): string[] => {
      const out = [...from];
      for (let k = random(4) + 1; k > 0; k--) {
        const at = random(out.length + 1);
        const kind = random(3);
        if (kind === 0) out.splice(at, 0, `${tag} ${random(1000)}`);
        else if (kind === 1) out.splice(at, 1);
        else out.splice(at, 1, `${tag} changed ${random(1000)}`);
      }
      return out;
    };
    for (let trial = 0; trial < 300; trial++) {
      const base = Array.from({ length: 10 + random(30) }, (_, i) =>
        random(3) === 0 ? (vocabulary[random(vocabulary.length)] ?? '') : `line ${i}`,
      );
      const yours = edit(base, 'mine');
      const generated = edit(base, 'model');
      const text = (l: string[]): string => l.map((x) => `${x}\n`).join('');
      const ours = mergeFile(text(base), text(yours), text(generated));
      const whole = mergeDiff3(yours, base, generated, {
        label: { a: 'yours', o: 'last generation', b: 'generated' },
      });
      assert.equal(ours.clean, !whole.conflict, `trial ${trial}`);
      assert.equal(ours.content, text(whole.result), `trial ${trial}`);
    }
  });

  it('merges a 3,000-line file quickly', () => {
    const big = Array.from({ length: 3000 }, (_, i) => (i % 7 === 0 ? '' : `line ${i} }`)).join('\n') + '\n';
    const yours = big.replace('line 10 }', 'line 10 (edited) }');
    const generated = big.replace('line 2990 }', 'line 2990 (new) }');
    const started = performance.now();
    const result = mergeFile(big, yours, generated);
    const ms = performance.now() - started;
    assert.equal(result.clean, true);
    assert.match(result.content, /line 10 \(edited\)[\s\S]*line 2990 \(new\)/);
    assert.ok(ms < 2000, `took ${ms} ms`);
  });
});

describe('decideMergeAction', () => {
  const generated = sha256('new');
  const last = sha256('old');

  it('absent: create', () => assert.equal(decideMergeAction(generated, undefined, last), 'create'));
  it('identical to what is generated now: unchanged', () =>
    assert.equal(decideMergeAction(generated, generated, last), 'unchanged'));
  it('as we generated it last time: replace', () =>
    assert.equal(decideMergeAction(generated, last, last), 'replace'));
  it('edited by a person: merge', () =>
    assert.equal(decideMergeAction(generated, sha256('edited'), last), 'merge'));
  it('present but never generated by us: merge (added on both sides)', () =>
    assert.equal(decideMergeAction(generated, sha256('theirs'), undefined), 'merge'));
});

describe('mergeConflictError', () => {
  it('names each file (escaped) and its line ranges', () => {
    const error = mergeConflictError([
      {
        path: 'weather/app.py',
        conflicts: [
          { startLine: 3, endLine: 9 },
          { startLine: 20, endLine: 26 },
        ],
      },
      { path: 'evil\u202e.py', conflicts: [{ startLine: 1, endLine: 7 }] },
    ]);
    assert.ok(error instanceof MergeConflictError);
    assert.equal(error.subject, 'conflictPolicy');
    assert.deepEqual(error.paths, ['weather/app.py', 'evil\u202e.py']);
    assert.match(error.message, /2 file\(s\)/);
    assert.match(error.message, /"weather\/app\.py": lines 3-9, 20-26/);
    assert.match(error.message, /"evil\\u202e\.py": lines 1-7/);
    assert.doesNotMatch(error.message, /\u202e/);
    assert.match(error.describe(), /Nothing was written/);
  });
});

describe('base copies', () => {
  it('live beside the manifest, where generated paths may not go', () => {
    assert.equal(basePath('weather/app.py'), `${BASE_DIR}/weather/app.py`);
    assert.equal(BASE_DIR, '.synthesis/base');
    assert.throws(
      () =>
        checkPaths([{ path: basePath('app.py'), content: '' }], {
          deniedPaths: [],
          maxFiles: 9,
          maxTotalBytes: 99,
        }),
      PathError,
    );
  });
});
