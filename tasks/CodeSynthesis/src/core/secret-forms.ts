/**
 * The forms a secret takes in text we print. Besides the value itself, a server that echoes it in a
 * JSON body (a 401 naming the key it got), or our own JSON output, escapes its quotes and backslashes
 * (`sk-qu\"ote\\back`), and some servers escape '/' too (`\/`): a masker that knows only the value
 * lets those through.
 */

/** The value, and its JSON-escaped forms when they differ from it. */
export function secretForms(secret: string): string[] {
  const escaped = JSON.stringify(secret).slice(1, -1);
  return [...new Set([secret, escaped, escaped.replace(/\//g, '\\/')])];
}

/** `text` with every form of each secret replaced by '***', longest first (so a secret containing another is masked whole). */
export function maskText(text: string, secrets: Iterable<string>): string {
  return [...new Set([...secrets].filter(Boolean).flatMap(secretForms))]
    .sort((a, b) => b.length - a.length)
    .reduce((t, s) => t.split(s).join('***'), text);
}
