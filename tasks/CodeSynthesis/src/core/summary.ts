/**
 * The run summary (markdown for the pipeline's Extensions tab) and the log lines.
 */
import type { Manifest } from './manifest';
import type { Finding } from './scan';

/** Rows of the findings table shown; the SARIF log and the issues have them all. */
const MAX_FINDING_ROWS = 100;

/** Escape text for a markdown table cell or inline position: no HTML, links or cell breaks. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()<>#+!|~]/g, (c) => '\\' + c).replace(/\r?\n/g, ' ');
}

/** What the summary shows beyond the manifest. */
export interface SummaryInput {
  manifest: Manifest;
  manifestPath: string;
  outputDirectory: string;
  /** The model's own summary: untrusted, shown as quoted plain text. */
  modelSummary?: string;
  findings?: readonly Finding[];
  sarifPath?: string;
}

/** Render the summary markdown. Every value that came from the model is escaped. */
export function renderSummary(input: SummaryInput): string {
  const { manifest: m } = input;
  const service = m.intent.services
    ? `stack ${m.intent.serviceName}: ${m.intent.services.map((s) => `${s.name} (${s.language}/${s.framework})`).join(', ')}`
    : m.intent.serviceName
      ? `${m.intent.serviceName} (${m.intent.language}/${m.intent.framework})`
      : 'free-text intent';
  const model = [
    m.model.provider,
    m.model.deployment,
    m.model.apiVersion && `api-version ${m.model.apiVersion}`,
    m.model.endpointHost,
  ]
    .filter(Boolean)
    .join(' · ');
  const lines = [
    '## Code synthesis',
    '',
    `**Service:** ${escapeMarkdown(service)}  `,
    `**Model:** ${escapeMarkdown(model)}  `,
    `**Tokens:** ${m.usage.promptTokens} prompt, ${m.usage.completionTokens} completion  `,
    ...(m.usage.estimatedCost !== undefined
      ? [
          `**Estimated cost:** ${formatCost(m.usage.estimatedCost)} (at the promptTokenPrice and completionTokenPrice given, per million tokens)  `,
        ]
      : []),
    `**Output:** \`${input.outputDirectory.replace(/`/g, "'")}\`  `,
    `**Manifest:** \`${input.manifestPath.replace(/`/g, "'")}\``,
    '',
    `| File | Bytes | Action |`,
    `|---|---:|---|`,
    ...m.files.map((f) => `| ${escapeMarkdown(f.path)} | ${f.bytes} | ${f.action} |`),
  ];
  if (m.skipped.length)
    lines.push(
      '',
      `Skipped (already present, conflictPolicy skip): ${m.skipped.map(escapeMarkdown).join(', ')}`,
    );
  lines.push('', ...renderFindings(input.findings ?? [], input.sarifPath));
  if (input.modelSummary?.trim()) {
    // A code block: nothing in it renders, so the model's text cannot add links or HTML to the page.
    const text = input.modelSummary.trim().slice(0, 2000);
    const fence = '`'.repeat(Math.max(3, ...[...text.matchAll(/`+/g)].map((m) => m[0].length + 1)));
    lines.push('', '**What the model said:**', '', fence + 'text', text, fence);
  }
  return lines.join('\n') + '\n';
}

/**
 * The findings section: a table of file, line, rule, severity and the redacted finding, or one line
 * saying the scan found nothing. No matched text appears: findings carry only redacted excerpts.
 */
export function renderFindings(findings: readonly Finding[], sarifPath?: string): string[] {
  const sarif = sarifPath
    ? ` SARIF log: \`${sarifPath.replace(/`/g, "'")}\` (build artifact CodeAnalysisLogs).`
    : '';
  if (findings.length === 0) return [`**Scan:** no findings.${sarif}`];
  const shown = findings.slice(0, MAX_FINDING_ROWS);
  return [
    `**Scan:** ${findings.length} finding(s).${sarif}`,
    '',
    '| File | Line | Rule | Severity | Finding |',
    '|---|---:|---|---|---|',
    ...shown.map(
      (f) =>
        `| ${escapeMarkdown(f.path)} | ${f.line} | ${escapeMarkdown(f.ruleId)} | ${f.severity} | ${escapeMarkdown(f.message.slice(f.ruleId.length + 2))} |`,
    ),
    ...(findings.length > shown.length ? ['', `... and ${findings.length - shown.length} more.`] : []),
  ];
}

/** The summary of a run the scan stopped (failOnFindings): nothing was written. */
export function renderBlockedSummary(findings: readonly Finding[], sarifPath?: string): string {
  return (
    [
      '## Code synthesis',
      '',
      '**Nothing was written:** the scan found errors and failOnFindings is true.',
      '',
      ...renderFindings(findings, sarifPath),
    ].join('\n') + '\n'
  );
}

function formatCost(cost: number): string {
  return cost >= 1 ? cost.toFixed(2) : cost.toPrecision(3).replace(/\.?0+$/, '');
}
