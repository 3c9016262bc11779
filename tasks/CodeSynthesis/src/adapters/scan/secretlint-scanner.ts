/**
 * SecretScanner over secretlint (@secretlint/core with @secretlint/secretlint-rule-preset-recommend):
 * AWS, GCP, GitHub, GitLab, Slack, npm, OpenAI, Anthropic, private keys, basic authentication,
 * database connection strings and more, from a maintained rule set. compose.ts loads this module with
 * `await import()` when a scan runs.
 */
import { lintSource } from '@secretlint/core';
import { rules as recommended } from '@secretlint/secretlint-rule-preset-recommend';
import type { FileToWrite } from '../../core/ports';
import type { RuleInfo, SecretMatch, SecretScanner } from '../../core/scan';

type SecretlintRule = (typeof recommended)[number];

/**
 * Rules that do not run:
 * - filter-comments: secretlint-disable comments would let the generated code switch the scan off for
 *   itself, and the model's text is untrusted;
 * - privatekey: it wants a body starting with "MI" of 100 characters or more, which misses EC (SEC1)
 *   and Ed25519 keys; core's secret/private-key (core/scan-rules/private-key.ts) finds every PEM
 *   private key, so one key is one finding.
 */
const LEFT_OUT = new Set([
  '@secretlint/secretlint-rule-filter-comments',
  '@secretlint/secretlint-rule-privatekey',
]);

const FIX =
  'Remove it from the generated code, read it from the environment or a secret store (Azure Key Vault), and revoke or rotate it if it is real.';

/** What each rule finds, in words; rules not listed are described by their name. */
const DESCRIPTIONS: Record<string, string> = {
  aws: 'an AWS secret access key',
  gcp: 'a Google Cloud service account key',
  github: 'a GitHub token',
  gitlab: 'a GitLab token',
  slack: 'a Slack token or webhook URL',
  npm: 'an npm access token',
  openai: 'an OpenAI API key',
  anthropic: 'an Anthropic API key',
  basicauth: 'a user name and password in a URL (basic authentication)',
  'database-connection-string': 'a database connection string with a password',
  sendgrid: 'a SendGrid API key',
  shopify: 'a Shopify token',
  '1password': 'a 1Password service account token',
  linear: 'a Linear API key',
  huggingface: 'a Hugging Face token',
  'hashicorp-vault': 'a HashiCorp Vault token',
  docker: 'a Docker registry credential',
};

/** '@secretlint/secretlint-rule-github' -> 'github'. */
function shortName(id: string): string {
  return id.replace(/^@secretlint\/secretlint-rule-/, '');
}

function describe(rule: SecretlintRule): RuleInfo {
  const short = shortName(rule.meta.id);
  const url = (rule.meta as { docs?: { url?: string } }).docs?.url;
  return {
    id: `secretlint/${short}`,
    name:
      'Secretlint' +
      short
        .split('-')
        .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
        .join(''),
    kind: 'secret',
    severity: 'error',
    description: DESCRIPTIONS[short] ?? `a credential (secretlint rule ${short})`,
    fix: FIX,
    ...(url ? { helpUri: url } : {}),
  };
}

/** The scanner with secretlint's recommended rules, less the comment filter. */
export function createSecretlintScanner(): SecretScanner {
  const active = recommended.filter((r) => !LEFT_OUT.has(r.meta.id));
  const infos = new Map(active.map((r) => [r.meta.id, describe(r)]));
  const config = { rules: active.map((rule) => ({ id: rule.meta.id, rule })) };
  return {
    rules: [...infos.values()],
    async scan(files: readonly FileToWrite[]): Promise<SecretMatch[]> {
      const found: SecretMatch[] = [];
      for (const file of files) {
        const dot = file.path.lastIndexOf('.');
        const result = await lintSource({
          source: {
            filePath: file.path,
            content: file.content,
            ext: dot > file.path.lastIndexOf('/') ? file.path.slice(dot) : '',
            contentType: 'text',
          },
          // maskSecrets: the messages secretlint builds (which this adapter does not use) hold no secret.
          options: { config, maskSecrets: true, noPhysicFilePath: true },
        });
        for (const message of result.messages) {
          const info = infos.get(message.ruleId);
          if (!info) continue;
          found.push({ path: file.path, ruleId: info.id, start: message.range[0], end: message.range[1] });
        }
      }
      return found;
    },
  };
}
