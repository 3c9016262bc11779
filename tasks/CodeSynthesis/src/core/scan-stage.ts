/**
 * The scan stage of the use case: every file the run would write, scanned with every rule set. A
 * finding of severity error stops the run when failOnFindings is true. Each finding becomes a task
 * issue and the SARIF log is published once, for the files the run ends with (reportFindings), or at
 * once when the findings stop the run. After a repair the repaired files are scanned again.
 */
import { TOOL } from './contract';
import type { Checked, Scanned } from './draft';
import { FindingsError } from './errors';
import type { FileToWrite, Logger, PipelineHost } from './ports';
import { buildSarif, sarifContent } from './sarif';
import { countFindings, scanFiles, type ScanReport, type SecretScanner } from './scan';
import { AZURE_RULES } from './scan-rules/azure';
import { PLACEHOLDER_RULES } from './scan-rules/placeholders';
import { policyRules } from './scan-rules/policy';
import type { Settings } from './settings';

export interface ScanStagePorts {
  log: Logger;
  report: Pick<PipelineHost, 'logIssue' | 'publishCodeAnalysisLog'>;
  secretScanner(): Promise<SecretScanner>;
  version: string;
  /** The output directory, for the SARIF log's base URI. */
  outputDirectory: string;
}

/**
 * Scan the generated files with the built-in rules, the secret scanner and the organisation's rules.
 * @throws FindingsError when failOnFindings is true and a finding has severity error; the issues and
 *   the SARIF log are out by then.
 */
export async function scan<T extends Checked>(
  draft: T,
  settings: Pick<Settings, 'failOnFindings' | 'maxFileBytes'>,
  ports: ScanStagePorts,
): Promise<T & Scanned> {
  const files = draft.generated;
  const report = await scanFiles(files, {
    rules: [
      ...AZURE_RULES,
      ...PLACEHOLDER_RULES,
      ...policyRules(settings.maxFileBytes),
      ...(draft.policy?.rules ?? []),
    ],
    secrets: await ports.secretScanner(),
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
  return { ...draft, findings: report.findings, scanReport: report };
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
  for (const f of report.findings)
    ports.report.logIssue(settings.failOnFindings ? f.severity : 'warning', f.message, {
      path: f.path,
      line: f.line,
    });
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
