/**
 * Regular-expression rules: the shape shared by the Azure, placeholder, policy and organisation rules.
 *
 * Every built-in pattern runs in linear time on any input (tests/unit/scan-rules-linear.test.ts): no
 * nested or adjacent quantifiers over the same characters, names matched whole (see NAME_TOKEN),
 * lengths bounded where a run could start at every character.
 */
import type { RuleInfo, RuleMatch, ScanRule } from '../scan';

/** What `accept` may look at besides the value. */
export interface MatchContext {
  /** The match's named groups (e.g. `name`, the variable a value is assigned to). */
  groups: Readonly<Record<string, string | undefined>>;
  /** Up to CONTEXT_BEFORE characters of the file before the match, e.g. to see the section a key sits in. */
  before: string;
}

/** How far back `MatchContext.before` reaches. */
export const CONTEXT_BEFORE = 400;

export interface PatternRuleSpec extends RuleInfo {
  /**
   * What to find. The span reported is the named group `secret` when the pattern has one (so a finding
   * points at the value, not at its variable name), else the whole match. Flags 'g' and 'd' are added;
   * several patterns report under the one rule.
   */
  pattern: RegExp | readonly RegExp[];
  /** A second look at a candidate, e.g. to drop low-entropy look-alikes. `line` is the match's whole line. */
  accept?(value: string, line: string, context: MatchContext): boolean;
  appliesTo?(path: string): boolean;
}

/** A ScanRule from a pattern. */
export function patternRule(spec: PatternRuleSpec): ScanRule {
  const { pattern, accept, ...info } = spec;
  const regexes = (Array.isArray(pattern) ? pattern : [pattern as RegExp]).map(withIndices);
  return {
    ...info,
    find(content: string): RuleMatch[] {
      const matches: RuleMatch[] = [];
      for (const m of regexes.flatMap((regex) => [...content.matchAll(regex)])) {
        const span = m.indices?.groups?.['secret'] ?? m.indices?.[0];
        if (!span) continue;
        const [start, end] = span;
        if (accept) {
          const lineStart = content.lastIndexOf('\n', start - 1) + 1;
          const lineEnd = content.indexOf('\n', end);
          const line = content.slice(lineStart, lineEnd < 0 ? undefined : lineEnd);
          const from = m.index ?? start;
          const context = {
            groups: m.groups ?? {},
            before: content.slice(Math.max(0, from - CONTEXT_BEFORE), from),
          };
          if (!accept(content.slice(start, end), line, context)) continue;
        }
        matches.push({ start, end });
      }
      return matches;
    },
  };
}

/** The regex with flags 'g' and 'd' added. */
export function withIndices(regex: RegExp): RegExp {
  return new RegExp(regex.source, [...new Set([...regex.flags, 'g', 'd'])].join(''));
}

/**
 * A variable, key or header name, matched whole as the named group `name`: letters, digits, `_`, `$`,
 * `.` and `-` (`api_key`, `process.env.API_KEY`, `client-secret`). It starts where no such character
 * precedes, and the look-ahead with a back-reference makes it atomic: the engine never retries a
 * shorter name, so a long run of name characters costs linear time. Check what the name says in
 * `accept` (context.groups.name).
 */
export const NAME_TOKEN = String.raw`(?<![\w$.-])(?=(?<name>[\w$.-]{1,200}))\k<name>`;

/**
 * An entry of a Kubernetes or compose env list written over two lines, `- name: NAME` then
 * `value: VALUE` (quotes optional). `name` and `value` are regex sources; put the named group `secret`
 * in `value` to report the value's line.
 */
export function envListEntry(name: string, value: string, flags = ''): RegExp {
  return new RegExp(
    String.raw`-[ \t]+name:[ \t]*(?<nq>["']?)${name}\k<nq>[ \t]*\r?\n[ \t]*value:[ \t]*(?<vq>["']?)${value}\k<vq>[ \t]*(?:#[^\r\n]*)?$`,
    [...new Set([...flags, 'm'])].join(''),
  );
}

/** The base name of a '/'-separated path. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** `.env`, `.env.local`, `.env.production`, ...: dotenv files. */
const DOTENV = /^\.env(\.[\w.-]+)?$/i;
/** Dotenv files that document the variables rather than set them. */
const EXAMPLE_SUFFIX = /\.(example|sample|template|dist|defaults?)$/i;

/** A dotenv file (`.env`, `.env.production`, ...), examples included. */
export function isDotenv(path: string): boolean {
  return DOTENV.test(baseName(path));
}

/** A dotenv file that documents the variables: `.env.example`, `.env.sample`, `.env.template`, `.env.dist`, `.env.local.example`, ... */
export function isDotenvExample(path: string): boolean {
  return isDotenv(path) && EXAMPLE_SUFFIX.test(baseName(path));
}

/**
 * Every match of `regex` (flags 'g' and 'd') in `content`: the span of its group `secret` when it has
 * one, else the whole match; an empty match moves on one character. Organisation rules match with
 * it, in-process and in the pattern runner's worker, which runs this function's source text: it must
 * refer to nothing outside its own body.
 */
export function findSpans(regex: RegExp, content: string): [number, number][] {
  const spans: [number, number][] = [];
  regex.lastIndex = 0;
  for (let m = regex.exec(content); m !== null; m = regex.exec(content)) {
    if (m[0] === '') regex.lastIndex += 1;
    const indices = m.indices;
    const span = indices && ((indices.groups && indices.groups['secret']) || indices[0]);
    if (span) spans.push([span[0], span[1]]);
  }
  return spans;
}
