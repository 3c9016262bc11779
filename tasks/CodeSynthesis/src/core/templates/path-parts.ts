/**
 * Endpoint paths cut at '/', for the frameworks that route segment by segment (Go's ServeMux, ASP.NET
 * Core): which segments a route pattern can express itself, and a regular expression for the rest,
 * written in the syntax RE2 (Go) and .NET both read the same way. Pure and deterministic.
 */
import type { ParamType, RouteSegment } from '../route';

/** A path parameter of a card endpoint. */
export type Param = Extract<RouteSegment, { kind: 'param' }>;

/** One '/'-separated segment of a path: literal text (without '/') and parameters, in order. */
export type PathPart = RouteSegment[];

/**
 * Each parameter type as Werkzeug's converter matches it (https://werkzeug.palletsprojects.com/en/stable/routing/#built-in-converters),
 * ASCII digits only (`\d` means any Unicode digit in .NET): the same text matches in Flask, Go and .NET.
 */
export const TYPE_PATTERNS: Readonly<Record<ParamType, string>> = {
  string: '[^/]+',
  int: '[0-9]+',
  float: '[0-9]+\\.[0-9]+',
  uuid: '[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}',
  path: '[^/].*?',
};

/**
 * Cut a parsed path at '/': `/orders/{id}` gives `[[orders], [{id}]]`, `/` gives `[[]]` and
 * `/orders/` ends with an empty part (the trailing slash). A `path` parameter stays in the part where
 * it starts, although it matches several segments.
 */
export function splitParts(segments: readonly RouteSegment[]): PathPart[] {
  const parts: PathPart[] = [];
  let current: PathPart = [];
  for (const s of segments) {
    if (s.kind === 'param') {
      current.push(s);
      continue;
    }
    const [first = '', ...rest] = s.text.split('/');
    if (first) current.push({ kind: 'literal', text: first });
    for (const piece of rest) {
      parts.push(current);
      current = piece ? [{ kind: 'literal', text: piece }] : [];
    }
  }
  parts.push(current);
  // Everything before the leading '/' (nothing: card paths start with '/').
  return parts.slice(1);
}

/** The parameters of some parts, in path order. */
export function paramsOf(parts: readonly PathPart[]): Param[] {
  return parts.flat().filter((s): s is Param => s.kind === 'param');
}

/** The literal text of some parts, '/' not counted. */
export function literalLength(parts: readonly PathPart[]): number {
  return parts.flat().reduce((n, s) => n + (s.kind === 'literal' ? s.text.length : 0), 0);
}

/**
 * Why a router that cleans paths can never match this one, or undefined: an empty segment (`//`)
 * or a `.` or `..` segment. Go's ServeMux refuses such a pattern at start-up; ASP.NET Core refuses `//`.
 */
export function uncleanPath(parts: readonly PathPart[]): string | undefined {
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (part.length === 0 && i < parts.length - 1) return "it has an empty segment ('//')";
    const only = part.length === 1 ? part[0] : undefined;
    if (only?.kind === 'literal' && (only.text === '.' || only.text === '..'))
      return `it has a '${only.text}' segment`;
  }
  return undefined;
}

/**
 * A regular expression for the text of these parts joined by '/', anchored at both ends, with one
 * group per parameter in path order (of `types`, TYPE_PATTERNS unless given). Literals are escaped,
 * and so is ':' when `escapeColon` is set; the syntax is common to RE2 and .NET.
 */
export function partsPattern(
  parts: readonly PathPart[],
  types: Readonly<Record<ParamType, string>> = TYPE_PATTERNS,
  escapeColon = false,
): string {
  const special = escapeColon ? /[.*+?^${}()|[\]\\:]/g : /[.*+?^${}()|[\]\\]/g;
  const body = parts
    .map((part) =>
      part
        .map((s) => (s.kind === 'literal' ? s.text.replace(special, '\\$&') : `(${types[s.type]})`))
        .join(''),
    )
    .join('/');
  return `^${body}$`;
}
