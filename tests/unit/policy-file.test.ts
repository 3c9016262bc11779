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
