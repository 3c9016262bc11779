/** Neutralise agent logging commands (`##vso[`, `##[`) in text we print, so it cannot issue one. */
export function neutraliseCommands(text: string): string {
  return text.replace(/##(vso)?\[/gi, (m) => m.slice(0, 1) + '\u200b' + m.slice(1));
}

/** `text` with each secret replaced by '***', longest first (so a secret containing another is masked whole). */
export function maskText(text: string, secrets: Iterable<string>): string {
  return [...secrets]
    .filter(Boolean)
    .sort((a, b) => b.length - a.length)
    .reduce((t, s) => t.split(s).join('***'), text);
}
