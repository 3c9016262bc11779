/**
 * Card endpoints as ASP.NET Core route templates
 * (https://learn.microsoft.com/aspnet/core/fundamentals/routing#route-templates). A typed parameter
 * gets route constraints, so a value that does not fit fails the match and the request goes on to a
 * less specific route or 404, as in Flask: `int` is `{id:long:min(0)}`, `float`
 * `{x:double:regex(^\d+\.\d+$)}` (a float has a '.'), `uuid` `{id:guid:length(36)}` (the dashed form
 * only); a `path` parameter that ends the path is the catch-all `{*rest}`. Literals and parameters may
 * share a segment (`{name}.json`, a "complex segment"). What a template cannot say — two parameters
 * side by side, a `path` parameter followed by more text — becomes one parameter constrained by a
 * regex, and the handler reads its groups with the exact regex (Endpoints.Match in the generated code).
 */
import type { RouteSegment } from '../route';
import type { RenderedEndpoint } from './common';
import { paramsOf, partsPattern, splitParts, uncleanPath, type Param, type PathPart } from './path-parts';

/** A lambda parameter of the endpoint that ASP.NET binds from a route value of the same name. */
export interface AspNetArg {
  /** The route parameter's name. */
  name: string;
  /** Its C# type: `long`, `double`, `Guid`, `string`, or `string?` for a catch-all (which may be empty). */
  type: string;
}

/** Parameters the handler reads from one route value: the whole text, or a regex's groups. */
export interface AspNetMatch {
  /** The route value holding them (an AspNetArg's name). */
  name: string;
  /** A .NET regex whose groups are the parameters; absent when the whole text is the one parameter. */
  regex?: string;
  params: Param[];
}

/** An endpoint as ASP.NET Core routes it. */
export interface AspNetRoute {
  template: string;
  args: AspNetArg[];
  /** Parameters bound directly from the args, as they are (their constraints made them fit). */
  direct: Param[];
  matches: AspNetMatch[];
}

const CONSTRAINTS: Record<Param['type'], string> = {
  string: '',
  int: ':long:min(0)',
  float: ':double:regex(^\\d+\\.\\d+$)',
  uuid: ':guid:length(36)',
  path: '',
};
const CS_TYPES: Record<Param['type'], string> = {
  string: 'string',
  int: 'long',
  float: 'double',
  uuid: 'Guid',
  path: 'string',
};

/**
 * The types as a route template's `regex(...)` constraint matches them, written without `[`, `]`, `{`
 * and `}` (the template parser reads braces as its own: https://github.com/dotnet/aspnetcore/blob/main/src/Http/Routing/src/Patterns/RoutePatternParser.cs).
 * As loose as that makes them (a uuid is any one segment): the constraint routes, the handler checks.
 */
const CONSTRAINT_PATTERNS: Record<Param['type'], string> = {
  string: '((?!/).)+',
  int: '\\d+',
  float: '\\d+\\.\\d+',
  uuid: '((?!/).)+',
  path: '(?!/).+?',
};

/**
 * The `regex(...)` constraint for some parts. A ':' right after a ')' would end the constraint
 * (RouteParameterParser.cs), so literal colons are escaped.
 */
export function routeRegex(parts: readonly PathPart[]): string {
  return `regex(${partsPattern(parts, CONSTRAINT_PATTERNS, true)})`;
}

/** The route template of an endpoint and how its handler gets each parameter. The path must be clean. */
export function aspNetRoute(segments: readonly RouteSegment[]): AspNetRoute {
  const parts = splitParts(segments);
  const out: string[] = [];
  const args: AspNetArg[] = [];
  const direct: Param[] = [];
  const matches: AspNetMatch[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const params = paramsOf([part]);
    if (params.some((p) => p.type === 'path')) {
      const rest = parts.slice(i);
      const all = paramsOf(rest);
      const name = all[0]!.name;
      const whole = rest.length === 1 && part.length === 1;
      const regex = partsPattern(rest);
      out.push(whole ? `{*${name}}` : `{*${name}:${routeRegex(rest)}}`);
      args.push({ name, type: 'string?' });
      matches.push(whole ? { name, params: all } : { name, regex, params: all });
      break;
    }
    const adjacent = part.some((s, j) => s.kind === 'param' && part[j + 1]?.kind === 'param');
    if (adjacent) {
      const name = params[0]!.name;
      const regex = partsPattern([part]);
      out.push(`{${name}:${routeRegex([part])}}`);
      args.push({ name, type: 'string' });
      matches.push({ name, regex, params });
      continue;
    }
    out.push(
      part
        .map((s) => {
          if (s.kind === 'literal') return s.text;
          args.push({ name: s.name, type: CS_TYPES[s.type] });
          direct.push(s);
          return `{${s.name}${CONSTRAINTS[s.type]}}`;
        })
        .join(''),
    );
  }
  return { template: `/${out.join('/')}`, args, direct, matches };
}

/**
 * What keeps endpoints from working in ASP.NET Core, each as one sentence: an unclean path, parameter
 * names that differ only in letter case (route values are case-insensitive), and two endpoints that
 * are one route there (literals match whatever their case, and a trailing '/' is optional), which
 * would make every request to them fail as ambiguous.
 */
export function aspNetProblems(endpoints: readonly RenderedEndpoint[]): string[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const e of endpoints) {
    const label = `${e.method} ${e.path}`;
    const unclean = uncleanPath(splitParts(e.segments));
    if (unclean) problems.push(`endpoint '${label}': ${unclean}, which ASP.NET Core never matches.`);
    const names = paramsOf([e.segments]).map((p) => p.name.toLowerCase());
    if (new Set(names).size !== names.length)
      problems.push(
        `endpoint '${label}': parameter names that differ only in letter case are one route value in ASP.NET Core.`,
      );
    const key = `${e.method} ${e.segments
      .map((s) => (s.kind === 'literal' ? s.text.toLowerCase() : `{:${s.type}}`))
      .join('')
      .replace(/(.)\/$/, '$1')}`;
    const other = seen.get(key);
    if (other)
      problems.push(
        `endpoints '${other}' and '${label}' are the same route in ASP.NET Core (literals match in any letter case; a trailing '/' is optional).`,
      );
    else seen.set(key, label);
  }
  return problems;
}
