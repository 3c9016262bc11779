/**
 * Organisation rules: the policy file's format, its validation (every problem with its line), and the
 * example in examples/ flagging the seed's api_key assignment.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PolicyFileError } from '../../tasks/CodeSynthesis/src/core/errors';
import { parsePolicyFile } from '../../tasks/CodeSynthesis/src/core/policy-file';
import { scanFiles } from '../../tasks/CodeSynthesis/src/core/scan';
import { REPO_ROOT } from '../support/repo';
import { SEED_FLASK_APP } from '../support/scan';

const EXAMPLE = fs.readFileSync(path.join(REPO_ROOT, 'examples', 'policy.yaml'), 'utf8');

function problems(text: string): readonly string[] {
  try {
    parsePolicyFile(text, 'policy.yaml');
  } catch (err) {
    assert.ok(err instanceof PolicyFileError, String(err));
    assert.equal(err.subject, 'policyFile');
    return err.problems;
  }
  assert.fail('the policy file was accepted');
}

describe('policy file', () => {
  it("examples/policy.yaml flags the seed's api_key assignment with its message, in source files only", async () => {
    const rules = parsePolicyFile(EXAMPLE, 'examples/policy.yaml');
    assert.deepEqual(
      rules.map((r) => [r.id, r.kind, r.severity]),
      [
        ['no-api-keys', 'organisation', 'error'],
        ['no-plain-http', 'organisation', 'warning'],
      ],
    );
    const report = await scanFiles(
      [
        { path: 'weather/app.py', content: SEED_FLASK_APP },
        { path: 'weather/README.md', content: 'Set api_key: in the portal.\n' },
        {
          path: 'web/client.ts',
          content: 'const apiKey = await getToken();\nfetch("http://api.example.com");\n',
        },
        {
          path: 'web/ok.ts',
          content: 'const credential = new DefaultAzureCredential();\nfetch("http://localhost:8080");\n',
        },
      ],
      { rules },
    );
    assert.deepEqual(
      report.findings.map((f) => [f.path, f.line, f.ruleId, f.severity]),
      [
        ['weather/app.py', 6, 'no-api-keys', 'error'],
        ['web/client.ts', 1, 'no-api-keys', 'error'],
        ['web/client.ts', 2, 'no-plain-http', 'warning'],
      ],
    );
    assert.match(report.findings[0]!.message, /^no-api-keys: API keys are forbidden here: use Entra ID/);
  });

  it('reports every problem with its line', () => {
    const text = [
      'rules:', //                                     1
      '  - id: ok-rule', //                             2
      '    message: fine', //                           3
      "    pattern: 'x+'", //                           4
      '  - id: ok-rule', //                             5
      '    message: again', //                          6
      "    pattern: '(unclosed'", //                    7
      '    severity: fatal', //                         8
      '  - id: has/slash', //                           9
      "    pattern: 'a*'", //                           10
      '    colour: red', //                             11
      '  - message: no id', //                          12
      "    pattern: 'y'", //                            13
      '    files: [3]', //                              14
      '    ignoreCase: maybe', //                       15
    ].join('\n');
    assert.deepEqual(problems(text), [
      "line 5: id 'ok-rule' is used twice (first on line 2)",
      "line 7: pattern '(unclosed' is not a valid regular expression (Invalid regular expression: /(unclosed/: Unterminated group)",
      "line 8: 'severity' must be one of error, warning",
      "line 9: id 'has/slash' must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
      "line 9: 'message' is required",
      "line 10: pattern 'a*' matches empty text, so it would match everywhere",
      "line 11: unknown field 'colour' (known: id, message, pattern, ignoreCase, files, severity)",
      "line 12: 'id' is required",
      "line 14: 'files' must be a glob or a list of globs",
      "line 15: 'ignoreCase' must be true or false",
    ]);
  });

  it('refuses a file without rules, broken YAML and unknown top-level fields', () => {
    assert.deepEqual(problems('rules: []\n'), ["line 1: 'rules' must be a non-empty list of rules"]);
    assert.deepEqual(problems('- id: x\n'), ["line 1: the file must be a mapping with a 'rules' list"]);
    assert.deepEqual(problems('rules:\n  - id: [\n'), [problems('rules:\n  - id: [\n')[0]!]);
    assert.match(problems('rules:\n  - id: [\n')[0]!, /^line \d+: not valid YAML/);
    assert.deepEqual(problems("version: 2\nrules:\n  - {id: a, message: m, pattern: 'b'}\n"), [
      "line 1: unknown field 'version' (the file has only 'rules')",
    ]);
  });

  it('matches a glob without a slash against the file name, and ignoreCase', async () => {
    const rules = parsePolicyFile(
      "rules:\n  - {id: no-todo, message: No TODOs, pattern: 'todo', ignoreCase: true, files: '*.py', severity: warning}\n",
      'p.yaml',
    );
    const report = await scanFiles(
      [
        { path: 'deep/er/a.py', content: '# TODO\n' },
        { path: 'a.js', content: '// TODO\n' },
      ],
      { rules },
    );
    assert.deepEqual(
      report.findings.map((f) => [f.path, f.ruleId, f.severity]),
      [['deep/er/a.py', 'no-todo', 'warning']],
    );
  });
});

describe('policy file: globs in files', () => {
  /** The paths a rule with these globs applies to, out of PATHS. */
  async function applied(globs: string[]): Promise<string[]> {
    const rules = parsePolicyFile(
      `rules:\n  - id: any\n    message: m\n    pattern: 'x'\n    files: ${JSON.stringify(globs)}\n`,
      'p.yaml',
    );
    const report = await scanFiles(
      PATHS.map((path) => ({ path, content: 'x\n' })),
      { rules },
    );
    return report.findings.map((f) => f.path);
  }
  const PATHS = [
    'main.py',
    'svc/main.py',
    'svc/app/main.py',
    'src/a.py',
    'src/deep/b.py',
    'other/src/c.py',
    'k8s/deploy.yaml',
    'deploy/k8s/x.yaml',
    'web/app.ts',
  ];

  const CASES: [string[], string[]][] = [
    // A glob without '/' matches the file name at any depth.
    [['*.py'], ['main.py', 'other/src/c.py', 'src/a.py', 'src/deep/b.py', 'svc/app/main.py', 'svc/main.py']],
    [['main.py'], ['main.py', 'svc/app/main.py', 'svc/main.py']],
    // With '/', it matches the path from the output directory.
    [['svc/**/*.py'], ['svc/app/main.py', 'svc/main.py']],
    [['src/*.py'], ['src/a.py']],
    [['/src/*.py'], ['src/a.py']],
    [['./src/*.py'], ['src/a.py']],
    [['k8s/*.yaml'], ['k8s/deploy.yaml']],
    [['**/k8s/*.yaml'], ['deploy/k8s/x.yaml', 'k8s/deploy.yaml']],
    [['src/'], ['src/a.py', 'src/deep/b.py']],
    [
      ['*.{ts,yaml}', 'SRC/*.PY'],
      ['deploy/k8s/x.yaml', 'k8s/deploy.yaml', 'src/a.py', 'web/app.ts'],
    ],
  ];
  for (const [globs, expected] of CASES) {
    it(`files: ${JSON.stringify(globs)}`, async () => {
      assert.deepEqual(await applied(globs), expected);
    });
  }

  it('reports each bad glob with its line', () => {
    const text = [
      'rules:', //                                  1
      '  - id: a', //                               2
      '    message: m', //                          3
      "    pattern: 'x'", //                        4
      '    files:', //                              5
      "      - '*.py'", //                          6
      "      - '**/*.{py'", //                      7
      "      - '['", //                             8
      "      - 'a)'", //                            9
    ].join('\n');
    assert.deepEqual(problems(text), [
      "line 7: glob '**/*.{py' in 'files' is not valid: '{' is not closed (write '\\{' to match the character itself)",
      "line 8: glob '[' in 'files' is not valid: '[' is not closed (write '\\[' to match the character itself)",
      "line 9: glob 'a)' in 'files' is not valid: ')' has no opening '(' (write '\\)' to match the character itself)",
    ]);
  });
});

describe('policy file: what YAML does to a pattern, and YAML errors', () => {
  it('refuses a double-quoted pattern whose \\b became a backspace, and says to use single quotes', () => {
    const found = problems('rules:\n  - id: a\n    message: m\n    pattern: "\\bapi_key\\b"\n');
    assert.equal(found.length, 1);
    assert.match(found[0]!, /^line 4: pattern "\\bapi_key\\b" holds a control character \(U\+0008\)/);
    assert.match(found[0]!, /write the pattern in single quotes \('\\bapi_key\\b'\)/);
  });

  it('accepts the same pattern in single quotes, and it matches', async () => {
    const rules = parsePolicyFile(
      "rules:\n  - id: a\n    message: m\n    pattern: '\\bapi_key\\b'\n",
      'p.yaml',
    );
    const report = await scanFiles([{ path: 'a.py', content: 'api_key = 1\n' }], { rules });
    assert.equal(report.findings.length, 1);
  });

  it('reports every YAML error, each with its line and in words', () => {
    const found = problems(
      ['rules:', '  - id: [', '  - id: x', '   bad: 1', '  - id: y', '    id: z'].join('\n') + '\n',
    );
    assert.ok(found.length >= 2, found.join('\n'));
    for (const p of found) assert.match(p, /^line \d+: not valid YAML: [A-Z][a-z]+ [a-z]+.*[^:]$/);
    assert.ok(
      found.some((p) => /^line 3: /.test(p)),
      found.join('\n'),
    );
    assert.ok(found.some((p) => /^line 6: .*unique/i.test(p)) || found.length >= 3, found.join('\n'));
    for (const p of found) assert.doesNotMatch(p, /\^|\n|at line \d+, column/);
  });
});
