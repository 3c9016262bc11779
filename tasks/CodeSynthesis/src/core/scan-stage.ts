/**
 * The scan stage of the use case: every file the reply would write, scanned with every rule set; each
 * finding reported as a task issue; the SARIF log published; the write stopped when failOnFindings is
 * true and a finding is an error.
 */
import { TOOL } from './contract';
import { FindingsError } from './errors';
import type { Logger, PipelineHost, FileToWrite } from './ports';
import { buildSarif, sarifContent } from './sarif';
import type { PatternRunner } from './pattern-runner';
import {
  countFindings,
  MODEL_SUMMARY,
  redactSpans,
  scanFiles,
  type Finding,
  type ScanRule,
  type SecretScanner,
} from './scan';
import { AZURE_RULES } from './scan-rules/azure';
import { PLACEHOLDER_RULES } from './scan-rules/placeholders';
import { policyRules } from './scan-rules/policy';
import { PRIVATE_KEY_RULES } from './scan-rules/private-key';
import type { Settings } from './settings';

export interface ScanStagePorts {
  log: Logger;
  report: Pick<PipelineHost, 'logIssue' | 'publishCodeAnalysisLog'>;
  secretScanner(): Promise<SecretScanner>;
  /** Loads the runner of organisation rules (a worker thread with a time budget); without it they run in-process. */
  patternRunner?(): Promise<PatternRunner>;
  /** The run's: stops the organisation rules when the run is cancelled. */
  signal?: AbortSignal;
  version: string;
  /** The output directory, for the SARIF log's base URI. */
  outputDirectory: string;
}

/** The rules core runs itself, every run: Azure secrets, private keys, placeholders, policy. */
export function builtInRules(maxFileBytes: number): ScanRule[] {
  return [...AZURE_RULES, ...PRIVATE_KEY_RULES, ...PLACEHOLDER_RULES, ...policyRules(maxFileBytes)];
}

/**
 * Scan the files with the built-in rules, the secret scanner and the organisation's rules, and the
 * model's summary with the secret rules.
 * @returns the findings (to write with the files), the SARIF log's path when one was written, and the
 *   model's summary with every secret found in it cut out (see redactSpans).
 * @throws FindingsError when failOnFindings is true and a finding has severity error; the issues and
 *   the SARIF log are out by then.
 * @throws PolicyFileError when an organisation rule overran its time budget; CancelledError.
 */
export async function scanStage(
  files: readonly FileToWrite[],
  settings: Pick<Settings, 'failOnFindings' | 'maxFileBytes'>,
  organisationRules: readonly ScanRule[],
  ports: ScanStagePorts,
  modelSummary?: string,
): Promise<{ findings: Finding[]; sarifPath?: string; modelSummary?: string }> {
  const rules = [...builtInRules(settings.maxFileBytes), ...organisationRules];
  const runner = organisationRules.length && ports.patternRunner ? await ports.patternRunner() : undefined;
  const report = await scanFiles(files, {
    rules,
    secrets: await ports.secretScanner(),
    ...(runner ? { runner } : {}),
    ...(ports.signal ? { signal: ports.signal } : {}),
    ...(modelSummary ? { summary: modelSummary } : {}),
  });
  for (const f of report.findings) {
    const level = settings.failOnFindings ? f.severity : 'warning';
    // The summary is no file: its findings say where they are in the message.
    if (f.path === MODEL_SUMMARY)
      ports.report.logIssue(level, `In the model's summary, line ${f.line}: ${f.message}`);
    else ports.report.logIssue(level, f.message, { path: f.path, line: f.line });
  }
  const sarifPath = ports.report.publishCodeAnalysisLog(
    sarifContent(
      buildSarif({
        report,
        tool: { ...TOOL, version: ports.version },
        outputDirectory: ports.outputDirectory,
      }),
    ),
  );
  const counts = countFindings(report.findings);
  ports.log.info(
    `Scanned ${files.length} file(s) with ${report.rules.length} rules: ` +
      (report.findings.length ? `${counts.error} error(s), ${counts.warning} warning(s)` : 'no findings') +
      (sarifPath ? `; SARIF log ${sarifPath}.` : '.'),
  );
  if (settings.failOnFindings && counts.error > 0) throw new FindingsError(report.findings, sarifPath);
  const inSummary = report.findings.filter((f) => f.path === MODEL_SUMMARY);
  return {
    findings: report.findings,
    ...(sarifPath ? { sarifPath } : {}),
    ...(modelSummary ? { modelSummary: redactSpans(modelSummary, inSummary) } : {}),
  };
}
