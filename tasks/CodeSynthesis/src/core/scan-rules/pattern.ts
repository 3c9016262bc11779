/**
 * Regular-expression rules: the shape shared by the Azure, placeholder, policy and organisation rules.
 */
import type { RuleInfo, RuleMatch, ScanRule } from '../scan';

export interface PatternRuleSpec extends RuleInfo {
  /**
   * What to find. The span reported is the named group `secret` when the pattern has one (so a finding
   * points at the value, not at its variable name), else the whole match. Flags 'g' and 'd' are added;
   * several patterns report under the one rule.
   */
  pattern: RegExp | readonly RegExp[];
  /** A second look at a candidate, e.g. to drop low-entropy look-alikes. `line` is the match's whole line. */
  accept?(value: string, line: string): boolean;
  appliesTo?(path: string): boolean;
}

/** A ScanRule from a pattern. */
export function patternRule(spec: PatternRuleSpec): ScanRule {
  const { pattern, accept, ...info } = spec;
  const regexes = (Array.isArray(pattern) ? pattern : [pattern as RegExp]).map(
    (p) => new RegExp(p.source, [...new Set([...p.flags, 'g', 'd'])].join('')),
  );
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
          if (!accept(content.slice(start, end), line)) continue;
        }
        matches.push({ start, end });
      }
      return matches;
    },
  };
}

/** The base name of a '/'-separated path. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
