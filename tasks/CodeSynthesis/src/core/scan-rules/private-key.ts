/**
 * Private keys in PEM form, whatever the algorithm or container: `-----BEGIN PRIVATE KEY-----` (PKCS#8,
 * Ed25519's 64-character body included), `BEGIN RSA|EC|DSA|OPENSSH|ENCRYPTED PRIVATE KEY`, `BEGIN PGP
 * PRIVATE KEY BLOCK`, with real line breaks or `\n` escapes in a string literal. secretlint's rule
 * wants a body starting with "MI" and at least 100 characters, which misses SEC1 EC keys ("MHcC...")
 * and Ed25519; this rule replaces it.
 */
import type { ScanRule } from '../scan';
import { patternRule } from './pattern';

/** Line breaks, real or escaped (`\n`, `\r\n` in a string literal), and blanks: bounded, so linear. */
const BREAK = String.raw`(?:\\[rn]|\s){1,8}`;

export const PRIVATE_KEY_RULES: readonly ScanRule[] = [
  patternRule({
    id: 'secret/private-key',
    name: 'PrivateKey',
    kind: 'secret',
    severity: 'error',
    description: 'a private key (PEM)',
    fix: 'Remove it from the generated code; load keys and certificates from Azure Key Vault or a mounted secret at run time, and replace the key if it is real.',
    pattern: new RegExp(
      String.raw`-----BEGIN (?:[A-Z0-9]{1,20} ){0,3}PRIVATE KEY(?: BLOCK)?-----${BREAK}` +
        // Encapsulated headers of encrypted PEM and PGP blocks (Proc-Type, DEK-Info, Version, Comment).
        String.raw`(?:[A-Za-z-]{1,20}: [^\r\n\\]{1,200}${BREAK}){0,4}` +
        String.raw`(?<body>[A-Za-z0-9+/]{40,}={0,2})`,
    ),
    // The finding points at the BEGIN line. A body of one character or a few (AAAA..., a placeholder) is not a key.
    accept: (_value, _line, { groups }) => new Set(groups['body']).size >= 16,
  }),
];
