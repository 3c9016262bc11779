/**
 * The one place that turns the outcome into a task result: typed errors become one clear message.
 */
import { INPUTS, OUTPUTS, type InputName } from './core/contract';
import { FindingsError, isSynthesisError, type CancelledError } from './core/errors';
import type { PipelineHost, TaskOutcome } from './core/ports';
import { parseSettings, type ParseOptions, type RawInputs, type Settings } from './core/settings';
import { attachSummary, fileCounts } from './core/publish';
import { describeReuse } from './core/reuse-stage';
import { renderBlockedSummary } from './core/summary';
import { synthesize, type SynthesisPorts, type SynthesisResult } from './core/synthesize';

/** Builds the ports of one run from the settings and the host (compose.ts). */
export type Composer<H extends PipelineHost> = (settings: Settings, host: H) => Promise<SynthesisPorts>;

/** Read every input once into the raw record settings.ts validates. */
export function readInputs(host: PipelineHost): RawInputs {
  const raw: RawInputs = {};
  for (const name of Object.values(INPUTS) as InputName[]) {
    const value = host.getInput(name);
    if (value !== undefined) raw[name] = value;
  }
  return raw;
}

/**
 * Run the task against a host: settings -> synthesize -> outputs and summary -> result.
 * `options` carry a front door's own input syntax (the action's GitHub reviewers).
 * Never throws: every failure becomes a failed result with a message naming what to fix.
 */
export async function run<H extends PipelineHost>(
  host: H,
  compose: Composer<H>,
  options: ParseOptions = {},
): Promise<SynthesisResult | undefined> {
  try {
    const settings = parseSettings(readInputs(host), options);
    const result = await synthesize(settings, await compose(settings, host));
    host.setResult(...outcomeOf(result, host.signal.aborted));
    return result;
  } catch (err) {
    if (err instanceof FindingsError) publishBlocked(host, err);
    const cancelled = isSynthesisError(err) && (err as Partial<CancelledError>).cancelled === true;
    host.setResult(cancelled ? 'Cancelled' : 'Failed', describeError(err, host));
    return undefined;
  }
}

/** The result and its message for a run that produced files. */
function outcomeOf(result: SynthesisResult, cancelledLate: boolean): [TaskOutcome, string] {
  if (result.reused) return ['Succeeded', describeReuse(result)];
  const { written, unchanged, skipped } = fileCounts(result.manifest);
  const findings = result.findings.length;
  const { review } = result;
  const pullRequest = review
    ? `${review.created ? 'opened' : 'updated'} pull request ${review.pullRequestId} from '${review.branch}' (${review.pullRequestUrl})`
    : '';
  if (result.conflicts.length)
    return [
      'SucceededWithIssues',
      `Pushed the files to '${review?.branch ?? ''}' and ${pullRequest}, with merge conflicts in ${result.conflicts.length} file(s) (${result.conflicts.slice(0, 5).join(', ')}${result.conflicts.length > 5 ? ', ...' : ''}) for a person to resolve there; the output directory ${result.outputDirectory} was left unchanged.`,
    ];
  // The store's commit throws CancelledError unless the move had started; once started it completes.
  const late = cancelledLate
    ? 'The run was cancelled after the files had started moving into place, so the move was completed: wrote'
    : 'Wrote';
  return [
    findings ? 'SucceededWithIssues' : 'Succeeded',
    `${late} ${written} file(s) to ${result.outputDirectory}` +
      (unchanged ? `; ${unchanged} already identical` : '') +
      (skipped ? `; ${skipped} skipped (existing)` : '') +
      (findings ? `; the scan reported ${findings} finding(s) as warnings (see the issues)` : '') +
      (review ? `; ${pullRequest}` : '') +
      '.',
  ];
}

/** A run the scan stopped: the SARIF path for later steps, and the findings on the summary page. */
function publishBlocked(host: PipelineHost, err: FindingsError): void {
  host.setOutput(OUTPUTS.sarifPath, err.sarifPath ?? '');
  attachSummary({ log: host, report: host }, renderBlockedSummary(err.findings, err.sarifPath));
}

/** The user-facing message for any error; details and stacks go to debug output only. */
export function describeError(err: unknown, host: PipelineHost): string {
  if (isSynthesisError(err)) {
    // A cause may quote a remote response: debug output, through the untrusted channel.
    if (err.cause) host.untrusted(`Cause: ${String((err.cause as Error).stack ?? err.cause)}`, 'debug');
    return err.describe();
  }
  const e = err as Error;
  host.debug(String(e?.stack ?? e));
  return `Unexpected error: ${e?.message ?? String(err)}. Run with system.debug=true for details and report it if it persists.`;
}
