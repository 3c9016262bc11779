/**
 * The run summary (markdown for the pipeline's Extensions tab) and the log lines.
 */
import type { Manifest } from './manifest';
import type { ReviewResult } from './review';
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
  /** The pull request the files went to. */
  review?: ReviewResult;
  /** Files sent for review with conflict markers. */
  conflicts?: readonly string[];
  /** False when the output directory was left unchanged. */
  written?: boolean;
}

/** Render the summary markdown. Every value that came from the model is escaped. */
export function renderSummary(input: SummaryInput): string {
  const { manifest: m } = input;
  const service = m.intent.services
    ? `stack ${m.intent.serviceName}: ${m.intent.services.map((s) => `${s.name} (${s.language}/${s.framework})`).join(', ')}`
    : m.intent.serviceName
      ? `${m.intent.serviceName} (${m.intent.language}/${m.intent.framework})`
      : m.intent.source === 'archive'
        ? 'none given (the files come from the archive)'
        : 'free-text intent';
  const { archive } = m.model;
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
    ...(archive
      ? [
          `**Archive:** ${escapeMarkdown(archive.file)} (${archive.format}, ${archive.bytes} bytes, SHA-256 \`${archive.sha256}\`); no model was called  `,
        ]
      : [`**Tokens:** ${m.usage.promptTokens} prompt, ${m.usage.completionTokens} completion  `]),
    ...(m.usage.estimatedCost !== undefined
      ? [
          `**Estimated cost:** ${formatCost(m.usage.estimatedCost)} (at the promptTokenPrice and completionTokenPrice given, per million tokens)  `,
        ]
      : []),
    ...validationLines(m),
    ...reviewLines(input),
    input.written === false
      ? `**Output:** nothing was written to \`${input.outputDirectory.replace(/`/g, "'")}\`: the files went to the pull request only  `
      : `**Output:** \`${input.outputDirectory.replace(/`/g, "'")}\`  `,
    `**Manifest:** \`${input.manifestPath.replace(/`/g, "'")}\``,
    ...generationLines(m),
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
    const said = archive ? '**What was unpacked:**' : '**What the model said:**';
    lines.push('', said, '', fence + 'text', text, fence);
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

/** The pull request, and the files it carries with conflict markers. */
function reviewLines(input: SummaryInput): string[] {
  const { review } = input;
  if (!review) return [];
  const conflicts = input.conflicts ?? [];
  return [
    `**Pull request:** [${review.pullRequestId}](${review.pullRequestUrl.replace(/[()\s]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)}) from \`${review.branch.replace(/`/g, "'")}\` (${review.created ? 'opened' : 'updated'})  `,
    ...(conflicts.length
      ? [`**Merge conflicts to resolve in the pull request:** ${conflicts.map(escapeMarkdown).join(', ')}  `]
      : []),
  ];
}

/** One line on validateCommand: the round it passed in and the repairs it took. */
export function validationLines(m: Manifest): string[] {
  const rounds = m.validation ?? [];
  const last = rounds[rounds.length - 1];
  if (!last) return [];
  const command = escapeMarkdown(last.command.split(/\r?\n/)[0]!.slice(0, 120));
  const repairs = rounds.length - 1;
  return [
    `**Validation:** ${command} exited ${last.exitCode} in round ${last.round}${repairs ? ` after ${repairs} repair(s) by the model` : ''}  `,
  ];
}

/** The generation's strategy and a table of its phases: calls, the most in flight, tokens, wall time. */
export function generationLines(m: Manifest): string[] {
  const g = m.generation;
  if (!g?.phases.length) return [];
  const asked = g.requested !== g.strategy ? ` (generationStrategy ${g.requested})` : '';
  return [
    '',
    `**Generation:** ${g.strategy}${asked}${g.strategy === 'planned' ? `, concurrency ${g.concurrency}` : ''}`,
    '',
    '| Phase | Calls | Most in flight | Prompt tokens | Completion tokens | Wall time |',
    '|---|---:|---:|---:|---:|---:|',
    ...g.phases.map(
      (p) =>
        `| ${p.phase} | ${p.calls} | ${p.maxInFlight} | ${p.promptTokens} | ${p.completionTokens} | ${(p.wallMs / 1000).toFixed(1)} s |`,
    ),
  ];
}

function formatCost(cost: number): string {
  return cost >= 1 ? cost.toFixed(2) : cost.toPrecision(3).replace(/\.?0+$/, '');
}
