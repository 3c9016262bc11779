/**
 * The run summary (markdown for the pipeline's Extensions tab) and the log lines.
 */
import type { Manifest } from './manifest';

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
}

/** Render the summary markdown. Every value that came from the model is escaped. */
export function renderSummary(input: SummaryInput): string {
  const { manifest: m } = input;
  const service = m.intent.serviceName
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
  if (input.modelSummary?.trim()) {
    // A code block: nothing in it renders, so the model's text cannot add links or HTML to the page.
    const text = input.modelSummary.trim().slice(0, 2000);
    const fence = '`'.repeat(Math.max(3, ...[...text.matchAll(/`+/g)].map((m) => m[0].length + 1)));
    lines.push('', '**What the model said:**', '', fence + 'text', text, fence);
  }
  return lines.join('\n') + '\n';
}
