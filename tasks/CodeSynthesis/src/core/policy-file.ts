/**
 * Organisation rules: a YAML file (input `policyFile`) of rules an organisation adds to the scan.
 *
 * ```yaml
 * rules:
 *   - id: no-api-keys                      # letters, digits, '.', '_', '-'; unique
 *     message: "API keys are forbidden here: use Entra ID"
 *     pattern: '\bapi[_-]?key\b\s*[:=]'    # a JavaScript regular expression
 *     ignoreCase: true                     # optional, default false
 *     files: ['src/**\/*.py', '*.ts']       # optional globs, see compileGlob
 *     severity: error                      # error (default) or warning
 * ```
 */
import picomatch from 'picomatch/posix';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { PolicyFileError } from './errors';
import type { OrganisationRule } from './pattern-runner';
import type { Severity } from './scan';
import { findSpans, withIndices } from './scan-rules/pattern';

const RULE_FIELDS = ['id', 'message', 'pattern', 'ignoreCase', 'files', 'severity'];
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const SEVERITIES: readonly Severity[] = ['error', 'warning'];

/**
 * Parse and validate a policy file.
 * @param file the file as the user named it, for messages.
 * @returns one rule per rule of the file, kind 'organisation', with its own id and its line.
 * @throws PolicyFileError listing every problem, each with its line.
 */
export function parsePolicyFile(text: string, file: string): OrganisationRule[] {
  const lines = new LineCounter();
  const doc = parseDocument(text.replace(/^\uFEFF/, ''), { lineCounter: lines, uniqueKeys: true });
  const lineOf = (node: unknown): number => {
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    return range ? lines.linePos(range[0]).line : 1;
  };
  if (doc.errors.length > 0)
    throw new PolicyFileError(
      file,
      doc.errors.map((e) => `line ${e.linePos?.[0]?.line ?? 1}: not valid YAML: ${yamlProblem(e.message)}`),
    );
  const problems: string[] = [];
  const fail = (node: unknown, message: string) => problems.push(`line ${lineOf(node)}: ${message}`);

  const root = doc.contents;
  if (!isMap(root) || !root.has('rules'))
    throw new PolicyFileError(file, [`line ${lineOf(root)}: the file must be a mapping with a 'rules' list`]);
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    if (key !== 'rules') fail(pair.key, `unknown field '${key}' (the file has only 'rules')`);
  }
  const list = root.get('rules', true) as Node | undefined;
  if (!isSeq(list) || list.items.length === 0) {
    fail(list ?? root, "'rules' must be a non-empty list of rules");
    throw new PolicyFileError(file, problems);
  }

  const rules: OrganisationRule[] = [];
  const ids = new Map<string, number>();
  for (const item of list.items) {
    if (!isMap(item)) {
      fail(item, 'each rule must be a mapping with id, message and pattern');
      continue;
    }
    for (const pair of item.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      if (!RULE_FIELDS.includes(key))
        fail(pair.key, `unknown field '${key}' (known: ${RULE_FIELDS.join(', ')})`);
    }
    const node = (key: string) => item.get(key, true) as Node | undefined;
    const text = (key: string): string | undefined => {
      const n = node(key);
      if (n === undefined || (isScalar(n) && (n.value === null || n.value === ''))) {
        fail(item, `'${key}' is required`);
        return undefined;
      }
      if (!isScalar(n) || typeof n.value !== 'string') {
        fail(n, `'${key}' must be text`);
        return undefined;
      }
      return n.value;
    };

    const id = text('id');
    if (id !== undefined) {
      if (!ID.test(id))
        fail(
          node('id'),
          `id '${id}' must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
        );
      const earlier = ids.get(id.toLowerCase());
      if (earlier !== undefined) fail(node('id'), `id '${id}' is used twice (first on line ${earlier})`);
      else ids.set(id.toLowerCase(), lineOf(node('id')));
    }
    const message = text('message')?.trim();
    if (message !== undefined && message.length > 500)
      fail(node('message'), "'message' is longer than 500 characters");

    let ignoreCase = false;
    const ic = node('ignoreCase');
    if (ic !== undefined) {
      if (isScalar(ic) && typeof ic.value === 'boolean') ignoreCase = ic.value;
      else fail(ic, "'ignoreCase' must be true or false");
    }

    let severity: Severity = 'error';
    const sev = node('severity');
    if (sev !== undefined) {
      const value = isScalar(sev) ? String(sev.value) : '';
      if ((SEVERITIES as readonly string[]).includes(value)) severity = value as Severity;
      else fail(sev, `'severity' must be one of ${SEVERITIES.join(', ')}`);
    }

    const source = text('pattern');
    let pattern: RegExp | undefined;
    const control = source === undefined ? undefined : /[\x00-\x1F\x7F]/.exec(source)?.[0];
    if (source !== undefined && control !== undefined) {
      fail(node('pattern'), controlCharacterProblem(source, control));
    } else if (source !== undefined) {
      try {
        pattern = new RegExp(source, ignoreCase ? 'i' : '');
        if (pattern.test('')) {
          fail(node('pattern'), `pattern '${source}' matches empty text, so it would match everywhere`);
          pattern = undefined;
        }
      } catch (error) {
        fail(
          node('pattern'),
          `pattern '${source}' is not a valid regular expression (${(error as Error).message})`,
        );
      }
    }

    const matchers: ((path: string) => boolean)[] = [];
    const filesNode = node('files');
    if (filesNode !== undefined) {
      const entries = isSeq(filesNode) ? filesNode.items : [filesNode];
      for (const entry of entries) {
        if (!isScalar(entry) || typeof entry.value !== 'string' || !entry.value.trim()) {
          fail(entry, "'files' must be a glob or a list of globs");
          continue;
        }
        const glob = entry.value.trim();
        try {
          matchers.push(compileGlob(glob));
        } catch (error) {
          fail(entry, `glob '${glob}' in 'files' is not valid: ${globProblem((error as Error).message)}`);
        }
      }
    }

    if (id && ID.test(id) && message && pattern) {
      const regex = withIndices(pattern);
      rules.push({
        id,
        name: pascalCase(id),
        kind: 'organisation',
        severity,
        description: message,
        fix: '',
        pattern: regex,
        source: { file, line: lineOf(node('id')) },
        find: (content) => findSpans(regex, content).map(([start, end]) => ({ start, end })),
        ...(matchers.length ? { appliesTo: (path: string) => matchers.some((m) => m(path)) } : {}),
      });
    }
  }
  if (problems.length) throw new PolicyFileError(file, byLine(problems));
  return rules;
}

/**
 * A `files` glob as the README promises it, letter case ignored, dot files included:
 * - without '/', it matches the file name at any depth (`*.py`, `Dockerfile`);
 * - with '/', it matches the path from the output directory (`src/*.py`, `svc/**\/*.py`); a leading
 *   '/' or './' anchors it there too, and one ending in '/' matches everything below that folder.
 * @throws Error (picomatch's, naming the bracket) when a bracket, brace or parenthesis is not closed.
 */
export function compileGlob(glob: string): (path: string) => boolean {
  const anchored = glob.replace(/^(?:\.?\/)+/, '');
  const options = { dot: true, nocase: true, strictBrackets: true };
  if (!glob.includes('/')) {
    const matches = picomatch(glob, options);
    return (path) => matches(path.slice(path.lastIndexOf('/') + 1));
  }
  return picomatch(anchored.endsWith('/') ? anchored + '**' : anchored, options);
}

/** picomatch's `Missing closing: "}" - use "\\}" ...` (or `Missing opening: "("`) in words. */
function globProblem(message: string): string {
  const m = /^Missing (opening|closing): "(.)"/.exec(message);
  if (!m) return message;
  const pairs: Record<string, string> = { '{': '}', '[': ']', '(': ')' };
  if (m[1] === 'closing') {
    const opener = Object.keys(pairs).find((k) => pairs[k] === m[2]) ?? m[2]!;
    return `'${opener}' is not closed (write '\\${opener}' to match the character itself)`;
  }
  const closer = pairs[m[2]!] ?? m[2]!;
  return `'${closer}' has no opening '${m[2]}' (write '\\${closer}' to match the character itself)`;
}

/** The YAML library's message in words: its first line, without the position it repeats (the line is given apart). */
function yamlProblem(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '').replace(/:$/, '');
}

/** YAML's double-quoted escapes that make a control character of a regex escape. */
const DOUBLE_QUOTED_ESCAPES: Record<string, string> = {
  '\x00': '\\0',
  '\x07': '\\a',
  '\b': '\\b',
  '\t': '\\t',
  '\n': '\\n',
  '\v': '\\v',
  '\f': '\\f',
  '\r': '\\r',
  '\x1B': '\\e',
};

function controlCharacterProblem(source: string, control: string): string {
  const code = `U+${control.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
  const escape = DOUBLE_QUOTED_ESCAPES[control];
  const meant = [...source].map((c) => DOUBLE_QUOTED_ESCAPES[c] ?? c).join('');
  return (
    `pattern ${JSON.stringify(source)} holds a control character (${code})` +
    (escape ? `, which a double-quoted YAML string makes of '${escape}'` : '') +
    `: write the pattern in single quotes ('${meant}'), where a backslash stays a backslash`
  );
}

/** Problems in line order (stable for one line). */
function byLine(problems: readonly string[]): string[] {
  const line = (p: string) => Number(/^line (\d+)/.exec(p)?.[1] ?? 0);
  return [...problems].sort((a, b) => line(a) - line(b));
}

function pascalCase(id: string): string {
  return id
    .split(/[._-]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
}
