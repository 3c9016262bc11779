/** Neutralise agent logging commands (`##vso[`, `##[`) in text we print, so it cannot issue one. */
export function neutraliseCommands(text: string): string {
  return text.replace(/##(vso)?\[/gi, (m) => m.slice(0, 1) + '\u200b' + m.slice(1));
}

/** `text` with each secret, and its JSON-escaped forms, replaced by '***' (core/secret-forms.ts). */
export { maskText } from '../../core/secret-forms';
