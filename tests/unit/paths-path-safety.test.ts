import assert from 'node:assert/strict';
import { InputError, LimitError, PathError } from '../../tasks/CodeSynthesis/src/core/errors';
import {
  BUILTIN_DENIED,
  checkPaths,
  foldName,
  showPath,
  type PathRules,
} from '../../tasks/CodeSynthesis/src/core/paths';

const RULES: PathRules = { deniedPaths: [], maxFiles: 200, maxTotalBytes: 5 * 1024 * 1024 };
const file = (path: string, content = 'x'): { path: string; content: string } => ({ path, content });

function problemsOf(paths: string[], rules: PathRules = RULES): readonly string[] {
  try {
    checkPaths(
      paths.map((p) => file(p)),
      rules,
    );
  } catch (error) {
    assert.ok(error instanceof PathError, `expected a PathError, got ${String(error)}`);
    return error.problems;
  }
  return assert.fail(`expected ${JSON.stringify(paths)} to be rejected`);
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return assert.fail('expected a throw');
}

describe('checkPaths: path safety', () => {
  describe('accepts and normalises harmless paths', () => {
    const rows: [string, string][] = [
      ['src/index.ts', 'src/index.ts'],
      ['src\\app\\main.py', 'src/app/main.py'],
      ['./src/./a.ts', 'src/a.ts'],
      ['src//lib///b.ts', 'src/lib/b.ts'],
      ['.gitignore', '.gitignore'],
      ['.github-notes.md', '.github-notes.md'],
      ['docs/azure-pipelines-guide.md', 'docs/azure-pipelines-guide.md'],
      ['src/console.ts', 'src/console.ts'],
      ['src/COM10.txt', 'src/COM10.txt'],
      ['naïve/café.txt', 'naïve/café.txt'],
      ['a'.repeat(255), 'a'.repeat(255)],
    ];
    for (const [input, expected] of rows) {
      it(`${JSON.stringify(input)} -> ${JSON.stringify(expected)}`, () => {
        assert.deepEqual(checkPaths([file(input, 'body')], RULES), [{ path: expected, content: 'body' }]);
      });
    }
  });

  describe('rejects each attack, naming it', () => {
    const rows: [label: string, path: string, reason: RegExp][] = [
      ['absolute path', '/etc/passwd', /is absolute/],
      ['absolute with backslash', '\\Windows\\win.ini', /is absolute/],
      ['drive letter', 'C:\\Windows\\system.ini', /drive letter/],
      ['drive-relative', 'c:evil.txt', /drive letter/],
      ['UNC path', '\\\\server\\share\\x.txt', /UNC/],
      ['forward UNC', '//server/share/x.txt', /UNC/],
      ['device namespace', '\\\\?\\C:\\x.txt', /UNC/],
      ['parent segment', '../outside.txt', /'\.\.' segment/],
      ['parent in the middle', 'src/../../outside.txt', /'\.\.' segment/],
      ['parent with backslash', 'src\\..\\..\\x', /'\.\.' segment/],
      ['empty path', '', /is empty/],
      ['blank path', '   ', /is empty/],
      ['only dots and slashes', './', /names a folder/],
      ['trailing slash', 'src/', /names a folder/],
      ['trailing backslash', 'src\\', /names a folder/],
      ['trailing dot segment', 'src/.', /names a folder/],
      ['NUL character', 'src/a\u0000.ts', /control/],
      ['newline', 'src/a\n.ts', /control/],
      ['carriage return', 'a\r.txt', /control/],
      ['escape (ANSI)', '\u001b[31mred.txt', /control/],
      ['unit separator U+001F', 'a\u001f.txt', /control/],
      ['DEL', 'a\u007f.txt', /control/],
      ['C1 control U+009B', 'a\u009b.txt', /control/],
      ['bidi LRE U+202A', 'a\u202a.txt', /bidirectional/],
      ['bidi RLO U+202E', 'invoice\u202Etxt.exe', /bidirectional/],
      ['bidi LRI U+2066', 'a\u2066.txt', /bidirectional/],
      ['bidi PDI U+2069', 'a\u2069.txt', /bidirectional/],
      ['zero-width (HFS+ ignorable) in .git', '.g\u200cit/config', /invisible/],
      ['byte-order mark', '\ufeffa.txt', /invisible/],
      ['line separator U+2028', 'a\u2028b.txt', /invisible/],
      ['Unicode tag character U+E0041 (hidden text)', 'a\u{E0041}.txt', /invisible/],
      ['lone surrogate', 'a\ud800.txt', /invisible/],
      ['combining grapheme joiner U+034F (README͏.md beside README.md)', 'README\u034f.md', /invisible/],
      ['Hangul filler U+3164 as a whole name', 'src/\u3164.ts', /invisible/],
      ['halfwidth Hangul filler U+FFA0', 'a\uffa0.txt', /invisible/],
      ['Hangul choseong filler U+115F', 'a\u115f.txt', /invisible/],
      ['Braille blank U+2800', 'src/\u2800/a.ts', /blank/],
      ['variation selector U+FE0F', 'a\ufe0f.txt', /invisible/],
      ['variation selector supplement U+E0100', 'a\u{E0100}.txt', /invisible/],
      ['no-break space U+00A0', 'read\u00a0me.md', /blank/],
      ['ideographic space U+3000', 'a\u3000b.txt', /blank/],
      ['Mongolian vowel separator U+180E', 'a\u180eb.txt', /invisible/],
      ['reserved CON', 'CON', /reserved device name/],
      ['reserved con.txt lower case', 'src/con.txt', /reserved device name/],
      ['reserved PRN', 'PRN.md', /reserved device name/],
      ['reserved AUX with two extensions', 'Aux.tar.gz', /reserved device name/],
      ['reserved NUL', 'nul', /reserved device name/],
      ['reserved COM1', 'COM1.log', /reserved device name/],
      ['reserved COM9', 'com9', /reserved device name/],
      ['reserved LPT1', 'lpt1.txt', /reserved device name/],
      ['reserved LPT9', 'LPT9', /reserved device name/],
      ['reserved COM superscript', 'COM\u00b9.txt', /reserved device name/],
      ['reserved as folder', 'aux/readme.md', /reserved device name/],
      ['reserved with trailing space before extension', 'CON .txt', /reserved device name/],
      ['segment ending in dot', 'src/file.', /ends in '\.' or ' '/],
      ['folder ending in dot', 'src./a.ts', /ends in '\.' or ' '/],
      ['segment ending in space', 'src/file ', /ends in '\.' or ' '/],
      ['triple dot', '.../a.txt', /ends in '\.' or ' '/],
      ['less than', 'a<b.txt', /Windows does not allow/],
      ['greater than', 'a>b.txt', /Windows does not allow/],
      ['colon (NTFS stream)', 'a.txt:Zone.Identifier', /Windows does not allow/],
      ['double quote', 'a"b.txt', /Windows does not allow/],
      ['pipe', 'a|b.txt', /Windows does not allow/],
      ['question mark', 'a?.txt', /Windows does not allow/],
      ['asterisk', '*.txt', /Windows does not allow/],
      ['Windows short name of .git', 'GIT~1/config', /8\.3 short name/],
      ['Windows short name of .github', 'GITHUB~1/workflows/x.yml', /8\.3 short name/],
      ['Windows short name of a pipeline file', 'AZURE-~1.YML', /8\.3 short name/],
      ['second short name of .git', 'git~2/hooks/pre-commit', /8\.3 short name/],
      ['name over 255 bytes (ASCII)', 'a'.repeat(256), /longer than 255 bytes/],
      ['name over 255 bytes (multi-byte, 128 chars)', 'é'.repeat(128), /longer than 255 bytes/],
      [
        'path over 400 characters',
        `${'d'.repeat(100)}/`.repeat(4) + 'f.txt',
        /409 characters long; the limit is 400/,
      ],
      ['.git folder', '.git/config', /protected path \(\.git\/\*\*\)/],
      ['.git hooks', '.git/hooks/pre-commit', /protected path/],
      ['.git itself', '.git', /protected path/],
      ['.GIT any case', '.GIT/HEAD', /protected path/],
      ['nested .git', 'vendor/lib/.git/config', /protected path \(\*\*\/\.git\/\*\*\)/],
      ['azure-pipelines.yml at the root', 'azure-pipelines.yml', /protected path/],
      ['azure-pipelines*.yaml nested, any case', 'ci/Azure-Pipelines.Release.YAML', /protected path/],
      ['.azuredevops', '.azuredevops/pull_request_template.md', /protected path/],
      ['.github workflow', '.github/workflows/ci.yml', /protected path/],
      ['.github as a file', '.github', /protected path/],
      ['.synthesis manifest', '.synthesis/manifest.json', /protected path/],
      ["the writer's staging folder", '.synthesis-staging-abc/new/0', /protected path/],
      ["a file named like the writer's staging folder", '.synthesis-staging-0a1b2c3d4e5f', /protected path/],
      ['.gitmodules at the root', '.gitmodules', /protected path/],
      ['.gitmodules nested, any case', 'vendor/lib/.GitModules', /protected path/],
      ['.gitattributes at the root', '.gitattributes', /protected path/],
      ['.gitattributes nested', 'src/.gitattributes', /protected path/],
      ['denied via backslashes', '.github\\workflows\\x.yml', /protected path/],
      ['denied via ./', './.git/config', /protected path/],
    ];
    for (const [label, path, reason] of rows) {
      it(label, () => {
        const problems = problemsOf([path]);
        assert.equal(problems.length, 1);
        assert.match(problems[0]!, reason);
        assert.ok(problems[0]!.startsWith(showPath(path) + ':'), `names the path: ${problems[0]}`);
      });
    }
  });

  describe('rejects collisions between generated files', () => {
    it('the same path twice', () => {
      const problems = problemsOf(['src/a.ts', 'src/a.ts']);
      assert.deepEqual(problems, ['"src/a.ts": is proposed more than once']);
    });
    it('the same path twice after normalisation', () => {
      assert.match(problemsOf(['src/a.ts', '.\\src//a.ts'])[0]!, /more than once/);
    });
    it('names that differ only in case', () => {
      assert.deepEqual(problemsOf(['README.md', 'readme.md']), [
        '"readme.md": differs only in letter case or Unicode form from "README.md"',
      ]);
    });
    it('folders that differ only in case', () => {
      assert.match(problemsOf(['Src/a.ts', 'src/a.ts'])[0]!, /differs only in letter case/);
    });
    it('NFC and NFD spellings of the same name', () => {
      const nfc = 'caf\u00e9.txt';
      const nfd = 'cafe\u0301.txt';
      assert.notEqual(nfc, nfd);
      assert.match(problemsOf([nfc, nfd])[0]!, /Unicode form/);
    });
    it('folders that differ only in case, holding different files', () => {
      assert.deepEqual(problemsOf(['Src/a.txt', 'src/b.txt']), [
        '"src/b.txt": folder "src" differs only in letter case or Unicode form from "Src" (of "Src/a.txt")',
      ]);
    });
    it('folders in NFC and NFD, holding different files', () => {
      const problems = problemsOf(['caf\u00e9/a.txt', 'cafe\u0301/b.txt']);
      assert.equal(problems.length, 1);
      assert.match(
        problems[0]!,
        /^"cafe\u0301\/b\.txt": folder "cafe\u0301" differs only in letter case or Unicode form from "caf\u00e9"/,
      );
    });
    it('a deeper folder that differs only in case, below a shared one', () => {
      assert.match(
        problemsOf(['app/Models/user.ts', 'app/models/order.ts', 'app/models/item.ts'])[0]!,
        /^"app\/models\/order\.ts": folder "app\/models" differs only in letter case/,
      );
      assert.equal(problemsOf(['app/Models/user.ts', 'app/models/order.ts', 'app/models/item.ts']).length, 2);
    });
    it('a folder and a file in the same folder may share a name prefix', () => {
      assert.equal(checkPaths([file('src/a.ts'), file('src.ts'), file('SRCX/b.ts')], RULES).length, 3);
    });
    it('a file that is also a parent folder of another', () => {
      assert.deepEqual(problemsOf(['src/lib', 'src/lib/a.ts']), [
        '"src/lib": is a file, but "src/lib/a.ts" needs it to be a folder',
      ]);
    });
    it('a file that is a parent folder of another, in another case and order', () => {
      assert.match(
        problemsOf(['docs/API/index.md', 'docs/api'])[0]!,
        /"docs\/api": is a file, but "docs\/API\/index.md" needs it to be a folder/,
      );
    });
  });

  describe('deniedPaths globs from the user', () => {
    const rows: [glob: string, path: string][] = [
      ['secrets/**', 'secrets/prod.env'],
      ['**/*.pem', 'certs/deep/server.pem'],
      ['*.env', '.env'],
      ['Dockerfile', 'dockerfile'],
      ['infra', 'infra/main.bicep'],
      ['./config/**', 'config/app.json'],
      ['/deploy/*.yml', 'deploy/prod.yml'],
      ['src/{a,b}.ts', 'src/b.ts'],
    ];
    for (const [glob, path] of rows) {
      it(`'${glob}' denies ${path}`, () => {
        const problems = problemsOf([path], { ...RULES, deniedPaths: [glob] });
        assert.deepEqual(problems, [`${showPath(path)}: matches deniedPaths '${glob}'`]);
      });
    }
    it('leaves paths the globs do not match', () => {
      const out = checkPaths([file('src/app.ts'), file('README.md')], {
        ...RULES,
        deniedPaths: ['secrets/**', '**/*.pem'],
      });
      assert.deepEqual(
        out.map((f) => f.path),
        ['src/app.ts', 'README.md'],
      );
    });
    it('an invalid glob is an InputError on deniedPaths', () => {
      assert.throws(
        () => checkPaths([file('a.txt')], { ...RULES, deniedPaths: ['./'] }),
        (e: unknown) => e instanceof InputError && e.subject === 'deniedPaths',
      );
    });
    it('user globs cannot remove the built-in ones', () => {
      assert.ok(BUILTIN_DENIED.includes('.git/**'));
      assert.match(
        problemsOf(['.git/config'], { ...RULES, deniedPaths: ['!.git/**'] })[0]!,
        /protected path/,
      );
    });
  });

  describe('limits', () => {
    it('more files than maxFiles is a LimitError naming maxFiles and both numbers', () => {
      const files = ['a', 'b', 'c'].map((p) => file(p));
      assert.throws(
        () => checkPaths(files, { ...RULES, maxFiles: 2 }),
        (e: unknown) =>
          e instanceof LimitError &&
          e.subject === 'maxFiles' &&
          /3 files were proposed; maxFiles is 2/.test(e.message),
      );
    });
    it('exactly maxFiles is accepted', () => {
      assert.equal(checkPaths([file('a'), file('b')], { ...RULES, maxFiles: 2 }).length, 2);
    });
    it('more UTF-8 bytes than maxTotalBytes is a LimitError naming maxTotalSizeKB and both sizes', () => {
      // 1024 two-byte characters: 1024 UTF-16 units but 2048 bytes.
      const files = [file('a.txt', 'é'.repeat(1024))];
      assert.throws(
        () => checkPaths(files, { ...RULES, maxTotalBytes: 2047 }),
        (e: unknown) =>
          e instanceof LimitError &&
          e.subject === 'maxTotalSizeKB' &&
          /2048 bytes \(2 KB\); maxTotalSizeKB is 1 \(2047 bytes\)/.test(e.message),
      );
      assert.equal(checkPaths(files, { ...RULES, maxTotalBytes: 2048 }).length, 1);
    });
    it('both limits exceeded are reported together', () => {
      assert.throws(
        () => checkPaths([file('a', 'xx'), file('b', 'yy')], { ...RULES, maxFiles: 1, maxTotalBytes: 3 }),
        (e: unknown) =>
          e instanceof LimitError && /maxFiles is 1/.test(e.message) && /maxTotalSizeKB/.test(e.message),
      );
    });
  });

  describe('reporting', () => {
    it('gathers every problem of every path into one PathError', () => {
      const problems = problemsOf([
        'ok.ts',
        '/abs',
        '../up',
        'CON',
        'same.txt',
        'SAME.txt',
        '.git/x',
        'src/a\u202e.ts',
      ]);
      assert.equal(problems.length, 6);
      assert.deepEqual(
        problems.map((p) => p.slice(0, p.indexOf(':'))),
        ['"/abs"', '"../up"', '"CON"', '"SAME.txt"', '".git/x"', '"src/a\\u202e.ts"'],
      );
    });
    it('lists several reasons for one path on one line', () => {
      const [line, ...rest] = problemsOf(['C:\\..\\CON\\a?.txt ']);
      assert.equal(rest.length, 0);
      for (const reason of [
        /drive letter/,
        /'\.\.' segment/,
        /reserved device name/,
        /Windows does not allow/,
        /ends in/,
      ])
        assert.match(line!, reason);
    });
    it('shows paths JSON-escaped, control and bidi characters visible', () => {
      assert.equal(showPath('a\u0000b\u202ec\n'), '"a\\u0000b\\u202ec\\n"');
      assert.equal(
        showPath('\u0085\u200b\u2028\u{E0041}\ud800'),
        '"\\u0085\\u200b\\u2028\\udb40\\udc41\\ud800"',
      );
      const message = (() => {
        try {
          checkPaths([file('x\u001b[2J.txt')], RULES);
        } catch (e) {
          return (e as Error).message;
        }
        return '';
      })();
      assert.ok(message.includes('"x\\u001b[2J.txt"'));
      assert.ok(
        !/[\u0000-\u001f\u202a-\u202e]/.test(message.replace(/\n/g, '')),
        'no raw control characters in the message',
      );
    });
    it('escapes and cuts the names quoted in reasons too', () => {
      const paths = [
        'a\u001b[2J<.txt', // ESC in a name Windows rejects: the reason quotes the name
        'invoice\u202e.', // RLO in a name ending in '.'
        'CON\u200b.txt/x', // hidden character in a reserved name
        'x'.repeat(4_000_000) + '<', // one 4 MB name: quoted, it made a 6 MB message
        Array.from({ length: 20_000 }, (_, i) => `con.${i}`).join('/'), // 20,000 reserved names
      ];
      let message = '';
      try {
        checkPaths(
          paths.map((p) => file(p)),
          { ...RULES, maxTotalBytes: Infinity },
        );
      } catch (error) {
        assert.ok(error instanceof PathError);
        message = (error as PathError).describe();
      }
      assert.ok(message, 'rejected');
      assert.ok(message.length < 5000, `bounded message (${message.length} characters)`);
      assert.doesNotMatch(
        message.replace(/\n/g, ''),
        /[\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}]/u,
        'no raw control, format or invisible characters',
      );
      assert.match(message, /"a\\u001b\[2J<\.txt" contains a character Windows does not allow/);
      assert.match(message, /"invoice\\u202e\." ends in '\.' or ' '/);
      assert.match(message, /"con\.0" \(and 19999 more\) is a reserved device name on Windows/);
    });
    it('a PathError lists at most 20 problems in its message, and counts the rest', () => {
      const error = thrown(() =>
        checkPaths(
          Array.from({ length: 50 }, (_, i) => file(`/abs${i}`)),
          RULES,
        ),
      );
      assert.ok(error instanceof PathError);
      assert.equal(error.problems.length, 50);
      assert.equal(error.message.split('\n  - ').length - 1, 20);
      assert.match(error.message, /and 30 more\.$/);
    });
    it('ends the problem list with a full stop before the hint', () => {
      const error = thrown(() => checkPaths([file('/abs'), file('../up')], RULES)) as PathError;
      assert.match(error.describe(), /"\.\.\/up": contains a '\.\.' segment\.\nNothing was written\./);
    });
    it('cuts very long paths in messages', () => {
      const shown = showPath('a'.repeat(1000));
      assert.ok(shown.length < 130);
      assert.ok(shown.endsWith('…"'));
    });
    it('a non-string path is reported, not thrown as a TypeError', () => {
      assert.throws(
        () => checkPaths([{ path: 42 as unknown as string, content: '' }], RULES),
        (e: unknown) => e instanceof PathError && /"42": is not a string/.test(e.message),
      );
    });
  });

  it('rejects every default-ignorable code point and every blank other than the space', () => {
    const missed: string[] = [];
    for (let cp = 0x80; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const c = String.fromCodePoint(cp);
      if (!/[\p{Default_Ignorable_Code_Point}\p{White_Space}]/u.test(c)) continue;
      try {
        checkPaths([file(`a${c}b.txt`)], RULES);
        missed.push(cp.toString(16));
      } catch {
        /* rejected */
      }
    }
    assert.deepEqual(missed, []);
    assert.equal(checkPaths([file('read me.md')], RULES).length, 1, 'a plain space is fine');
  });

  it('names the hidden characters it found', () => {
    assert.match(problemsOf(['README\u034f.md'])[0]!, /\(U\+034F\)/);
  });

  it('foldName equates case and Unicode normal forms only', () => {
    assert.equal(foldName('Cafe\u0301.TXT'), foldName('caf\u00e9.txt'));
    assert.notEqual(foldName('a.txt'), foldName('b.txt'));
  });
});
