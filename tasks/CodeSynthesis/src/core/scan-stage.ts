/**
 * The scan stage of the use case: every file the run would write, scanned with every rule set, and the
 * model's summary with the secret rules. A finding of severity error stops the run when failOnFindings
 * is true. Each finding becomes a task issue and the SARIF log is published once, for the files the run
 * ends with (reportFindings), or at once when the findings stop the run. After a repair the repaired
 * files are scanned again.
 */
import { TOOL } from './contract';
import type { Checked, Scanned } from './draft';
import { FindingsError } from './errors';
import type { PatternRunner } from './pattern-runner';
import type { FileToWrite, Logger, PipelineHost } from './ports';
import { buildSarif, sarifContent } from './sarif';
import {
  countFindings,
  MODEL_SUMMARY,
  redactSpans,
  scanFiles,
  type ScanReport,
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
 * Scan the generated files with the built-in rules, the secret scanner and the organisation's rules,
 * and the model's summary with the secret rules. The draft's `modelSummary` comes back with every
 * secret found in it cut out (see redactSpans).
 * @throws FindingsError when failOnFindings is true and a finding has severity error; the issues and
 *   the SARIF log are out by then.
 * @throws PolicyFileError when an organisation rule overran its time budget; CancelledError.
 */
export async function scan<T extends Checked>(
  draft: T,
  settings: Pick<Settings, 'failOnFindings' | 'maxFileBytes'>,
  ports: ScanStagePorts,
): Promise<T & Scanned> {
  const files = draft.generated;
  const organisationRules = draft.policy?.rules ?? [];
  const runner = organisationRules.length && ports.patternRunner ? await ports.patternRunner() : undefined;
  const report = await scanFiles(files, {
    rules: [...builtInRules(settings.maxFileBytes), ...organisationRules],
    secrets: await ports.secretScanner(),
    ...(runner ? { runner } : {}),
    ...(ports.signal ? { signal: ports.signal } : {}),
    ...(draft.modelSummary ? { summary: draft.modelSummary } : {}),
  });
  const counts = countFindings(report.findings);
  ports.log.info(
    `Scanned ${files.length} file(s) with ${report.rules.length} rules: ` +
      (report.findings.length ? `${counts.error} error(s), ${counts.warning} warning(s).` : 'no findings.'),
  );
  if (settings.failOnFindings && counts.error > 0) {
    const sarifPath = publish(report, files, settings, ports);
    throw new FindingsError(report.findings, sarifPath);
  }
  const inSummary = report.findings.filter((f) => f.path === MODEL_SUMMARY);
  return {
    ...draft,
    findings: report.findings,
    scanReport: report,
    ...(draft.modelSummary ? { modelSummary: redactSpans(draft.modelSummary, inSummary) } : {}),
  };
}

/**
 * Report the last scan's findings: each one a task issue (a warning unless failOnFindings), and the
 * SARIF log published.
 */
export function reportFindings<T extends Scanned>(
  draft: T,
  settings: Pick<Settings, 'failOnFindings'>,
  ports: ScanStagePorts,
): T & { sarifPath?: string } {
  const sarifPath = publish(draft.scanReport, draft.generated, settings, ports);
  return { ...draft, ...(sarifPath ? { sarifPath } : {}) };
}

function publish(
  report: ScanReport,
  files: readonly FileToWrite[],
  settings: Pick<Settings, 'failOnFindings'>,
  ports: ScanStagePorts,
): string | undefined {
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
  if (sarifPath) ports.log.info(`SARIF log of the scan of ${files.length} file(s): ${sarifPath}.`);
  return sarifPath;
}
