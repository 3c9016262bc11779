/**
 * A remote service's words, made fit for the debug log and for messages: both pull-request publishers
 * (Azure Repos, GitHub) quote what the service answered and name the host they talked to.
 */
import { cut } from '../../core/review';

/** A service's answer as debug text: the string, or its JSON, cut at 2,000 characters. */
export function snippet(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'string' ? value : JSON.stringify(value);
  } catch {
    text = String(value);
  }
  return cut(text ?? String(value), 2000);
}

/** The host of a URL, for a message; the URL's first 80 characters when it does not parse. */
export function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url.slice(0, 80);
  }
}
