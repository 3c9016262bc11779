/**
 * An Azure Pipelines YAML file as Microsoft's language server (microsoft/azure-pipelines-language-server,
 * language-service/src/parser/yamlParser.ts) hands it to the schema:
 * - every scalar is a string, as written (`3.10` stays "3.10", `true` is "true"): the pipeline parser
 *   reads them so, and the schema types booleans and numbers accordingly (see pipeline-schema.ts);
 * - compile-time expressions used as keys (`${{ if ... }}:`, `${{ each ... }}:`) are hoisted: the keys
 *   under one join the mapping around it, the items under one join the sequence around it, so every
 *   branch of a condition is checked.
 * Template parameters are then substituted, once per value a parameter allows (parameterVariants).
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';

/** A pipeline document as the schema sees it. */
export type View = string | View[] | { [key: string]: View };

export interface PipelineFile {
  /** The path used in messages, e.g. examples/pipelines/python.yml. */
  file: string;
  view: View;
  /** YAML syntax errors and warnings, each `file:line message`. */
  errors: string[];
  /** The line of the key or item at a JSON pointer of `view` ('' is the document). */
  lineOf(pointer: string): number | undefined;
}

const COMPILE_TIME = /^\$\{\{[\s\S]*\}\}$/;

export const isObject = (v: View | undefined): v is { [key: string]: View } =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** One JSON pointer segment. */
export const pointerSegment = (key: string | number): string =>
  String(key).replace(/~/g, '~0').replace(/\//g, '~1');

/** The unescaped segments of a JSON pointer ('' has none). */
export const pointerSegments = (pointer: string): string[] =>
  pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));

/** `/jobs/0/steps/2` -> `jobs[0].steps[2]`, for messages. */
export function pointerToPath(pointer: string): string {
  if (!pointer) return '(document)';
  return pointerSegments(pointer).reduce(
    (path, s) => (/^\d+$/.test(s) ? `${path}[${s}]` : path ? `${path}.${s}` : s),
    '',
  );
}

/** The node at a JSON pointer, or undefined. */
export const valueAt = (root: View, pointer: string): View | undefined =>
  pointerSegments(pointer).reduce<View | undefined>(
    (node, key) => (Array.isArray(node) ? node[Number(key)] : isObject(node) ? node[key] : undefined),
    root,
  );

/** A copy of `root` with the node at `pointer` replaced (unchanged when there is no such node). */
export function replaceAt(root: View, pointer: string, value: View): View {
  const replace = (node: View, [key, ...rest]: string[]): View => {
    if (key === undefined) return value;
    if (Array.isArray(node))
      return node.map((child, i) => (String(i) === key ? replace(child, rest) : child));
    return isObject(node) && key in node ? { ...node, [key]: replace(node[key]!, rest) } : node;
  };
  return replace(root, pointerSegments(pointer));
}

/** A step of a document: a mapping in any `steps:` list (jobs, deployment hooks, templates). */
export interface StepAt {
  pointer: string;
  step: { [key: string]: View };
}

/** Every step under `view`, in document order; `pointer` is where `view` is. */
export function findSteps(view: View, pointer = ''): StepAt[] {
  const found: StepAt[] = [];
  const visit = (node: View, at: string, key?: string): void => {
    if (Array.isArray(node))
      node.forEach((item, i) => {
        if (key === 'steps' && isObject(item)) found.push({ pointer: `${at}/${i}`, step: item });
        visit(item, `${at}/${i}`);
      });
    else if (isObject(node))
      for (const [k, v] of Object.entries(node)) visit(v, `${at}/${pointerSegment(k)}`, k);
  };
  visit(view, pointer);
  return found;
}

/** Parse one file's text. Nothing is read from disk here. */
export function parsePipeline(file: string, text: string): PipelineFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { schema: 'failsafe', lineCounter, uniqueKeys: true });
  const lines = new Map<string, number>();
  const lineAt = (node: unknown): number | undefined => {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    return range ? lineCounter.linePos(range[0]).line : undefined;
  };
  const errors = [...doc.errors, ...doc.warnings].map(
    (e) => `${file}:${e.linePos?.[0].line ?? '?'} YAML: ${e.message.split('\n')[0]}`,
  );
  const build = (node: unknown, pointer: string): View => {
    const n = resolve(doc, node);
    if (isMap(n)) {
      const out: { [key: string]: View } = {};
      addPairs(n.items, pointer, out);
      return out;
    }
    if (isSeq(n)) {
      const out: View[] = [];
      addItems(n.items, pointer, out);
      return out;
    }
    if (isScalar(n)) return n.value === null || n.value === undefined ? '' : String(n.value);
    return '';
  };
  const addPairs = (
    pairs: readonly { key: unknown; value: unknown }[],
    pointer: string,
    out: { [key: string]: View },
  ) => {
    for (const pair of pairs) {
      const key = keyText(doc, pair.key);
      if (COMPILE_TIME.test(key)) {
        const value = resolve(doc, pair.value);
        if (isMap(value)) addPairs(value.items, pointer, out);
        continue;
      }
      const child = `${pointer}/${pointerSegment(key)}`;
      const line = lineAt(pair.key);
      if (line !== undefined) lines.set(child, line);
      out[key] = build(pair.value, child);
    }
  };
  const addItems = (items: readonly unknown[], pointer: string, out: View[]) => {
    for (const raw of items) {
      let item = resolve(doc, raw);
      const first = isMap(item) ? item.items[0] : undefined;
      if (first && COMPILE_TIME.test(keyText(doc, first.key))) {
        const value = resolve(doc, first.value);
        if (value === null || value === undefined || (isScalar(value) && value.value === null)) continue;
        if (isSeq(value)) {
          addItems(value.items, pointer, out);
          continue;
        }
        if (isMap(value)) item = value;
      }
      const child = `${pointer}/${out.length}`;
      const line = lineAt(item);
      if (line !== undefined) lines.set(child, line);
      out.push(build(item, child));
    }
  };
  const view = doc.contents === null ? '' : build(doc.contents, '');
  return { file, view, errors, lineOf: (pointer) => lines.get(pointer) ?? (pointer ? undefined : 1) };
}

function resolve(doc: Document, node: unknown): Node | null | undefined {
  return isAlias(node) ? (node.resolve(doc) as Node | undefined) : (node as Node | null | undefined);
}

function keyText(doc: Document, key: unknown): string {
  const k = resolve(doc, key);
  return isScalar(k) ? String(k.value ?? '') : String(k ?? '');
}

/** A template or runtime parameter as declared under `parameters:`. */
export interface Parameter {
  name: string;
  type: string;
  default?: View;
  values?: string[];
}

/** The parameters a file declares (a list of {name, type, default, values}, or a name: default mapping). */
export function declaredParameters(view: View): Parameter[] {
  const declared = isObject(view) ? view.parameters : undefined;
  if (Array.isArray(declared))
    return declared.filter(isObject).map((p) => ({
      name: typeof p.name === 'string' ? p.name : '',
      type: typeof p.type === 'string' ? p.type : 'string',
      ...(p.default !== undefined ? { default: p.default } : {}),
      ...(Array.isArray(p.values)
        ? { values: p.values.filter((v): v is string => typeof v === 'string') }
        : {}),
    }));
  if (isObject(declared))
    return Object.entries(declared).map(([name, value]) => ({ name, type: 'object', default: value }));
  return [];
}

/** The values a parameter allows: its `values`, or true and false for a boolean. */
export function allowedValues(parameter: Parameter): string[] | undefined {
  if (parameter.values?.length) return parameter.values;
  return parameter.type === 'boolean' ? ['true', 'false'] : undefined;
}

/** Parameter values to check a document with, and how to name them in messages ('' for the defaults). */
export interface ParameterVariant {
  label: string;
  values: Record<string, View>;
}

/**
 * Every assignment of parameters worth checking: all at their defaults, then each other allowed value
 * of each parameter in turn (the others at their defaults). A parameter without a default stays an
 * expression, which the schema accepts wherever a value may stand.
 */
export function parameterVariants(parameters: readonly Parameter[]): ParameterVariant[] {
  const defaults: Record<string, View> = {};
  for (const p of parameters) if (p.default !== undefined) defaults[p.name] = p.default;
  const variants: ParameterVariant[] = [{ label: '', values: defaults }];
  for (const p of parameters)
    for (const value of allowedValues(p) ?? [])
      if (value !== defaults[p.name])
        variants.push({ label: `parameters.${p.name}: ${value}`, values: { ...defaults, [p.name]: value } });
  return variants;
}

const PARAMETER = /\$\{\{\s*parameters\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
const WHOLE_PARAMETER = /^\$\{\{\s*parameters\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$/;

/**
 * `view` with `${{ parameters.x }}` replaced by the values given: a value that is the expression alone
 * becomes the parameter's value (of any shape); inside a longer string, scalar values are spliced in.
 * The `parameters:` declaration itself is left as it is.
 */
export function substituteParameters(view: View, values: Readonly<Record<string, View>>, top = true): View {
  if (typeof view === 'string') {
    const whole = WHOLE_PARAMETER.exec(view);
    if (whole && values[whole[1]!] !== undefined) return values[whole[1]!]!;
    return view.replace(PARAMETER, (text, name: string) => {
      const value = values[name];
      return typeof value === 'string' ? value : text;
    });
  }
  if (Array.isArray(view)) return view.map((v) => substituteParameters(v, values, false));
  const out: { [key: string]: View } = {};
  for (const [key, value] of Object.entries(view))
    out[key] = top && key === 'parameters' ? value : substituteParameters(value, values, false);
  return out;
}
