/**
 * C# source checked without the .NET SDK (which no package registry reachable here serves): the
 * tree-sitter C# grammar (tree-sitter-c-sharp's WebAssembly build, run by web-tree-sitter) parses it,
 * so a test can assert it has no syntax error and read its structure (the Map* calls of a minimal API).
 * A syntax check only: names, types and overloads are not resolved.
 */
import { Language, Parser, type Node } from 'web-tree-sitter';

let parser: Promise<Parser> | undefined;

function load(): Promise<Parser> {
  parser ??= (async () => {
    await Parser.init();
    const language = await Language.load(require.resolve('tree-sitter-c-sharp/tree-sitter-c_sharp.wasm'));
    const p = new Parser();
    p.setLanguage(language);
    return p;
  })();
  return parser;
}

/** A minimal API route: `app.MapGet("/orders/{id:long:min(0)}", (long id, HttpRequest request) => ...)`. */
export interface MappedRoute {
  /** Get, Post, Put, Patch or Delete. */
  verb: string;
  template: string;
  /** The lambda's parameters, as `type name`. */
  params: string[];
}

export interface CSharpFile {
  /** Each syntax error or missing token, with its line and column (empty when the file parses). */
  errors: string[];
  /** Every `app.Map<Verb>(...)` call with a string literal template and a lambda. */
  routes: MappedRoute[];
  /** The decoded value of every regular and verbatim string literal. */
  strings: string[];
}

/** Parse C# source and report its syntax errors, routes and string literals. */
export async function parseCSharp(source: string): Promise<CSharpFile> {
  const tree = (await load()).parse(source);
  if (!tree) throw new Error('tree-sitter returned no tree');
  const errors: string[] = [];
  const routes: MappedRoute[] = [];
  const strings: string[] = [];
  const visit = (node: Node) => {
    if (node.isError || node.isMissing)
      errors.push(
        `${node.startPosition.row + 1}:${node.startPosition.column + 1} ${node.type} '${node.text.slice(0, 60)}'`,
      );
    if (node.type === 'string_literal') strings.push(decodeString(node.text));
    if (node.type === 'verbatim_string_literal') strings.push(node.text.slice(2, -1).replace(/""/g, '"'));
    if (node.type === 'invocation_expression') {
      const callee = node.childForFieldName('function')?.text ?? '';
      const args = node.childForFieldName('arguments')?.namedChildren.map((a) => a?.namedChildren[0]) ?? [];
      const verb = /^app\.Map(Get|Post|Put|Patch|Delete)$/.exec(callee)?.[1];
      const [template, lambda] = args;
      if (verb && template?.type === 'string_literal' && lambda?.type === 'lambda_expression') {
        const params =
          lambda
            .childForFieldName('parameters')
            ?.namedChildren.filter((p) => p?.type === 'parameter')
            .map((p) => p!.text) ?? [];
        routes.push({ verb, template: decodeString(template.text), params });
      }
    }
    for (const child of node.children) if (child) visit(child);
  };
  visit(tree.rootNode);
  tree.delete();
  return { errors, routes, strings };
}

/** The value of a C# regular string literal (the escapes the templates write). */
function decodeString(literal: string): string {
  return literal.slice(1, -1).replace(/\\(U[0-9a-fA-F]{8}|u[0-9a-fA-F]{4}|.)/g, (_, e: string) => {
    if (e.length > 1) return String.fromCodePoint(parseInt(e.slice(1), 16));
    return ({ n: '\n', r: '\r', t: '\t', '0': '\0' } as Record<string, string>)[e] ?? e;
  });
}
