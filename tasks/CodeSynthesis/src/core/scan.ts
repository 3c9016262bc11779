/**
 * Scan: every file the reply would write is checked in memory, after the path checks and before the
 * write, by four rule sets: secrets (secretlint's recommended preset, behind the SecretScanner port,
 * and our Azure pack in scan-rules/azure.ts), placeholder credentials (scan-rules/placeholders.ts),
 * policy (scan-rules/policy.ts) and the organisation's own rules (policy-file.ts).
 *
 * A finding never carries the text it matched: only its place, its rule and a redacted excerpt (the
 * first characters, JSON-escaped, and the length), so it can be printed, published and stored.
 *
 * The model's own summary is scanned too, as the pseudo-file MODEL_SUMMARY, by the secret rules only:
 * it is published as text (the summary page, the CLI), so a credential in it must be found and cut.
 */
import { sha256 } from './manifest';
import { showPath } from './paths';
import { isOrganisationRule, runOrganisationRules, type PatternRunner } from './pattern-runner';
import type { FileToWrite } from './ports';

/**
 * The path under which findings in the model's summary are reported. No generated file can have it:
 * checkPaths refuses '<' and '>' (Windows does not allow them), so the model cannot name a file so
 * to have only the secret rules look at it.
 */
export const MODEL_SUMMARY = '<model summary>';

export type Severity = 'error' | 'warning';

/** Which rule set a rule belongs to: secrets and placeholders are credentials; policy and organisation rules are conventions. */
export type RuleKind = 'secret' | 'placeholder' | 'policy' | 'organisation';

/** What the SARIF log and the summary say about a rule. */
export interface RuleInfo {
  /** Stable id, e.g. 'azure/storage-account-key', 'secretlint/github', or an organisation rule's own id. */
  id: string;
  /** PascalCase name (SARIF reportingDescriptor.name). */
  name: string;
  kind: RuleKind;
  severity: Severity;
  /** One sentence: what the rule finds. */
  description: string;
  /** One sentence: what to do about a finding. */
  fix: string;
  helpUri?: string;
}

/** A place in a file's text that a rule matched: UTF-16 offsets into the content. */
export interface RuleMatch {
  start: number;
  end: number;
  /** Shown instead of the redacted excerpt when the match is not a piece of text (e.g. a file's size). */
  note?: string;
}

/** A rule run in core: pure, synchronous, over one file at a time. */
export interface ScanRule extends RuleInfo {
  /** Whether the rule looks at this file at all (default: every file). */
  appliesTo?(path: string): boolean;
  find(content: string, path: string): RuleMatch[];
}

/** A secret found by the SecretScanner port, with offsets into the file's content. */
export interface SecretMatch extends RuleMatch {
  path: string;
  ruleId: string;
}

/**
 * Secret detection by a maintained rule set (secretlint), behind a port so that core stays pure and
 * the library loads only when a scan runs.
 */
export interface SecretScanner {
  /** The rules the scanner runs, for the SARIF log. */
  readonly rules: readonly RuleInfo[];
  /** Every secret in the files. Never rejects for content: a file it cannot read is skipped. */
  scan(files: readonly FileToWrite[]): Promise<SecretMatch[]>;
}

/** One finding: where, which rule, what to do. Holds no matched text, only a redacted excerpt. */
export interface Finding {
  ruleId: string;
  kind: RuleKind;
  severity: Severity;
  /** Path relative to the output directory, '/'-separated, as checked by paths.ts; or MODEL_SUMMARY. */
  path: string;
  /** 1-based line and column (UTF-16 code units) of the match's start. */
  line: number;
  column: number;
  /** The matched span: UTF-16 offsets into the file's content (to cut it out, see redactSpans). */
  start: number;
  end: number;
  /** Redacted excerpt: the first characters (at most 4, fewer for short values), JSON-escaped, and the length; or the rule's note. */
  excerpt: string;
  /** Rule id, what was found and what to do: safe to print. */
  message: string;
}

export interface ScanReport {
  findings: Finding[];
  /** Every rule that ran, in a stable order (for SARIF's tool.driver.rules). */
  rules: RuleInfo[];
  files: number;
}

/**
 * Keys Microsoft publishes for its local emulators, which every developer has and which open nothing
 * in Azure: the Azurite storage emulator's account key (account `devstoreaccount1`,
 * https://learn.microsoft.com/azure/storage/common/storage-use-azurite#connection-strings) and the
 * Cosmos DB emulator's key (https://learn.microsoft.com/azure/cosmos-db/emulator#authentication). A
 * secret finding whose matched text is exactly one of them is dropped. Kept as SHA-256, so that this
 * source holds no key.
 */
export const PUBLISHED_DEVELOPMENT_KEYS: ReadonlyMap<string, string> = new Map([
  ['0011cc25eb4320717494d2703e8cba85743e71b500283c21c8b88147992f9059', 'Azurite storage emulator'],
  ['aa6547439583c3a275d4542a0df6c1ad6a863971be9f2a2220f027cc02aef615', 'Cosmos DB emulator'],
]);

export interface ScanOptions {
  rules: readonly ScanRule[];
  secrets?: SecretScanner;
  /**
   * Runs the organisation rules among `rules` off the main thread, within a time budget (see
   * pattern-runner.ts). Without one they run in-process, as the other rules do.
   */
  runner?: PatternRunner;
  /** Stops the organisation rules when the run is cancelled. */
  signal?: AbortSignal;
  /** The model's summary, scanned as MODEL_SUMMARY by the secret rules only. */
  summary?: string;
}

/**
 * Scan the files with the core rules and the secret scanner.
 * @returns the findings sorted by path, line, column and rule id; duplicates (same rule, same place) once.
 * @throws PolicyFileError when an organisation rule overran its time budget (with a runner).
 * @throws CancelledError when `signal` aborts while the organisation rules run.
 * @throws Error when a secret scanner reports a rule id it did not list (a bug, not a finding).
 */
export async function scanFiles(files: readonly FileToWrite[], options: ScanOptions): Promise<ScanReport> {
  const byId = new Map<string, RuleInfo>();
  for (const rule of [...options.rules, ...(options.secrets?.rules ?? [])]) byId.set(rule.id, rule);
  const summary = options.summary ? [{ path: MODEL_SUMMARY, content: options.summary }] : [];
  const contents = new Map([...files, ...summary].map((f) => [f.path, f.content]));
  const raw: { rule: RuleInfo; path: string; match: RuleMatch }[] = [];

  const guarded = options.runner ? options.rules.filter(isOrganisationRule) : [];
  const inline = options.rules.filter((rule) => !(options.runner && isOrganisationRule(rule)));
  for (const file of [...files, ...summary]) {
    for (const rule of inline) {
      if (file.path === MODEL_SUMMARY && rule.kind !== 'secret') continue;
      if (rule.appliesTo && !rule.appliesTo(file.path)) continue;
      for (const match of rule.find(file.content, file.path)) raw.push({ rule, path: file.path, match });
    }
  }
  if (guarded.length && options.runner)
    raw.push(...(await runOrganisationRules(guarded, files, options.runner, options.signal)));
  for (const match of (await options.secrets?.scan([...files, ...summary])) ?? []) {
    const rule = byId.get(match.ruleId);
    if (!rule) throw new Error(`The secret scanner reported rule '${match.ruleId}', which it does not list.`);
    if (contents.has(match.path)) raw.push({ rule, path: match.path, match });
  }

  const lineStarts = new Map<string, number[]>();
  const seen = new Set<string>();
  const findings: Finding[] = [];
  for (const { rule, path, match } of raw) {
    const content = contents.get(path)!;
    let starts = lineStarts.get(path);
    if (!starts) lineStarts.set(path, (starts = lineStartsOf(content)));
    const { line, column } = position(starts, match.start);
    const key = `${rule.id}\u0000${path}\u0000${match.start}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const text = content.slice(match.start, Math.max(match.start, match.end));
    if (rule.kind === 'secret' && PUBLISHED_DEVELOPMENT_KEYS.has(sha256(text))) continue;
    const excerpt = match.note ?? redact(text);
    findings.push({
      ruleId: rule.id,
      kind: rule.kind,
      severity: rule.severity,
      path,
      line,
      column,
      start: match.start,
      end: Math.max(match.start, match.end),
      excerpt,
      message: [`${rule.id}: ${rule.description}: ${excerpt}.`, rule.fix].filter(Boolean).join(' '),
    });
  }
  findings.sort(
    (a, b) =>
      compare(a.path, b.path) || a.line - b.line || a.column - b.column || compare(a.ruleId, b.ruleId),
  );
  return { findings, rules: [...byId.values()], files: files.length };
}

/**
 * A matched text as it may be shown: its first characters (4 when it is 16 or longer, 2 when 8 or
 * longer, none below), JSON-escaped, and its length. `"AKIA"… (20 characters)`.
 */
export function redact(text: string): string {
  const length = [...text].length;
  const shown = length >= 16 ? 4 : length >= 8 ? 2 : 0;
  const prefix = [...text].slice(0, shown).join('');
  return `${shown ? showPath(prefix) + '…' : '…'} (${length} character${length === 1 ? '' : 's'})`;
}

/**
 * `text` with the spans of these findings cut out, each replaced by `[redacted: <rule id>]`; spans
 * that overlap are cut as one.
 */
export function redactSpans(
  text: string,
  findings: readonly Pick<Finding, 'start' | 'end' | 'ruleId'>[],
): string {
  const spans = [...findings].filter((f) => f.end > f.start).sort((a, b) => a.start - b.start);
  let out = '';
  let at = 0;
  for (const f of spans) {
    if (f.end <= at) continue;
    out += text.slice(at, Math.max(at, f.start)) + (f.start >= at ? `[redacted: ${f.ruleId}]` : '');
    at = f.end;
  }
  return out + text.slice(at);
}

/** Findings by severity. */
export function countFindings(findings: readonly Finding[]): Record<Severity, number> {
  return {
    error: findings.filter((f) => f.severity === 'error').length,
    warning: findings.filter((f) => f.severity === 'warning').length,
  };
}

/** Offsets at which each line starts; '\r\n', '\n' and a lone '\r' end a line. */
function lineStartsOf(content: string): number[] {
  const starts = [0];
  for (let i = 0; i < content.length; i++) {
    const c = content.charCodeAt(i);
    if (c === 10 || (c === 13 && content.charCodeAt(i + 1) !== 10)) starts.push(i + 1);
  }
  return starts;
}

function position(starts: readonly number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - starts[lo]! + 1 };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
