/**
 * The publish stage: the output variables and the summary page of a run that succeeded.
 */
import { OUTPUTS } from './contract';
import type { Intent } from './intent';
import type { Manifest } from './manifest';
import type { Logger, PipelineHost } from './ports';
import type { ReviewResult } from './review';
import type { Finding } from './scan';
import { renderSummary } from './summary';

/** What a run produced. */
export interface SynthesisResult {
  intent: Intent;
  manifest: Manifest;
  /** Absolute path of the manifest. */
  manifestPath: string;
  outputDirectory: string;
  modelSummary?: string;
  /** Every scan finding; the files were written with them (as warnings, or warnings only). */
  findings: Finding[];
  /** The SARIF log, when one was written. */
  sarifPath?: string;
  /** reviewMode 'pullRequest': the push and the pull request. */
  review?: ReviewResult;
  /**
   * Files a pull request carries with conflict markers (conflictPolicy 'merge'); when there are any, the
   * output directory was left unchanged.
   */
  conflicts: string[];
  /** False when nothing was written to the output directory (conflicts sent for review, or a reuse). */
  written: boolean;
  /**
   * The last generation was reused (reuse-stage.ts): no model call, nothing written; `edited` are the
   * files people changed since, kept.
   */
  reused?: { edited: string[]; generatedAt: string };
}

export interface PublishPorts {
  log: Pick<Logger, 'warn'>;
  report: Pick<PipelineHost, 'setOutput' | 'publishSummary'>;
}

/** Set every output variable and attach the summary. A summary that cannot be attached is a warning. */
export function publish(result: SynthesisResult, ports: PublishPorts): void {
  const { manifest } = result;
  const { report } = ports;
  report.setOutput(OUTPUTS.filesWritten, String(result.written ? fileCounts(manifest).written : 0));
  report.setOutput(OUTPUTS.manifestPath, result.written ? result.manifestPath : '');
  report.setOutput(OUTPUTS.outputDirectory, result.outputDirectory);
  report.setOutput(OUTPUTS.serviceName, manifest.intent.serviceName ?? '');
  report.setOutput(OUTPUTS.language, manifest.intent.language ?? '');
  report.setOutput(OUTPUTS.promptTokens, String(manifest.usage.promptTokens));
  report.setOutput(OUTPUTS.completionTokens, String(manifest.usage.completionTokens));
  report.setOutput(OUTPUTS.sarifPath, result.sarifPath ?? '');
  report.setOutput(OUTPUTS.pullRequestId, result.review ? String(result.review.pullRequestId) : '');
  report.setOutput(OUTPUTS.pullRequestUrl, result.review?.pullRequestUrl ?? '');
  report.setOutput(OUTPUTS.reviewBranch, result.review?.branch ?? '');
  report.setOutput(OUTPUTS.reused, 'false');
  attachSummary(
    ports,
    renderSummary({
      manifest,
      manifestPath: result.manifestPath,
      outputDirectory: result.outputDirectory,
      ...(result.modelSummary ? { modelSummary: result.modelSummary } : {}),
      findings: result.findings,
      ...(result.sarifPath ? { sarifPath: result.sarifPath } : {}),
      ...(result.review ? { review: result.review } : {}),
      conflicts: result.conflicts,
      written: result.written,
    }),
  );
}

/** Files created or overwritten, already identical, and skipped. */
export function fileCounts(manifest: Manifest): { written: number; unchanged: number; skipped: number } {
  const unchanged = manifest.files.filter((f) => f.action === 'unchanged').length;
  return { written: manifest.files.length - unchanged, unchanged, skipped: manifest.skipped.length };
}

/** Attach markdown to the summary tab; a failure to do so is a warning, not a failed run. */
export function attachSummary(ports: PublishPorts, markdown: string): void {
  try {
    ports.report.publishSummary(markdown);
  } catch (err) {
    ports.log.warn(`Could not attach the summary: ${(err as Error).message}`);
  }
}
