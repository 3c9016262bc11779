/**
 * Microsoft's Azure Pipelines YAML schema (tests/fixtures/azure-pipelines.schema.json, draft-07, the
 * `service-schema.json` of microsoft/azure-pipelines-vscode), compiled once with Ajv and checked the way
 * Microsoft's language server applies it (microsoft/azure-pipelines-language-server,
 * language-service/src/parser/jsonParser.ts):
 * - scalars are strings (pipeline-yaml.ts): `type: boolean` accepts true/false/yes/no/on/off/y/n, `type:
 *   integer`/`number` accepts digits, and a whole `${{ }}`, `$[ ]` or `$( )` expression stands for any
 *   type. Expressions are accepted for pickList values too, which the server evaluates before the task runs;
 * - `aliases` name the same input; `firstProperty` says which key comes first (`task`, `script`, `job`,
 *   ...), and among alternatives only those whose first key matches are tried;
 * - `ignoreCase` is not applied: examples spell keys and values as the schema does (stricter).
 * Tasks outside Microsoft's schema (ours, SonarCloud's) are added as Azure DevOps adds an installed
 * extension's task to an organization's schema: name@major, every input and alias, pickList options as
 * the allowed values, inputs required without a default or visibility rule.
 *
 * Each task step is checked against its own task's branch first, for messages that name the input;
 * the rest of the document is then checked against the whole schema.
 */
import Ajv, { type ErrorObject, type SchemaValidateFunction, type ValidateFunction } from 'ajv';
import {
  findSteps,
  pointerSegment,
  pointerSegments,
  pointerToPath,
  replaceAt,
  valueAt,
  type PipelineFile,
  type StepAt,
  type View,
} from './pipeline-yaml';

/** A task's contract, task.json's fields as far as the schema needs them. */
export interface TaskDefinition {
  name: string;
  version: { Major: number };
  deprecated?: boolean;
  inputs: TaskInput[];
  outputVariables?: { name: string }[];
  /** Where the definition comes from, named in messages (e.g. tasks/CodeSynthesis/task.json). */
  source: string;
}

export interface TaskInput {
  name: string;
  aliases?: string[];
  type: string;
  label?: string;
  required?: boolean;
  defaultValue?: unknown;
  visibleRule?: string;
  options?: Record<string, string>;
  properties?: Record<string, unknown>;
}

type Json = { [key: string]: unknown };
const isJson = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Definitions this file adds to the schema. */
const X = {
  expression: 'x-expression',
  boolean: 'x-boolean',
  integer: 'x-integer',
  number: 'x-number',
  taskBase: 'x-task-base',
} as const;
const ref = (name: string): Json => ({ $ref: `#/definitions/${name}` });

/** What the language server counts as an expression: the whole value, start to end. */
const EXPRESSION = '^(?:\\$\\{\\{[\\s\\S]*\\}\\}|\\$\\[[\\s\\S]*\\]|\\$\\([\\s\\S]*\\))$';
/** YAML 1.1 booleans, which the language server reads as booleans. */
const BOOLEAN = '^(?:true|True|TRUE|false|False|FALSE|y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$';
const TYPE_FORMS: Record<string, Json> = {
  boolean: ref(X.boolean),
  integer: ref(X.integer),
  number: ref(X.number),
};

/** The branch Azure DevOps generates for an installed task (compare DotNetCoreCLI@2's in the schema). */
export function taskBranch(def: TaskDefinition): Json {
  const inputs: Json = {};
  for (const input of def.inputs) {
    const editable = String(input.properties?.EditableOptions ?? '').toLowerCase() === 'true';
    const options = input.options && !editable ? Object.keys(input.options) : undefined;
    inputs[input.name] = {
      description: input.label ?? input.name,
      ...(options?.length
        ? { ignoreCase: 'all', enum: options }
        : { type: input.type === 'boolean' ? 'boolean' : 'string', ignoreCase: 'key' }),
      ...(input.aliases?.length ? { aliases: input.aliases } : {}),
    };
  }
  const required = def.inputs
    .filter((i) => i.required && !i.visibleRule && (i.defaultValue === undefined || i.defaultValue === ''))
    .map((i) => i.name);
  return {
    properties: {
      task: { description: def.name, ignoreCase: 'value', pattern: `^${def.name}@${def.version.Major}$` },
      inputs: {
        description: `${def.name} inputs`,
        properties: inputs,
        additionalProperties: false,
        required,
      },
    },
    doNotSuggest: false,
    firstProperty: ['task'],
    required: required.length ? ['task', 'inputs'] : ['task'],
  };
}

/**
 * The schema as Ajv should apply it (see the file comment). `definitions` resolves `$ref`s to learn
 * an alternative's first key.
 */
function adapt(schema: unknown, definitions: Json): unknown {
  if (!isJson(schema)) return schema;
  const out: Json = { ...schema };
  for (const key of ['properties', 'patternProperties', 'definitions'])
    if (isJson(out[key]))
      out[key] = Object.fromEntries(Object.entries(out[key]).map(([k, v]) => [k, adapt(v, definitions)]));
  for (const key of ['oneOf', 'allOf'])
    if (Array.isArray(out[key])) out[key] = out[key].map((s: unknown) => adapt(s, definitions));
  for (const key of ['items', 'additionalProperties', 'not'])
    if (isJson(out[key])) out[key] = adapt(out[key], definitions);
  if (Array.isArray(out.anyOf)) {
    const alternatives = out.anyOf.map((s: unknown) => adapt(s, definitions) as Json);
    const firsts = out.anyOf.map((s: unknown) => firstKeys(s, definitions));
    delete out.anyOf;
    Object.assign(out, discriminate(alternatives, firsts));
  }
  if (isJson(out.properties)) addAliases(out, out.properties);
  const extra: Json[] = [];
  if (typeof out.type === 'string' && out.type !== 'string') {
    extra.push({ anyOf: [ref(X.expression), TYPE_FORMS[out.type] ?? { type: out.type }] });
    delete out.type;
  }
  if (Array.isArray(out.enum)) {
    extra.push({ anyOf: [ref(X.expression), { enum: out.enum }] });
    delete out.enum;
  }
  if (extra.length) out.allOf = [...(Array.isArray(out.allOf) ? out.allOf : []), ...extra];
  return out;
}

/** An alternative's `firstProperty`, directly or through its `$ref`. */
function firstKeys(schema: unknown, definitions: Json): string[] | undefined {
  if (!isJson(schema)) return undefined;
  if (Array.isArray(schema.firstProperty)) return schema.firstProperty as string[];
  const target =
    typeof schema.$ref === 'string' ? /^#\/definitions\/([^/]+)$/.exec(schema.$ref)?.[1] : undefined;
  return target ? firstKeys(definitions[target], definitions) : undefined;
}

/**
 * anyOf over alternatives told apart by their first key (job/deployment/template, script/bash/task, ...):
 * only the alternatives whose first key matches are tried, as the language server does, so errors
 * come from the alternative the author meant; a first key no alternative takes is one error.
 */
function discriminate(alternatives: Json[], firsts: Array<string[] | undefined>): Json {
  const known = firsts.every((f) => f !== undefined);
  if (!known || new Set(firsts.map((f) => f!.join(','))).size < 2) return { anyOf: alternatives };
  const all = [...new Set(firsts.flatMap((f) => f!))];
  return {
    if: { 'x-firstIn': all },
    then: {
      anyOf: alternatives.map((alternative, i) => ({
        if: { 'x-firstIn': firsts[i] },
        then: alternative,
        else: false,
      })),
    },
    // A whole expression may stand for the mapping (`- ${{ parameters.step }}`), as anywhere else.
    else: { anyOf: [ref(X.expression), { 'x-firstKeyError': all }] },
  };
}

/** Aliases are further names of a property; a required property may be given by any of them. */
function addAliases(schema: Json, properties: Json): void {
  const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
  const groups: string[][] = [];
  for (const [name, property] of Object.entries(properties)) {
    const aliases = isJson(property) && Array.isArray(property.aliases) ? (property.aliases as string[]) : [];
    const others = aliases.filter((a) => a !== name);
    for (const alias of others) if (!(alias in properties)) properties[alias] = property;
    if (others.length && required.includes(name)) groups.push([name, ...others]);
  }
  if (groups.length) {
    schema.required = required.filter((r) => !groups.some((g) => g[0] === r));
    schema['x-requiredOneOf'] = groups;
  }
}

const firstKeyOf = (data: unknown): string | undefined => (isJson(data) ? Object.keys(data)[0] : undefined);

const firstProperty: SchemaValidateFunction = (keys: string[], data: unknown) => {
  const first = firstKeyOf(data);
  if (first === undefined || keys.includes(first)) return true;
  firstProperty.errors = [
    { keyword: 'firstProperty', message: `the first key must be ${keys.join(' or ')}`, params: { first } },
  ];
  return false;
};

const firstKeyError: SchemaValidateFunction = (keys: string[], data: unknown) => {
  const first = firstKeyOf(data);
  firstKeyError.errors = [
    {
      keyword: 'x-firstKeyError',
      message: `${first === undefined ? 'must be a mapping whose first key is' : `the first key is '${first}', not`} one of ${keys.join(', ')}`,
      params: { first },
    },
  ];
  return false;
};

const requiredOneOf: SchemaValidateFunction = (groups: string[][], data: unknown) => {
  const missing = groups.filter((g) => !g.some((name) => isJson(data) && name in data));
  requiredOneOf.errors = missing.map((g) => ({
    keyword: 'x-requiredOneOf',
    message: `must have '${g[0]}' (or ${g
      .slice(1)
      .map((a) => `'${a}'`)
      .join(', ')})`,
    params: { missingProperty: g[0], aliases: g.slice(1) },
  }));
  return missing.length === 0;
};

/** Every task step of a document (a step whose `task` is a string), with its JSON pointer. */
export function taskSteps(view: View): Array<StepAt & { task: string }> {
  return findSteps(view).flatMap((s) =>
    typeof s.step.task === 'string' ? [{ ...s, task: s.step.task }] : [],
  );
}

const show = (value: View | undefined): string =>
  typeof value === 'string'
    ? `'${value.length > 60 ? `${value.slice(0, 60)}...` : value}'`
    : JSON.stringify(value);

/** Errors that say something about the document, not about the alternatives Ajv also tried. */
const meaningful = (e: ErrorObject): boolean =>
  !['anyOf', 'if', 'false schema'].includes(e.keyword) && !e.schemaPath.includes(X.expression);

/** Microsoft's schema with our tasks added, compiled once (a few seconds). */
export class PipelineSchema {
  private readonly ajv: Ajv;
  private readonly id: string;
  private readonly validateDocument: ValidateFunction;
  /** task@major -> indexes of its branches in definitions.task.anyOf (a few names have two). */
  private readonly branches = new Map<string, number[]>();
  private readonly deprecated = new Set<string>();
  private readonly sources = new Map<string, string>();
  private readonly stepValidators = new Map<string, ValidateFunction>();

  /**
   * @param microsoftSchema the parsed tests/fixtures/azure-pipelines.schema.json (not modified)
   * @param tasks tasks outside it, added as an organization's schema lists installed tasks
   */
  constructor(microsoftSchema: unknown, tasks: readonly TaskDefinition[]) {
    const schema = structuredClone(microsoftSchema) as Json;
    const definitions = schema.definitions as Json;
    const task = definitions.task as Json;
    const names = ((task.properties as Json).task as Json).anyOf as Json[];
    const branches = task.anyOf as Json[];
    for (const def of tasks) {
      const name = `${def.name}@${def.version.Major}`;
      names.push({
        description: def.name,
        ignoreCase: 'value',
        enum: [name],
        doNotSuggest: Boolean(def.deprecated),
        ...(def.deprecated ? { deprecationMessage: `${def.name} is deprecated` } : {}),
      });
      branches.push(taskBranch(def));
      this.sources.set(name, def.source);
    }
    branches.forEach((branch, i) => {
      const pattern = ((branch.properties as Json).task as Json).pattern as string;
      const name = pattern.replace(/^\^|\$$/g, '');
      this.branches.set(name, [...(this.branches.get(name) ?? []), i]);
    });
    for (const name of this.branches.keys()) {
      const entries = names.filter((n) => Array.isArray(n.enum) && n.enum.includes(name));
      if (entries.length && entries.every((n) => n.deprecationMessage)) this.deprecated.add(name);
    }
    definitions[X.expression] = { type: 'string', pattern: EXPRESSION };
    definitions[X.boolean] = { type: 'string', pattern: BOOLEAN };
    definitions[X.integer] = { type: 'string', pattern: '^[-+]?[0-9]+$' };
    definitions[X.number] = {
      type: 'string',
      pattern: '^[-+]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:[eE][-+]?[0-9]+)?$',
    };
    const base: Json = { ...task, properties: { ...(task.properties as Json), task: { type: 'string' } } };
    delete base.anyOf;
    definitions[X.taskBase] = base;

    this.id = String(schema.$id);
    const adapted = adapt(schema, definitions) as Json;
    // unicodeRegExp off: the schema's patterns are JavaScript regular expressions without the u flag
    // (its branch filter escapes ':', which the u flag refuses), as the language server runs them.
    this.ajv = new Ajv({ allErrors: true, strictTypes: false, strictTuples: false, unicodeRegExp: false });
    for (const keyword of ['ignoreCase', 'doNotSuggest', 'deprecationMessage', 'aliases'])
      this.ajv.addKeyword({ keyword });
    this.ajv.addKeyword({
      keyword: 'firstProperty',
      schemaType: 'array',
      validate: firstProperty,
      errors: true,
    });
    this.ajv.addKeyword({
      keyword: 'x-firstKeyError',
      schemaType: 'array',
      validate: firstKeyError,
      errors: true,
    });
    this.ajv.addKeyword({
      keyword: 'x-requiredOneOf',
      schemaType: 'array',
      validate: requiredOneOf,
      errors: true,
    });
    this.ajv.addKeyword({
      keyword: 'x-firstIn',
      schemaType: 'array',
      validate: (keys: string[], data: unknown) => keys.includes(firstKeyOf(data) ?? '\0'),
      errors: false,
    });
    this.ajv.addSchema(adapted);
    this.validateDocument = this.ajv.getSchema(this.id)!;
  }

  /** The task names the schema knows (Microsoft's and the added ones), as `Name@major`. */
  knownTasks(): string[] {
    return [...this.branches.keys()];
  }

  /**
   * Problems of one document, each `file:line path: message`; none when it is valid.
   * @param view the document to check: the file's own, or a variant with parameters substituted
   */
  check(file: PipelineFile, view: View = file.view): string[] {
    const where = (pointer: string): string =>
      `${file.file}:${file.lineOf(pointer) ?? '?'} ${pointerToPath(pointer)}`;
    const problems: string[] = [];
    const reported: string[] = [];
    for (const { pointer, step, task } of taskSteps(view)) {
      if (/^\$[{[(]/.test(task)) continue;
      const before = problems.length;
      if (!this.branches.has(task))
        problems.push(
          `${where(`${pointer}/task`)}: unknown task '${task}': neither in Microsoft's schema nor among ${[...this.sources.keys()].join(', ')}`,
        );
      else {
        if (this.deprecated.has(task))
          problems.push(
            `${where(`${pointer}/task`)}: ${task} is deprecated (${this.sourceOf(task)}): use its current major version`,
          );
        const validate = this.stepValidator(task);
        if (!validate(step))
          for (const e of (validate.errors ?? []).filter(meaningful))
            problems.push(this.describeStepError(e, pointer, task, step, where));
      }
      if (problems.length > before) reported.push(pointer);
    }
    // The steps reported above stand in as a plain script step, so that the rest of the document is
    // checked as if they were fixed (their faults would otherwise fail every enclosing alternative).
    const rest = reported.reduce((v, pointer) => replaceAt(v, pointer, { script: '' }), view);
    if (!this.validateDocument(rest)) {
      const errors = (this.validateDocument.errors ?? []).filter(meaningful);
      const depth = (e: ErrorObject): number => e.instancePath.split('/').length;
      const deepest = Math.max(...errors.map(depth));
      for (const e of errors.filter((e) => depth(e) === deepest))
        problems.push(describeError(e, view, where));
      if (!errors.length && !problems.length) problems.push(`${where('')}: does not match the schema`);
    }
    return [...new Set(problems)];
  }

  private sourceOf(task: string): string {
    return this.sources.get(task) ?? "Microsoft's schema";
  }

  private stepValidator(task: string): ValidateFunction {
    let validate = this.stepValidators.get(task);
    if (!validate) {
      validate = this.ajv.compile({
        allOf: [
          { $ref: `${this.id}#/definitions/${X.taskBase}` },
          {
            anyOf: this.branches.get(task)!.map((i) => ({ $ref: `${this.id}#/definitions/task/anyOf/${i}` })),
          },
        ],
      });
      this.stepValidators.set(task, validate);
    }
    return validate;
  }

  private describeStepError(
    e: ErrorObject,
    stepPointer: string,
    task: string,
    step: View,
    where: (pointer: string) => string,
  ): string {
    const segments = pointerSegments(e.instancePath);
    const inputName = segments.length === 2 && segments[0] === 'inputs' ? segments[1] : undefined;
    const at = `${stepPointer}${e.instancePath}`;
    const params = e.params as Record<string, unknown>;
    if (e.keyword === 'additionalProperties') {
      const key = String(params.additionalProperty);
      const keyPointer = `${at}/${pointerSegment(key)}`;
      return e.instancePath === '/inputs'
        ? `${where(keyPointer)}: ${task} has no input '${key}' (${this.sourceOf(task)}; nor is it an alias)`
        : `${where(keyPointer)}: '${key}' is not a key of a task step`;
    }
    if (inputName !== undefined && e.keyword === 'enum')
      return `${where(at)}: input '${inputName}' of ${task}: ${show(valueAt(step, e.instancePath))} is not one of ${(params.allowedValues as string[]).join(', ')} (${this.sourceOf(task)})`;
    if (inputName !== undefined && e.schemaPath.includes(X.boolean))
      return `${where(at)}: input '${inputName}' of ${task}: ${show(valueAt(step, e.instancePath))} is not a boolean (true or false)`;
    if (e.instancePath === '/inputs' && (e.keyword === 'required' || e.keyword === 'x-requiredOneOf'))
      return `${where(at)}: ${task} needs the input '${String(params.missingProperty)}'`;
    return `${where(at)}: ${task}: ${e.message ?? e.keyword}`;
  }
}

function describeError(e: ErrorObject, view: View, where: (pointer: string) => string): string {
  const params = e.params as Record<string, unknown>;
  if (e.keyword === 'additionalProperties') {
    const key = String(params.additionalProperty);
    return `${where(`${e.instancePath}/${pointerSegment(key)}`)}: '${key}' is not allowed here`;
  }
  if (e.keyword === 'required')
    return `${where(e.instancePath)}: '${String(params.missingProperty)}' is missing`;
  if (e.schemaPath.includes(X.boolean))
    return `${where(e.instancePath)}: ${show(valueAt(view, e.instancePath))} is not a boolean (true or false)`;
  if (e.keyword === 'enum')
    return `${where(e.instancePath)}: ${show(valueAt(view, e.instancePath))} is not one of ${(params.allowedValues as string[]).join(', ')}`;
  return `${where(e.instancePath)}: ${e.message ?? e.keyword}`;
}
