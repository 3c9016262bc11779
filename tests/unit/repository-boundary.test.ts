/**
 * A clone anywhere passes its own tests: no test, script or build step reads a path outside the
 * repository (a folder beside the checkout, such as the team's shared folder, exists on our machines only).
 * Fixtures are carried in tests/fixtures with their source (tests/fixtures/SOURCES.md).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../support/repo';

/** Where code that runs at build or test time lives, relative to the repository root. */
const SCANNED_DIRS = ['tests', 'scripts', '.ci', 'bin'];
const SCANNED_FILES = ['package.json', 'tsconfig.json', 'eslint.config.mjs', '.mocharc.json'];
const TEXT = /\.(ts|mts|cts|js|mjs|cjs|json|sh)$|^run$/;

/** Text that names a folder beside the checkout or a machine-specific absolute path. */
const OUTSIDE_TEXT: readonly RegExp[] = [
  /\.\.[\\/]+shared\b/,
  /['"]shared['"]\s*,\s*['"]schemas['"]/,
  // The folders beside this checkout on our own machines (in-memory fakes use made-up agent paths such
  // as '/home/vsts/work/1/s' or '/work/out', which are fine).
  /['"`]\/work\/(shared|\.library)\b/,
];

/** `path.join(base, 'a', '..')` / `path.resolve(...)` with a known base and literal segments only. */
const PATH_CALL = /path\.(?:join|resolve)\(\s*(__dirname|ROOT|REPO_ROOT)\s*((?:,\s*'[^']*'\s*)+)\)/g;

/**
 * Problems in one file's text. `compiledDir` is where `__dirname` points when it runs (tests compile
 * to out/tests/...; scripts run where they are).
 */
export function boundaryProblems(text: string, compiledDir: string): string[] {
  const problems: string[] = [];
  text.split('\n').forEach((line, i) => {
    for (const re of OUTSIDE_TEXT) {
      if (re.test(line)) problems.push(`line ${i + 1}: names a path outside the repository: ${line.trim()}`);
    }
  });
  for (const m of text.matchAll(PATH_CALL)) {
    const base = m[1] === '__dirname' ? compiledDir : REPO_ROOT;
    const segments = [...m[2]!.matchAll(/'([^']*)'/g)].map((s) => s[1]!);
    const target = path.resolve(base, ...segments);
    const rel = path.relative(REPO_ROOT, target);
    if (rel.startsWith('..') || path.isAbsolute(rel)) {
      const line = text.slice(0, m.index).split('\n').length;
      problems.push(`line ${line}: ${m[0]} resolves outside the repository (${target})`);
    }
  }
  return problems;
}

function filesToScan(): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (TEXT.test(entry.name) && !full.includes(`${path.sep}fixtures${path.sep}`)) found.push(full);
    }
  };
  for (const dir of SCANNED_DIRS)
    if (fs.existsSync(path.join(REPO_ROOT, dir))) walk(path.join(REPO_ROOT, dir));
  for (const file of SCANNED_FILES)
    if (fs.existsSync(path.join(REPO_ROOT, file))) found.push(path.join(REPO_ROOT, file));
  return found;
}

function compiledDirOf(file: string): string {
  const rel = path.relative(REPO_ROOT, file);
  return rel.startsWith(`tests${path.sep}`)
    ? path.join(REPO_ROOT, 'out', path.dirname(rel))
    : path.dirname(file);
}

describe('repository boundary: tests and scripts read nothing outside the checkout', () => {
  it('finds no reference to a folder beside the checkout or another path outside the repository', () => {
    const files = filesToScan();
    assert.ok(files.length > 20, `expected to scan the test and script files, found ${files.length}`);
    const problems = files
      .filter((file) => path.basename(file) !== 'repository-boundary.test.ts')
      .flatMap((file) =>
        boundaryProblems(fs.readFileSync(file, 'utf8'), compiledDirOf(file)).map(
          (p) => `${path.relative(REPO_ROOT, file)} ${p}`,
        ),
      );
    assert.deepEqual(problems, []);
  });

  it('the check itself catches each way out', () => {
    const testsDir = path.join(REPO_ROOT, 'out', 'tests', 'unit');
    const [UP, SHARED] = ['..', 'sha' + 'red'];
    const cases = [
      // Built from pieces so that this file does not itself name the folder it guards against.
      `const SCHEMA = path.resolve(ROOT, '${UP}', '${SHARED}', 'schemas', 'task.schema.json');`,
      `fs.readFileSync('${UP}/${SHARED}/schemas/sarif.json')`,
      "const s = path.join(__dirname, '..', '..', '..', '..', 'elsewhere');",
      "const s = '/work/shared/schemas/x.json';",
    ];
    for (const text of cases) assert.equal(boundaryProblems(text, testsDir).length > 0, true, text);
    const inside =
      "const s = path.join(__dirname, '..', '..', 'tasks', 'CodeSynthesis'); const f = path.join(REPO_ROOT, 'tests', 'fixtures');";
    assert.deepEqual(boundaryProblems(inside, testsDir), []);
  });

  it('the fixtures a test reads are in the repository and SOURCES.md names each one', () => {
    const dir = path.join(REPO_ROOT, 'tests', 'fixtures');
    const sources = fs.readFileSync(path.join(dir, 'SOURCES.md'), 'utf8');
    for (const name of fs.readdirSync(dir).filter((n) => n !== 'SOURCES.md')) {
      assert.ok(sources.includes(`\`${name}\``), `tests/fixtures/SOURCES.md does not name ${name}`);
    }
  });
});
