/**
 * Organisation rules: a YAML file (input `policyFile`) of rules an organisation adds to the scan.
 *
 * ```yaml
 * rules:
 *   - id: no-api-keys                      # letters, digits, '.', '_', '-'; unique
 *     message: "API keys are forbidden here: use Entra ID"
 *     pattern: '\bapi[_-]?key\b\s*[:=]'    # a JavaScript regular expression
 *     ignoreCase: true                     # optional, default false
 *     files: ['**\/*.py', '*.ts']           # optional globs; a glob without '/' matches the file name
 *     severity: error                      # error (default) or warning
 * ```
 */
import picomatch from 'picomatch/posix';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { PolicyFileError } from './errors';
import type { ScanRule, Severity } from './scan';
import { patternRule } from './scan-rules/pattern';

const RULE_FIELDS = ['id', 'message', 'pattern', 'ignoreCase', 'files', 'severity'];
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const SEVERITIES: readonly Severity[] = ['error', 'warning'];

/**
 * Parse and validate a policy file.
 * @param file the file as the user named it, for messages.
 * @returns one ScanRule per rule, kind 'organisation', with the rule's own id.
 * @throws PolicyFileError listing every problem, each with its line.
 */
export function parsePolicyFile(text: string, file: string): ScanRule[] {
  const lines = new LineCounter();
  const doc = parseDocument(text.replace(/^\uFEFF/, ''), { lineCounter: lines, uniqueKeys: true });
  const lineOf = (node: unknown): number => {
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    return range ? lines.linePos(range[0]).line : 1;
  };
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    throw new PolicyFileError(file, [
      `line ${first.linePos?.[0]?.line ?? 1}: not valid YAML (${first.code})`,
    ]);
  }
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

  const rules: ScanRule[] = [];
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
    if (source !== undefined) {
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

    const globs: string[] = [];
    const filesNode = node('files');
    if (filesNode !== undefined) {
      const entries = isSeq(filesNode) ? filesNode.items : [filesNode];
      for (const entry of entries) {
        if (isScalar(entry) && typeof entry.value === 'string' && entry.value.trim())
          globs.push(entry.value.trim());
        else fail(entry, "'files' must be a glob or a list of globs");
      }
    }
    let matchers: ((path: string) => boolean)[] = [];
    try {
      matchers = globs.map((g) =>
        picomatch(g.replace(/^\.\//, ''), { dot: true, nocase: true, basename: true }),
      );
    } catch (error) {
      fail(filesNode, `a glob in 'files' is not valid (${(error as Error).message})`);
    }

    if (id && ID.test(id) && message && pattern) {
      rules.push(
        patternRule({
          id,
          name: pascalCase(id),
          kind: 'organisation',
          severity,
          description: message,
          fix: '',
          pattern,
          ...(matchers.length ? { appliesTo: (path: string) => matchers.some((m) => m(path)) } : {}),
        }),
      );
    }
  }
  if (problems.length) throw new PolicyFileError(file, byLine(problems));
  return rules;
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
