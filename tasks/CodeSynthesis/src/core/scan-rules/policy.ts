/**
 * Policy rules: conventions generated code must keep whatever it does. TLS verification stays on; a
 * text reply holds text; no file is larger than maxFileSizeKB; no .env file carries values.
 */
import type { ScanRule } from '../scan';
import { baseName, patternRule } from './pattern';

/** Control characters other than tab, line feed, form feed and carriage return; bidi overrides and isolates (Trojan Source, CVE-2021-42574); U+FFFD, left where bytes were not text. */
const CONTROL = /[\x00-\x08\x0B\x0E-\x1F\x7F\u202A-\u202E\u2066-\u2069\uFFFD]/;

/** `.env`, `.env.local`, `.env.production`, ... but not the examples that document the variables. */
const DOTENV = /^\.env(\.[\w.-]+)?$/i;
const DOTENV_EXAMPLE = /\.(example|sample|template|dist|defaults?)$/i;

/**
 * The policy rules for one run.
 * @param maxFileBytes the largest file allowed (maxFileSizeKB * 1024).
 */
export function policyRules(maxFileBytes: number): ScanRule[] {
  return [
    patternRule({
      id: 'policy/tls-verification-off',
      name: 'TlsVerificationDisabled',
      kind: 'policy',
      severity: 'warning',
      description: 'TLS certificate verification switched off',
      fix: "Keep verification on; trust a private CA through the platform's CA settings (REQUESTS_CA_BUNDLE, NODE_EXTRA_CA_CERTS, SSL_CERT_FILE) instead.",
      pattern: [
        /\bverify\s*=\s*False\b/,
        /\bcheck_hostname\s*=\s*False\b|\bverify_mode\s*=\s*ssl\.CERT_NONE\b|\bssl\._create_unverified_context\b/,
        /\brejectUnauthorized["']?\s*:\s*false\b/,
        /\bNODE_TLS_REJECT_UNAUTHORIZED["'\]]*\s*(?:=|:)\s*["']?0\b/,
        /\bInsecureSkipVerify\s*:\s*true\b/,
        /\b(?:ServerCertificateCustomValidationCallback|ServerCertificateValidationCallback|RemoteCertificateValidationCallback)\s*\+?=\s*(?:[^;\n]*=>\s*true\b|delegate[^;\n]*return\s+true\b|HttpClientHandler\.DangerousAcceptAnyServerCertificateValidator\b)/,
      ],
    }),
    {
      id: 'policy/control-characters',
      name: 'ControlCharacters',
      kind: 'policy',
      severity: 'error',
      description: 'binary content, control characters or bidirectional-override characters in a text file',
      fix: 'Generate text only; binary files and invisible characters (which can make code read differently than it runs) are not accepted from the model.',
      find(content) {
        const at = CONTROL.exec(content)?.index;
        return at === undefined ? [] : [{ start: at, end: at + 1 }];
      },
    },
    {
      id: 'policy/file-too-large',
      name: 'FileTooLarge',
      kind: 'policy',
      severity: 'warning',
      description: 'a file larger than maxFileSizeKB',
      fix: 'Generated sources are small: check what the file holds, or raise maxFileSizeKB.',
      find(content) {
        const bytes = Buffer.byteLength(content, 'utf8');
        if (bytes <= maxFileBytes) return [];
        const kb = (n: number) => Math.ceil(n / 1024);
        return [{ start: 0, end: 0, note: `${kb(bytes)} KB; maxFileSizeKB is ${kb(maxFileBytes)}` }];
      },
    },
    patternRule({
      id: 'policy/dotenv-values',
      name: 'DotenvWithValues',
      kind: 'policy',
      severity: 'error',
      description: 'a .env file that sets a value',
      fix: 'Generate .env.example with empty values and document the variables; real values come from the pipeline, Key Vault or Kubernetes secrets.',
      appliesTo: (path) => DOTENV.test(baseName(path)) && !DOTENV_EXAMPLE.test(baseName(path)),
      pattern:
        /^[ \t]*(?:export[ \t]+)?[A-Za-z_][\w.-]*[ \t]*=[ \t]*(?<secret>(?!["']{2}[ \t]*$)[^\s#][^\r\n]*)$/m,
    }),
  ];
}
