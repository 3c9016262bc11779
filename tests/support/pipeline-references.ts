/**
 * What a pipeline refers to beyond its own structure, checked without the network:
 * - output variables: `$(step.var)` and `variables['step.var']` in the same job,
 *   `dependencies.Job.outputs['step.var']`, `dependencies.Stage.outputs['Job.step.var']` and
 *   `stageDependencies.Stage.Job.outputs['step.var']`: the job, the step and the variable must exist. A
 *   task's outputs are its task.json `outputVariables`; a script's are the variables it sets with
 *   `##vso[task.setvariable variable=...;isOutput=true]`;
 * - local step templates (`- template: templates/x.yml`, relative to the including file): the file
 *   exists, every parameter passed is declared, allowed values are respected, required ones are given.
 *   Their steps count as steps of the including job.
 */
import {
  allowedValues,
  declaredParameters,
  findSteps,
  isObject,
  pointerSegment,
  pointerToPath,
  substituteParameters,
  type PipelineFile,
  type View,
} from './pipeline-yaml';
import type { TaskDefinition } from './pipeline-schema';

export interface ReferenceContext {
  /** Tasks whose output variables are known, by `Name@major`. */
  tasks: ReadonlyMap<string, TaskDefinition>;
  /** A template named by a path relative to the including file; undefined when there is none. */
  readTemplate(fromFile: string, templatePath: string): PipelineFile | undefined;
}

interface Step {
  /** What the step is, for messages: `CodeSynthesis@1`, `bash`, ... */
  kind: string;
  /** Its output variables; undefined when they cannot be known (a task without a definition here). */
  outputs?: ReadonlySet<string>;
  /** Where the outputs come from, for messages. */
  source: string;
}

interface Job {
  name: string;
  stage?: string;
  pointer: string;
  steps: Map<string, Step>;
}

/** Variable namespaces the agent defines (Build.SourcesDirectory, Agent.TempDirectory, ...). */
const PREDEFINED = new Set(
  [
    'Agent',
    'Build',
    'Checks',
    'Common',
    'Endpoint',
    'Environment',
    'Pipeline',
    'Release',
    'Resources',
    'Strategy',
    'System',
    'Task',
    'TF',
  ].map((n) => n.toLowerCase()),
);
const SCRIPT_KEYS = ['script', 'bash', 'pwsh', 'powershell'];
const MACRO = /\$\(([A-Za-z0-9_.-]+)\)/g;
const VARIABLES_INDEX = /\bvariables\[\s*'([^']+)'\s*\]/g;
const STAGE_DEPENDENCY =
  /\bstageDependencies\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.outputs\[\s*['"]([^'"]+)['"]\s*\]/g;
const DEPENDENCY = /(?<![A-Za-z.])dependencies\.([A-Za-z0-9_-]+)\.outputs\[\s*['"]([^'"]+)['"]\s*\]/g;
const SET_VARIABLE = /##vso\[task\.setvariable\s+([^\]]*)\]/gi;
const EXPRESSION = /^\s*\$[{[(]/;

/** Problems of one document, each `file:line path: message`. */
export function referenceProblems(file: PipelineFile, view: View, context: ReferenceContext): string[] {
  const problems: string[] = [];
  const where = (pointer: string): string =>
    `${file.file}:${file.lineOf(pointer) ?? '?'} ${pointerToPath(pointer)}`;
  const jobs = collectJobs(file, view, context, problems, where);
  const variables = declaredVariables(view);
  const stages = new Set(jobs.map((j) => j.stage).filter((s): s is string => s !== undefined));

  const resolve = (job: Job | undefined, key: string, text: string, at: string): void => {
    if (!job) return; // jobNamed has said so
    const parts = key.split('.');
    if (parts.length < 2) {
      problems.push(`${where(at)}: ${text}: '${key}' is not <step>.<variable>`);
      return;
    }
    checkOutput(job, parts[parts.length - 2]!, parts[parts.length - 1]!, text, at);
  };
  const checkOutput = (job: Job, stepName: string, variable: string, text: string, at: string): void => {
    const step = job.steps.get(stepName);
    const inJob = job.name ? `job '${job.name}'` : 'this job';
    if (!step) {
      problems.push(`${where(at)}: ${text}: ${inJob} has no step named '${stepName}'`);
      return;
    }
    if (!step.outputs) {
      problems.push(`${where(at)}: ${text}: the outputs of ${step.kind} are not known here`);
      return;
    }
    if (!step.outputs.has(variable))
      problems.push(
        `${where(at)}: ${text}: step '${stepName}' (${step.kind}) has no output variable '${variable}'; ${step.source} lists ${[...step.outputs].join(', ') || 'none'}`,
      );
  };
  const jobNamed = (name: string, stage: string | undefined, text: string, at: string): Job | undefined => {
    const job = jobs.find((j) => j.name === name && (stage === undefined || j.stage === stage));
    if (!job)
      problems.push(`${where(at)}: ${text}: no job named '${name}'${stage ? ` in stage '${stage}'` : ''}`);
    return job;
  };

  const scan = (text: string, at: string, job: Job | undefined): void => {
    for (const m of text.matchAll(STAGE_DEPENDENCY)) {
      if (!stages.has(m[1]!)) problems.push(`${where(at)}: ${m[0]}: no stage named '${m[1]}'`);
      else resolve(jobNamed(m[2]!, m[1]!, m[0], at), m[3]!, m[0], at);
    }
    for (const m of text.matchAll(DEPENDENCY)) {
      const [ref, name, key] = [m[0], m[1]!, m[2]!];
      if (jobs.some((j) => j.name === name)) resolve(jobNamed(name, undefined, ref, at), key, ref, at);
      else if (stages.has(name)) {
        const [jobName, ...rest] = key.split('.');
        resolve(jobNamed(jobName!, name, ref, at), rest.join('.'), ref, at);
      } else problems.push(`${where(at)}: ${ref}: no job or stage named '${name}'`);
    }
    const names = [...text.matchAll(MACRO), ...text.matchAll(VARIABLES_INDEX)].filter((m) =>
      m[1]!.includes('.'),
    );
    for (const [ref, name] of names) {
      const [prefix, ...rest] = name!.split('.');
      if (PREDEFINED.has(prefix!.toLowerCase()) || variables.has(name!.toLowerCase())) continue;
      if (job?.steps.has(prefix!)) checkOutput(job, prefix!, rest.join('.'), ref, at);
      else
        problems.push(
          `${where(at)}: ${ref}: no step named '${prefix}' in ${job?.name ? `job '${job.name}'` : 'this job'}, nor a predefined or declared variable`,
        );
    }
  };

  const jobAt = new Map(jobs.map((j) => [j.pointer, j]));
  const visit = (node: View, pointer: string, job: Job | undefined): void => {
    const current = jobAt.get(pointer) ?? job;
    if (typeof node === 'string') scan(node, pointer, current);
    else if (Array.isArray(node)) node.forEach((item, i) => visit(item, `${pointer}/${i}`, current));
    else if (isObject(node))
      for (const [k, v] of Object.entries(node))
        if (!(pointer === '' && k === 'parameters')) visit(v, `${pointer}/${pointerSegment(k)}`, current);
  };
  visit(view, '', undefined);
  return [...new Set(problems)];
}

/** The jobs of a document: stages' jobs, top-level jobs, or the single job of a top-level `steps:`. */
function collectJobs(
  file: PipelineFile,
  view: View,
  context: ReferenceContext,
  problems: string[],
  where: (pointer: string) => string,
): Job[] {
  if (!isObject(view)) return [];
  const jobs: Job[] = [];
  const addJobs = (list: View | undefined, pointer: string, stage?: string): void => {
    if (!Array.isArray(list)) return;
    list.forEach((item, i) => {
      if (!isObject(item)) return;
      const name =
        typeof item.job === 'string'
          ? item.job
          : typeof item.deployment === 'string'
            ? item.deployment
            : undefined;
      if (name === undefined) return;
      const jobPointer = `${pointer}/${i}`;
      jobs.push({ name, ...(stage ? { stage } : {}), pointer: jobPointer, steps: stepsOf(item, jobPointer) });
    });
  };
  const stepsOf = (job: View, pointer: string): Map<string, Step> => {
    const steps = new Map<string, Step>();
    for (const { pointer: at, step } of findSteps(job, pointer))
      addStep(file, step, at, steps, context, problems, where);
    return steps;
  };
  if (Array.isArray(view.stages))
    view.stages.forEach((stage, i) => {
      if (isObject(stage) && typeof stage.stage === 'string')
        addJobs(stage.jobs, `/stages/${i}/jobs`, stage.stage);
    });
  addJobs(view.jobs, '/jobs');
  if (Array.isArray(view.steps))
    jobs.push({ name: '', pointer: '', steps: stepsOf({ steps: view.steps }, '') });
  return jobs;
}

function addStep(
  file: PipelineFile,
  step: View,
  pointer: string,
  steps: Map<string, Step>,
  context: ReferenceContext,
  problems: string[],
  where: (pointer: string) => string,
  chain: readonly string[] = [file.file],
): void {
  if (!isObject(step)) return;
  if (typeof step.template === 'string') {
    if (step.template.includes('@')) return; // another repository's template: not on disk here
    const template = context.readTemplate(file.file, step.template);
    if (!template) {
      problems.push(`${where(`${pointer}/template`)}: template '${step.template}' does not exist`);
      return;
    }
    if (chain.includes(template.file)) {
      problems.push(`${where(`${pointer}/template`)}: template ${template.file} includes itself`);
      return;
    }
    const passed = isObject(step.parameters) ? step.parameters : {};
    const values = checkTemplateParameters(template, passed, `${pointer}/parameters`, problems, where);
    const expanded = substituteParameters(template.view, values);
    const inner = isObject(expanded) && Array.isArray(expanded.steps) ? expanded.steps : [];
    inner.forEach((s) =>
      addStep(template, s, pointer, steps, context, problems, where, [...chain, template.file]),
    );
    return;
  }
  if (typeof step.name !== 'string') return;
  if (typeof step.task === 'string') {
    const def = context.tasks.get(step.task);
    steps.set(step.name, {
      kind: step.task,
      ...(def ? { outputs: new Set((def.outputVariables ?? []).map((o) => o.name)) } : {}),
      source: def ? `${def.source} (outputVariables)` : step.task,
    });
    return;
  }
  const scriptKey = SCRIPT_KEYS.find((k) => typeof step[k] === 'string');
  const outputs = new Set<string>();
  if (scriptKey)
    for (const m of (step[scriptKey] as string).matchAll(SET_VARIABLE)) {
      const props = Object.fromEntries(
        m[1]!.split(';').map((p) => {
          const [k, ...v] = p.split('=');
          return [k!.trim().toLowerCase(), v.join('=').trim()];
        }),
      );
      if (props.variable && props.isoutput?.toLowerCase() === 'true') outputs.add(props.variable);
    }
  steps.set(step.name, {
    kind: scriptKey ?? Object.keys(step)[0] ?? 'step',
    outputs,
    source: 'its script (isOutput=true)',
  });
}

/**
 * The template's parameter values for this use: its defaults, overridden by what is passed.
 * Reports parameters it does not declare, required ones not given, and values it does not allow.
 */
function checkTemplateParameters(
  template: PipelineFile,
  passed: { [key: string]: View },
  pointer: string,
  problems: string[],
  where: (pointer: string) => string,
): Record<string, View> {
  const declared = declaredParameters(template.view);
  const values: Record<string, View> = {};
  for (const p of declared) if (p.default !== undefined) values[p.name] = p.default;
  for (const [name, value] of Object.entries(passed)) {
    const at = `${pointer}/${pointerSegment(name)}`;
    const parameter = declared.find((p) => p.name === name);
    if (!parameter) {
      problems.push(`${where(at)}: template ${template.file} has no parameter '${name}'`);
      continue;
    }
    const allowed = allowedValues(parameter);
    if (allowed && typeof value === 'string' && !EXPRESSION.test(value) && !allowed.includes(value))
      problems.push(
        `${where(at)}: parameter '${name}' of ${template.file}: '${value}' is not one of ${allowed.join(', ')}`,
      );
    values[name] = value;
  }
  for (const p of declared)
    if (p.default === undefined && !(p.name in passed))
      problems.push(`${where(pointer)}: template ${template.file} needs the parameter '${p.name}'`);
  return values;
}

/** Variable names a document declares (lower case: variable names ignore case). */
function declaredVariables(view: View): Set<string> {
  const names = new Set<string>();
  const visit = (node: View, key?: string): void => {
    if (key === 'variables' && isObject(node))
      for (const name of Object.keys(node)) names.add(name.toLowerCase());
    if (key === 'variables' && Array.isArray(node))
      for (const v of node) if (isObject(v) && typeof v.name === 'string') names.add(v.name.toLowerCase());
    if (Array.isArray(node)) node.forEach((v) => visit(v));
    else if (isObject(node)) for (const [k, v] of Object.entries(node)) visit(v, k);
  };
  visit(view);
  return names;
}
