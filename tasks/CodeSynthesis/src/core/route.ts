/**
 * Endpoint paths: the parameter styles a service card may use, parsed into one form that each
 * template renders in its own framework's syntax.
 *
 * | style   | examples                                                    |
 * | ------- | ----------------------------------------------------------- |
 * | OpenAPI | `/weather/{city}`                                           |
 * | Express | `/weather/:city` (`:` at the start of a segment)            |
 * | Flask   | `/weather/<city>`, `/orders/<int:id>`, `/files/<path:rest>` |
 *
 * Types are Flask's converters: `string` (one segment, the default), `int` and `float` (unsigned,
 * digits; a float has a '.'), `path` (one or more segments, '/' included), `uuid`.
 */

/** The parameter types a card may name; each template converts them as Flask's converter does. */
export const PARAM_TYPES = ['string', 'int', 'float', 'path', 'uuid'] as const;
export type ParamType = (typeof PARAM_TYPES)[number];

/** One piece of an endpoint path: literal text (slashes included) or a named, typed parameter. */
export type RouteSegment =
  { kind: 'literal'; text: string } | { kind: 'param'; name: string; type: ParamType };

/** Characters a path may hold outside parameters: RFC 3986 unreserved characters, '/' and ':'. */
const LITERAL = /^[A-Za-z0-9\-._~/:]$/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const IDENTIFIER_AT = /[A-Za-z_][A-Za-z0-9_]*/y;

/**
 * Split a card's endpoint path into literals and parameters. `{name}` and `<name>` anywhere, and
 * `:name` at the start of a segment, are parameters; `<type:name>` gives the type (see PARAM_TYPES).
 * A ':' inside a segment is literal, so `/items:batchGet` keeps its colon.
 * Never throws: each problem (an unclosed or empty parameter, a name that is not an identifier, an
 * unknown type, a name used twice, a character paths may not hold) is returned as one sentence, and
 * `segments` is meaningful only when there are none.
 */
export function parseRoute(path: string): { segments: RouteSegment[]; problems: string[] } {
  const segments: RouteSegment[] = [];
  const problems: string[] = [];
  const names = new Set<string>();
  const badCharacters = new Set<string>();
  let literal = '';
  const problem = (name: string, written: string, type: string): string | undefined => {
    if (!name) return `'${written}' names no parameter.`;
    if (!IDENTIFIER.test(name))
      return `parameter '${written}': the name '${name}' must be an identifier (letters, digits and '_', not starting with a digit).`;
    if (!(PARAM_TYPES as readonly string[]).includes(type))
      return `parameter '${written}' has unknown type '${type}' (known: ${PARAM_TYPES.join(', ')}).`;
    if (names.has(name))
      return `parameter '${name}' appears more than once; give each parameter its own name.`;
    return undefined;
  };
  const param = (written: string, name: string, type: string) => {
    const wrong = problem(name, written, type);
    if (wrong) {
      problems.push(wrong);
      return;
    }
    names.add(name);
    if (literal) segments.push({ kind: 'literal', text: literal });
    literal = '';
    segments.push({ kind: 'param', name, type: type as ParamType });
  };

  for (let i = 0; i < path.length;) {
    const ch = path[i]!;
    if (ch === '{' || ch === '<') {
      const close = ch === '{' ? '}' : '>';
      const end = path.indexOf(close, i + 1);
      if (end < 0) {
        problems.push(`'${ch}' at character ${i + 1} has no closing '${close}'.`);
        break;
      }
      const inner = path.slice(i + 1, end);
      const colon = ch === '<' ? inner.indexOf(':') : -1;
      if (ch === '{' && /^[A-Za-z_]\w*:\w+$/.test(inner))
        problems.push(`parameter '{${inner}}': write a typed parameter as '<type:name>', e.g. '<int:id>'.`);
      else if (colon < 0) param(`${ch}${inner}${close}`, inner, 'string');
      else param(`<${inner}>`, inner.slice(colon + 1), inner.slice(0, colon));
      i = end + 1;
    } else if (ch === ':' && path[i - 1] === '/') {
      IDENTIFIER_AT.lastIndex = i + 1;
      const name = IDENTIFIER_AT.exec(path)?.[0] ?? '';
      if (!name)
        problems.push(`':' at character ${i + 1} starts a parameter and must be followed by its name.`);
      else param(`:${name}`, name, 'string');
      i += 1 + name.length;
    } else {
      if (ch === '}' || ch === '>')
        problems.push(`'${ch}' at character ${i + 1} has no opening '${ch === '}' ? '{' : '<'}'.`);
      else if (LITERAL.test(ch)) literal += ch;
      else badCharacters.add(ch);
      i += 1;
    }
  }
  if (literal) segments.push({ kind: 'literal', text: literal });
  if (badCharacters.size)
    problems.push(
      `${[...badCharacters].map((c) => JSON.stringify(c)).join(', ')} may not appear in a path (allowed: letters, digits, '-', '.', '_', '~', '/', ':' and parameters).`,
    );
  return { segments, problems };
}
