/**
 * The one place that turns the outcome into a task result: typed errors become one clear message.
 */
import { INPUTS, OUTPUTS, type InputName } from './core/contract';
import { FindingsError, isSynthesisError, type CancelledError } from './core/errors';
import type { PipelineHost } from './core/ports';
import { parseSettings, type RawInputs, type Settings } from './core/settings';
import { renderBlockedSummary, renderSummary } from './core/summary';
import { synthesize, type SynthesisPorts, type SynthesisResult } from './core/synthesize';

export type Composer = (settings: Settings, host: PipelineHost) => Promise<SynthesisPorts>;

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
 * Never throws: every failure becomes a failed result with a message naming what to fix.
 */
export async function run(host: PipelineHost, compose: Composer): Promise<SynthesisResult | undefined> {
  try {
    const settings = parseSettings(readInputs(host));
    const result = await synthesize(settings, await compose(settings, host));
    publish(host, result);
    const { written, unchanged, skipped } = counts(result);
    // The store's commit throws CancelledError unless the move had started; once started it completes.
    const late = host.signal.aborted
      ? 'The run was cancelled after the files had started moving into place, so the move was completed: wrote'
      : 'Wrote';
    const findings = result.findings.length;
    host.setResult(
      findings ? 'SucceededWithIssues' : 'Succeeded',
      `${late} ${written} file(s) to ${result.outputDirectory}` +
        (unchanged ? `; ${unchanged} already identical` : '') +
        (skipped ? `; ${skipped} skipped (existing)` : '') +
        (findings ? `; the scan reported ${findings} finding(s) as warnings (see the issues)` : '') +
        '.',
    );
    return result;
  } catch (err) {
    if (err instanceof FindingsError) publishBlocked(host, err);
    const cancelled = isSynthesisError(err) && (err as Partial<CancelledError>).cancelled === true;
    host.setResult(cancelled ? 'Cancelled' : 'Failed', describeError(err, host));
    return undefined;
  }
}

/** Files created or overwritten, already identical, and skipped. */
function counts(result: SynthesisResult): { written: number; unchanged: number; skipped: number } {
  const unchanged = result.manifest.files.filter((f) => f.action === 'unchanged').length;
  return {
    written: result.manifest.files.length - unchanged,
    unchanged,
    skipped: result.manifest.skipped.length,
  };
}

function publish(host: PipelineHost, result: SynthesisResult): void {
  const { manifest } = result;
  host.setOutput(OUTPUTS.filesWritten, String(counts(result).written));
  host.setOutput(OUTPUTS.manifestPath, result.manifestPath);
  host.setOutput(OUTPUTS.outputDirectory, result.outputDirectory);
  host.setOutput(OUTPUTS.serviceName, manifest.intent.serviceName ?? '');
  host.setOutput(OUTPUTS.language, manifest.intent.language ?? '');
  host.setOutput(OUTPUTS.promptTokens, String(manifest.usage.promptTokens));
  host.setOutput(OUTPUTS.completionTokens, String(manifest.usage.completionTokens));
  host.setOutput(OUTPUTS.sarifPath, result.sarifPath ?? '');
  attachSummary(
    host,
    renderSummary({
      manifest,
      manifestPath: result.manifestPath,
      outputDirectory: result.outputDirectory,
      ...(result.modelSummary ? { modelSummary: result.modelSummary } : {}),
      findings: result.findings,
      ...(result.sarifPath ? { sarifPath: result.sarifPath } : {}),
    }),
  );
}

/** A run the scan stopped: the SARIF path for later steps, and the findings on the summary page. */
function publishBlocked(host: PipelineHost, err: FindingsError): void {
  host.setOutput(OUTPUTS.sarifPath, err.sarifPath ?? '');
  attachSummary(host, renderBlockedSummary(err.findings, err.sarifPath));
}

function attachSummary(host: PipelineHost, markdown: string): void {
  try {
    host.publishSummary(markdown);
  } catch (err) {
    host.warn(`Could not attach the summary: ${(err as Error).message}`);
  }
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
