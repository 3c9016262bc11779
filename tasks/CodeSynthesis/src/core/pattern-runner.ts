/**
 * Organisation rules run where a catastrophic pattern cannot hang the run. Their regular expressions
 * are the organisation's, not ours: `^(\s*\w+\s*)+=` on a 36-letter word takes longer than the age of
 * the universe, and a regular expression runs synchronously, deaf to the agent's cancel. So core hands
 * them to a PatternRunner (adapters/scan/worker-pattern-runner.ts: a worker thread, terminated when a
 * rule overruns its budget on a file or the run is cancelled), and turns an overrun into an error
 * naming the rule, its line in the policy file and the generated file.
 */
import { CancelledError, PolicyFileError } from './errors';
import { showPath } from './paths';
import type { FileToWrite } from './ports';
import type { RuleMatch, ScanRule } from './scan';

/** A rule of the policy file: a ScanRule (whose `find` runs in-process) that also says where it was written. */
export interface OrganisationRule extends ScanRule {
  kind: 'organisation';
  /** Flags 'g' and 'd' included. */
  pattern: RegExp;
  /** The policy file as the user named it, and the line of the rule's id. */
  source: { file: string; line: number };
}

/** One rule (an index into `patterns`) on one file (an index into `contents`). */
export interface PatternJob {
  pattern: number;
  file: number;
}

/** The spans each job found, in job order; or the job that overran the budget. */
export type PatternRun = { spans: [number, number][][] } | { timedOut: number };

/**
 * Runs regular expressions we did not write: each job within `budgetMs`, and not on the thread that
 * must hear the cancel. Matching is findSpans (core/scan-rules/pattern.ts).
 */
export interface PatternRunner {
  /** How long one rule may take on one file. */
  readonly budgetMs: number;
  /** @throws CancelledError when `signal` aborts; the patterns stop at once. */
  run(
    patterns: readonly RegExp[],
    contents: readonly string[],
    jobs: readonly PatternJob[],
    signal?: AbortSignal,
  ): Promise<PatternRun>;
}

/** Whether a rule came from the policy file. */
export function isOrganisationRule(rule: ScanRule): rule is OrganisationRule {
  return rule.kind === 'organisation' && 'pattern' in rule && 'source' in rule;
}

/**
 * Run the organisation rules over the files through the runner.
 * @returns each rule's matches, with the file they are in.
 * @throws PolicyFileError naming the rule, its line and the file when a rule overran its budget.
 * @throws CancelledError when `signal` aborts.
 */
export async function runOrganisationRules(
  rules: readonly OrganisationRule[],
  files: readonly FileToWrite[],
  runner: PatternRunner,
  signal?: AbortSignal,
): Promise<{ rule: OrganisationRule; path: string; match: RuleMatch }[]> {
  const jobs: PatternJob[] = [];
  rules.forEach((rule, pattern) =>
    files.forEach((f, file) => {
      if (!rule.appliesTo || rule.appliesTo(f.path)) jobs.push({ pattern, file });
    }),
  );
  if (jobs.length === 0) return [];
  if (signal?.aborted) throw new CancelledError();
  const run = await runner.run(
    rules.map((r) => r.pattern),
    files.map((f) => f.content),
    jobs,
    signal,
  );
  if ('timedOut' in run) {
    const job = jobs[run.timedOut]!;
    throw ruleTimeoutError(rules[job.pattern]!, files[job.file]!.path, runner.budgetMs);
  }
  return run.spans.flatMap((spans, i) => {
    const job = jobs[i]!;
    return spans.map(([start, end]) => ({
      rule: rules[job.pattern]!,
      path: files[job.file]!.path,
      match: { start, end },
    }));
  });
}

/** The error for a rule that overran its budget: which rule, where it is written, on which file. */
export function ruleTimeoutError(rule: OrganisationRule, path: string, budgetMs: number): PolicyFileError {
  const seconds = budgetMs >= 1000 ? `${budgetMs / 1000} s` : `${budgetMs} ms`;
  return new PolicyFileError(
    rule.source.file,
    [
      `line ${rule.source.line}: rule '${rule.id}' took longer than ${seconds} on ${showPath(path)}, so the scan stopped it: its pattern backtracks (nested quantifiers such as (\\s*\\w+\\s*)+ take exponential time on some text)`,
    ],
    'Nothing was written. Rewrite the pattern so that no text can be matched in more than one way (e.g. (\\s*\\w+\\s*)+ as [\\s\\w]+), then run again.',
  );
}
