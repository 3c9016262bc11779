/**
 * The scan as a SARIF 2.1.0 log (OASIS), as plain data: one run, the rules that ran, one result per
 * finding. Azure DevOps' SARIF SAST Scans Tab and Microsoft Security DevOps read it from the build
 * artifact CodeAnalysisLogs.
 */
import { MODEL_SUMMARY, type Finding, type RuleInfo, type ScanReport } from './scan';

export const SARIF_SCHEMA_URI = 'https://json.schemastore.org/sarif-2.1.0.json';

/** Where the locations are relative to (SARIF originalUriBaseIds). */
export const OUTPUT_ROOT = 'OUTPUTROOT';

export interface SarifInput {
  report: ScanReport;
  tool: { name: string; version: string; informationUri: string };
  /** Absolute path of the output directory, for originalUriBaseIds; omitted when unknown. */
  outputDirectory?: string;
}

/**
 * Build the log. Results carry ruleId, ruleIndex, level, the finding's message (which holds only a
 * redacted excerpt), and the file (a relative URI against OUTPUTROOT) with startLine and startColumn;
 * a finding in the model's summary, which is no file, has a logical location instead.
 */
export function buildSarif(input: SarifInput): Record<string, unknown> {
  const { report, tool } = input;
  const rules = report.rules;
  const index = new Map(rules.map((r, i) => [r.id, i]));
  return {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: tool.name,
            version: tool.version,
            semanticVersion: tool.version,
            informationUri: tool.informationUri,
            rules: rules.map(describeRule),
          },
        },
        ...(input.outputDirectory
          ? { originalUriBaseIds: { [OUTPUT_ROOT]: { uri: directoryUri(input.outputDirectory) } } }
          : {}),
        columnKind: 'utf16CodeUnits',
        results: report.findings.map((f) => result(f, index.get(f.ruleId))),
        invocations: [{ executionSuccessful: true }],
      },
    ],
  };
}

/** The log as the file written. */
export function sarifContent(log: Record<string, unknown>): string {
  return JSON.stringify(log, null, 2) + '\n';
}

function describeRule(rule: RuleInfo): Record<string, unknown> {
  return {
    id: rule.id,
    name: rule.name,
    shortDescription: { text: capitalise(rule.description) + '.' },
    ...(rule.fix ? { help: { text: rule.fix } } : {}),
    ...(rule.helpUri ? { helpUri: rule.helpUri } : {}),
    defaultConfiguration: { level: rule.severity },
    properties: { tags: ['security', rule.kind] },
  };
}

function result(f: Finding, ruleIndex: number | undefined): Record<string, unknown> {
  return {
    ruleId: f.ruleId,
    ...(ruleIndex !== undefined ? { ruleIndex } : {}),
    level: f.severity,
    message: {
      text: f.path === MODEL_SUMMARY ? `In the model's summary, line ${f.line}: ${f.message}` : f.message,
    },
    locations: [
      f.path === MODEL_SUMMARY
        ? { logicalLocations: [{ name: 'model summary', kind: 'resource' }] }
        : {
            physicalLocation: {
              artifactLocation: { uri: relativeUri(f.path), uriBaseId: OUTPUT_ROOT },
              region: { startLine: f.line, startColumn: f.column },
            },
          },
    ],
  };
}

/** A relative path as a URI reference: each segment percent-encoded, '/' kept. */
export function relativeUri(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

/** An absolute directory as a file: URI ending in '/', for Windows (C:\x) and POSIX paths. */
function directoryUri(dir: string): string {
  const slashed = dir.replace(/\\/g, '/').replace(/\/+$/, '');
  const absolute = slashed.startsWith('/') ? slashed : '/' + slashed;
  return (
    'file://' +
    absolute
      .split('/')
      .map((s, i) => (i === 1 && /^[A-Za-z]:$/.test(s) ? s : encodeURIComponent(s)))
      .join('/') +
    '/'
  );
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
