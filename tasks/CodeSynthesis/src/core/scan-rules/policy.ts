/**
 * Policy rules: conventions generated code must keep whatever it does. TLS verification stays on; a
 * text reply holds text; no file is larger than maxFileSizeKB; no .env file carries values.
 */
import type { ScanRule } from '../scan';
import { envListEntry, isDotenv, isDotenvExample, patternRule } from './pattern';

/** Control characters other than tab, line feed, form feed and carriage return; bidi overrides and isolates (Trojan Source, CVE-2021-42574); U+FFFD, left where bytes were not text. */
const CONTROL = /[\x00-\x08\x0B\x0E-\x1F\x7F\u202A-\u202E\u2066-\u2069\uFFFD]/;

/** The C# properties that take a certificate validation callback. */
const CERT_CALLBACK = String.raw`\b(?:ServerCertificateCustomValidationCallback|ServerCertificateValidationCallback|RemoteCertificateValidationCallback)`;
/** A lambda's parameters: `(m, c, ch, e)` or one name; bounded, so a long line costs linear time. */
const LAMBDA_PARAMS = String.raw`(?:\([^()]{0,200}\)|\w+)`;

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
        // Python: requests, httpx, aiohttp (ssl=False, verify_ssl=False), the ssl module.
        /\b(?:verify|verify_ssl|ssl)\s*=\s*False\b/,
        /\bcheck_hostname\s*=\s*False\b|\bverify_mode\s*=\s*ssl\.CERT_NONE\b|\bssl\._create_unverified_context\b/,
        // Node: an agent's option, or https.globalAgent.options.rejectUnauthorized = false.
        /\brejectUnauthorized["']?\s*(?::|=)\s*false\b/,
        // NODE_TLS_REJECT_UNAUTHORIZED=0, : "0", Dockerfile `ENV NODE_TLS_REJECT_UNAUTHORIZED 0`, a Kubernetes env entry.
        /\bNODE_TLS_REJECT_UNAUTHORIZED["'\]]*(?:[ \t]*[=:][ \t]*|[ \t]+)["']?0(?![\w.])/,
        envListEntry('NODE_TLS_REJECT_UNAUTHORIZED', '0'),
        // Go (tls.Config{InsecureSkipVerify: true}, cfg.InsecureSkipVerify = true), YAML insecureSkipVerify: true.
        /\bInsecureSkipVerify["']?\s*(?::|=)\s*true\b/i,
        // C#: a validation callback returning true (an expression or a block, over one line or several).
        new RegExp(
          String.raw`${CERT_CALLBACK}\s*\+?=\s*(?:${LAMBDA_PARAMS}\s*=>\s*(?:true\b|\{\s*return\s+true\s*;)|delegate\s*(?:\([^()]{0,200}\))?\s*\{\s*return\s+true\s*;|(?:HttpClientHandler\.)?DangerousAcceptAnyServerCertificateValidator\b)`,
        ),
        // Java: a hostname verifier accepting every host.
        new RegExp(
          String.raw`\bset(?:Default)?HostnameVerifier\s*\(\s*${LAMBDA_PARAMS}\s*->\s*true\b|\bNoopHostnameVerifier\.INSTANCE\b|\bALLOW_ALL_HOSTNAME_VERIFIER\b`,
        ),
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
      appliesTo: (path) => isDotenv(path) && !isDotenvExample(path),
      pattern:
        /^[ \t]*(?:export[ \t]+)?[A-Za-z_][\w.-]*[ \t]*=[ \t]*(?<secret>(?!["']{2}[ \t]*$)[^\s#][^\r\n]*)$/m,
    }),
  ];
}
