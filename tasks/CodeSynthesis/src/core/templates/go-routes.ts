/**
 * Card endpoints as Go 1.22+ ServeMux patterns (https://pkg.go.dev/net/http#hdr-Patterns): a
 * parameter that fills its segment becomes a wildcard `{id}`, a `path` parameter the rest wildcard
 * `{rest...}`, and a trailing '/' the end anchor `{$}`. A segment that mixes literal text and
 * parameters (`/files/{name}.json`), or a `path` parameter with text after it, becomes one wildcard
 * whose text the handler matches with a regexp. The handler converts typed values (int, float, uuid)
 * and answers 404 when one does not fit, as Flask does.
 *
 * ServeMux refuses, at start-up, two patterns of a method that match the same requests ("conflict"),
 * and a pattern registered twice. Endpoints whose patterns differ only in wildcard names
 * (`/orders/<int:id>` and `/orders/<name>`) share one pattern and its handler tries them in turn;
 * patterns that really conflict are reported before anything is rendered.
 */
import type { RouteSegment } from '../route';
import type { RenderedEndpoint } from './common';
import { HEALTH_PATH } from './common';
import { literalLength, paramsOf, partsPattern, splitParts, uncleanPath, type Param } from './path-parts';

/** Where ServeMux puts some parameters' text, and how the handler reads them from it. */
export interface GoCapture {
  /** The wildcard's name in the pattern. */
  wildcard: string;
  /** Absent: the wildcard's text is the one parameter. Else a regexp whose groups are the parameters. */
  regexp?: string;
  params: Param[];
}

/** A pattern segment as Go's net/http compares patterns (pattern.go): literal, `{x}`, `{x...}`, `{$}`. */
type Shape = { kind: 'literal'; text: string } | { kind: 'wild' } | { kind: 'multi' } | { kind: 'end' };

/** One endpoint as ServeMux sees it. */
export interface GoRoute {
  /** `GET /orders/{id}`: the method and the path pattern. */
  pattern: string;
  captures: GoCapture[];
  shape: Shape[];
}

/**
 * The ServeMux pattern of an endpoint and the captures its handler reads, wildcards named after the
 * first parameter they hold. The path must be clean (see uncleanPath).
 */
export function goRoute(method: string, segments: readonly RouteSegment[]): GoRoute {
  const parts = splitParts(segments);
  const out: string[] = [];
  const captures: GoCapture[] = [];
  const shape: Shape[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const params = paramsOf([part]);
    if (params.some((p) => p.type === 'path')) {
      const rest = parts.slice(i);
      const all = paramsOf(rest);
      const wildcard = all[0]!.name;
      const whole = rest.length === 1 && part.length === 1;
      captures.push(
        whole ? { wildcard, params: all } : { wildcard, regexp: partsPattern(rest), params: all },
      );
      out.push(`{${wildcard}...}`);
      shape.push({ kind: 'multi' });
      break;
    }
    if (part.length === 0) {
      // Only the last part can be empty (clean path): the trailing '/', which must not match a subtree.
      out.push('{$}');
      shape.push({ kind: 'end' });
    } else if (params.length === 0) {
      const text = part.map((s) => (s.kind === 'literal' ? s.text : '')).join('');
      out.push(text);
      shape.push({ kind: 'literal', text });
    } else {
      const wildcard = params[0]!.name;
      captures.push(
        part.length === 1 ? { wildcard, params } : { wildcard, regexp: partsPattern([part]), params },
      );
      out.push(`{${wildcard}}`);
      shape.push({ kind: 'wild' });
    }
  }
  return { pattern: `${method} /${out.join('/')}`, captures, shape };
}

/** A ServeMux registration: one pattern and the endpoints its handler tries, in order. */
export interface GoRegistration {
  pattern: string;
  endpoints: { endpoint: RenderedEndpoint; captures: GoCapture[] }[];
}

/**
 * The registrations for a card's endpoints, in the card's order of their first endpoint; or the
 * problems that keep them from working in ServeMux (an unclean path, conflicting patterns), each
 * as one sentence.
 */
export function goRegistrations(endpoints: readonly RenderedEndpoint[]): {
  registrations: GoRegistration[];
  problems: string[];
} {
  const problems: string[] = [];
  const groups = new Map<
    string,
    { route: GoRoute; members: { endpoint: RenderedEndpoint; route: GoRoute }[] }
  >();
  for (const endpoint of endpoints) {
    const unclean = uncleanPath(splitParts(endpoint.segments));
    if (unclean) {
      problems.push(
        `endpoint '${endpoint.method} ${endpoint.path}': ${unclean}, which Go's ServeMux never matches.`,
      );
      continue;
    }
    const route = goRoute(endpoint.method, endpoint.segments);
    const key = `${endpoint.method} ${shapeKey(route.shape)}`;
    const group = groups.get(key) ?? { route, members: [] };
    group.members.push({ endpoint, route });
    groups.set(key, group);
  }
  const registered = [...groups.values()];
  const health = goRoute('GET', [{ kind: 'literal', text: HEALTH_PATH }]);
  const all = [{ route: health, label: `GET ${HEALTH_PATH}` }].concat(
    registered.map((g) => ({ route: g.route, label: labelOf(g.members[0]!.endpoint) })),
  );
  for (let a = 0; a < all.length; a++)
    for (let b = a + 1; b < all.length; b++) {
      const [first, second] = [all[a]!, all[b]!];
      if (methodOf(first.route) !== methodOf(second.route)) continue;
      if (comparePaths(first.route.shape, second.route.shape) === 'overlaps')
        problems.push(
          `endpoints '${first.label}' and '${second.label}' conflict in Go's ServeMux: some paths match both and neither is more specific (https://pkg.go.dev/net/http#hdr-Precedence).`,
        );
    }
  const registrations = registered.map((g) => {
    // Every member reads the group's wildcard names: the same positions, perhaps other names.
    const names = g.route.captures.map((c) => c.wildcard);
    return {
      pattern: g.route.pattern,
      endpoints: goOrder(g.members).map((m) => ({
        endpoint: m.endpoint,
        captures: m.route.captures.map((c, i) => ({ ...c, wildcard: names[i]! })),
      })),
    };
  });
  return { registrations, problems };
}

const labelOf = (e: RenderedEndpoint) => `${e.method} ${e.path}`;
const methodOf = (route: GoRoute) => route.pattern.slice(0, route.pattern.indexOf(' '));

function shapeKey(shape: readonly Shape[]): string {
  return shape
    .map((s) =>
      s.kind === 'literal' ? s.text : s.kind === 'wild' ? '{}' : s.kind === 'multi' ? '{...}' : '{$}',
    )
    .join('/');
}

/**
 * Endpoints sharing a pattern, in the order the handler tries them: the one with more literal text
 * in its wildcards first (`/files/{name}.json` before `/files/{name}`), then as Express tries them
 * (typed parameters before string ones, a `path` parameter last), else in the card's order.
 */
function goOrder<T extends { endpoint: RenderedEndpoint }>(members: readonly T[]): T[] {
  const rank = (e: RenderedEndpoint) => {
    const params = e.segments.flatMap((s) => (s.kind === 'param' ? [s.type] : []));
    return [
      -literalLength(splitParts(e.segments)),
      params.includes('path') ? 1 : 0,
      params.filter((t) => t === 'string').length,
      params.filter((t) => t !== 'string' && t !== 'path').length,
    ];
  };
  const ranked = members.map((m) => ({ m, rank: rank(m.endpoint) }));
  return ranked
    .sort((a, b) => {
      for (let i = 0; i < a.rank.length; i++) if (a.rank[i] !== b.rank[i]) return a.rank[i]! - b.rank[i]!;
      return 0;
    })
    .map((r) => r.m);
}

type Relationship = 'equivalent' | 'moreGeneral' | 'moreSpecific' | 'overlaps' | 'disjoint';

/**
 * How two path patterns relate, as net/http's pattern.go (`comparePaths`) decides it: `overlaps`
 * means ServeMux refuses to register both. A `{$}` is the literal segment "/" there.
 */
export function comparePaths(p1: readonly Shape[], p2: readonly Shape[]): Relationship {
  const multi1 = p1[p1.length - 1]?.kind === 'multi';
  const multi2 = p2[p2.length - 1]?.kind === 'multi';
  if (p1.length !== p2.length && !multi1 && !multi2) return 'disjoint';
  let rel: Relationship = 'equivalent';
  const n = Math.min(p1.length, p2.length);
  for (let i = 0; i < n; i++) {
    rel = combine(rel, compareSegments(p1[i]!, p2[i]!));
    if (rel === 'disjoint') return rel;
  }
  if (p1.length === p2.length) return rel;
  if (p1.length < p2.length && multi1) return combine(rel, 'moreGeneral');
  if (p2.length < p1.length && multi2) return combine(rel, 'moreSpecific');
  return 'disjoint';
}

function compareSegments(s1: Shape, s2: Shape): Relationship {
  if (s1.kind === 'multi' && s2.kind === 'multi') return 'equivalent';
  if (s1.kind === 'multi') return 'moreGeneral';
  if (s2.kind === 'multi') return 'moreSpecific';
  if (s1.kind === 'wild' && s2.kind === 'wild') return 'equivalent';
  // A single wildcard does not match the trailing slash {$}.
  if (s1.kind === 'wild') return s2.kind === 'end' ? 'disjoint' : 'moreGeneral';
  if (s2.kind === 'wild') return s1.kind === 'end' ? 'disjoint' : 'moreSpecific';
  const text = (s: Shape) => (s.kind === 'literal' ? s.text : '/');
  return text(s1) === text(s2) ? 'equivalent' : 'disjoint';
}

function combine(r1: Relationship, r2: Relationship): Relationship {
  switch (r1) {
    case 'equivalent':
      return r2;
    case 'disjoint':
      return 'disjoint';
    case 'overlaps':
      return r2 === 'disjoint' ? 'disjoint' : 'overlaps';
    default:
      if (r2 === 'equivalent') return r1;
      if (r2 === (r1 === 'moreGeneral' ? 'moreSpecific' : 'moreGeneral')) return 'overlaps';
      return r2;
  }
}
