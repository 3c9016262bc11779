/**
 * Merge: regeneration that keeps people's edits (conflictPolicy 'merge'). For each generated path,
 * decideMergeAction says what to do from three hashes; for a file a person edited, mergeFile does a
 * line-based three-way merge of what we generated last time (the base, kept under BASE_DIR), what
 * the person has now (yours) and what the model generated now.
 */
import { diff3Merge } from 'node-diff3';
import { MergeConflictError } from './errors';
import { showPath } from './paths';

/**
 * Where the last generated content of each file is kept, relative to the output directory, beside
 * the manifest: `.synthesis/base/<path>` holds exactly what the model generated for `<path>` (not a
 * merge result), so that the next run can tell the person's edits from ours. BUILTIN_DENIED already
 * keeps generated paths out of `.synthesis/`.
 */
export const BASE_DIR = '.synthesis/base';

/** The base copy's path for a generated path. */
export function basePath(path: string): string {
  return `${BASE_DIR}/${path}`;
}

/** Conflict markers: git's diff3 style, with labels that say whose lines are whose. */
export const MARKERS = {
  yours: '<<<<<<< yours',
  base: '||||||| last generation',
  separator: '=======',
  generated: '>>>>>>> generated',
} as const;

/** What to do with one generated path under conflictPolicy 'merge'. */
export type MergeAction = 'create' | 'replace' | 'merge' | 'unchanged';

/**
 * Decide from hashes alone (lower-case hex SHA-256 of the UTF-8 text):
 * - no file at the path: `create`;
 * - the file already holds exactly the generated content: `unchanged`;
 * - the file is what we generated last time (`current` equals the last manifest's hash): nobody
 *   edited it, `replace` it;
 * - otherwise a person edited it (or created it before we ever generated it, when there is no last
 *   hash): `merge`. With no base, mergeFile takes an empty base, so lines both sides have in common
 *   merge and the rest conflicts, as git does for a file added on both sides.
 */
export function decideMergeAction(
  generated: string,
  current: string | undefined,
  lastGenerated: string | undefined,
): MergeAction {
  if (current === undefined) return 'create';
  if (current === generated) return 'unchanged';
  if (current === lastGenerated) return 'replace';
  return 'merge';
}

/** Lines of the merged text, 1-based and inclusive, from the `<<<<<<<` marker to the `>>>>>>>` marker. */
export interface ConflictRange {
  startLine: number;
  endLine: number;
}

export type MergeResult =
  { clean: true; content: string } | { clean: false; content: string; conflicts: ConflictRange[] };

/**
 * Three-way merge, line by line (node-diff3, the diff3 algorithm).
 *
 * Line endings do not count as changes: lines are compared without their '\n' or '\r\n', and the
 * result uses the person's line ending (CRLF when most of their line breaks are CRLF, else LF; the
 * generated text's when the person's file has none). The final newline is merged like a line: the
 * side that changed it from the base wins. A region both sides changed differently is a conflict,
 * written with MARKERS (yours, then the base, then the generated lines); a region both changed the
 * same way is not.
 *
 * @param base what we generated last time ('' when there is none).
 * @param yours what the person has now.
 * @param generated what the model generated now.
 */
export function mergeFile(base: string, yours: string, generated: string): MergeResult {
  const o = splitLines(base);
  const a = splitLines(yours);
  const b = splitLines(generated);
  const eol = lineEnding(yours) ?? lineEnding(generated) ?? lineEnding(base) ?? '\n';
  const finalNewline = a.finalNewline !== o.finalNewline ? a.finalNewline : b.finalNewline;

  const out: string[] = [];
  const conflicts: ConflictRange[] = [];
  let at = { a: 0, o: 0, b: 0 };
  for (const anchor of [
    ...anchors(a.lines, o.lines, b.lines),
    { a: a.lines.length, o: o.lines.length, b: b.lines.length },
  ]) {
    const regions = diff3Merge(
      a.lines.slice(at.a, anchor.a),
      o.lines.slice(at.o, anchor.o),
      b.lines.slice(at.b, anchor.b),
      { excludeFalseConflicts: true },
    );
    for (const region of regions) {
      if (region.ok) out.push(...region.ok);
      else if (region.conflict) {
        const startLine = out.length + 1;
        out.push(
          MARKERS.yours,
          ...region.conflict.a,
          MARKERS.base,
          ...region.conflict.o,
          MARKERS.separator,
          ...region.conflict.b,
          MARKERS.generated,
        );
        conflicts.push({ startLine, endLine: out.length });
      }
    }
    if (anchor.a < a.lines.length) out.push(a.lines[anchor.a] ?? '');
    at = { a: anchor.a + 1, o: anchor.o + 1, b: anchor.b + 1 };
  }
  // A conflict at the end is closed by a marker line, which needs its line break.
  const content = out.length ? out.join(eol) + (finalNewline || conflicts.length ? eol : '') : '';
  return conflicts.length ? { clean: false, content, conflicts } : { clean: true, content };
}

/**
 * The error for files that merged with conflicts: each path (escaped) with its line ranges.
 * @param files in the order to report them.
 */
export function mergeConflictError(
  files: readonly { path: string; conflicts: readonly ConflictRange[] }[],
): MergeConflictError {
  return new MergeConflictError(
    files.map(
      (f) => `${showPath(f.path)}: lines ${f.conflicts.map((c) => `${c.startLine}-${c.endLine}`).join(', ')}`,
    ),
    files.map((f) => f.path),
  );
}

interface Anchor {
  a: number;
  o: number;
  b: number;
}

/**
 * Lines that occur exactly once in each of the three texts, in the same order in all three: the
 * texts agree there, so the merge splits at them and diff3 works on the pieces between. node-diff3's
 * LCS slows down with the size of a piece and with lines that repeat (blank lines, closing braces):
 * one 8,000-line piece takes seconds, the same file split at its unique lines a few milliseconds.
 * (The idea of patience diff.) Each piece merges on its own, so the result is a valid merge.
 */
function anchors(a: readonly string[], o: readonly string[], b: readonly string[]): Anchor[] {
  const once = (lines: readonly string[]): Map<string, number> => {
    const at = new Map<string, number>();
    const seen = new Set<string>();
    for (const [i, line] of lines.entries()) {
      if (seen.has(line)) at.delete(line);
      else {
        seen.add(line);
        at.set(line, i);
      }
    }
    return at;
  };
  const inA = once(a);
  const inB = once(b);
  const candidates: Anchor[] = [];
  for (const [line, oi] of once(o)) {
    const ai = inA.get(line);
    const bi = inB.get(line);
    if (ai !== undefined && bi !== undefined) candidates.push({ a: ai, o: oi, b: bi });
  }
  candidates.sort((x, y) => x.o - y.o);
  // In base order, keep a longest run increasing in yours, then of that one increasing in generated.
  return increasing(
    increasing(candidates, (c) => c.a),
    (c) => c.b,
  );
}

/** A longest subsequence whose key strictly increases (patience sorting, O(n log n)). */
function increasing<T>(items: readonly T[], key: (item: T) => number): T[] {
  const tails: number[] = []; // tails[k]: index in items of the smallest tail of a run of length k + 1
  const previous: number[] = new Array<number>(items.length).fill(-1);
  for (const [i, item] of items.entries()) {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (key(items[tails[mid] ?? 0] as T) < key(item)) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) previous[i] = tails[lo - 1] ?? -1;
    tails[lo] = i;
  }
  const run: T[] = [];
  for (let i = tails[tails.length - 1] ?? -1; i >= 0; i = previous[i] ?? -1) run.push(items[i] as T);
  return run.reverse();
}

interface Lines {
  lines: string[];
  finalNewline: boolean;
}

/** '' has no lines; 'a\n' and 'a' have one, with and without a final newline. */
function splitLines(text: string): Lines {
  if (text === '') return { lines: [], finalNewline: false };
  const finalNewline = text.endsWith('\n');
  const body = finalNewline ? text.slice(0, text.endsWith('\r\n') ? -2 : -1) : text;
  return { lines: body.split(/\r?\n/), finalNewline };
}

/** The text's dominant line ending, undefined when it has no line break. */
function lineEnding(text: string): '\n' | '\r\n' | undefined {
  const all = text.split('\n').length - 1;
  if (all === 0) return undefined;
  const crlf = text.split('\r\n').length - 1;
  return crlf * 2 > all ? '\r\n' : '\n';
}
