/**
 * One entry for checking an Azure Pipelines file: YAML syntax, Microsoft's schema with our task and
 * SonarCloud's tasks added (pipeline-schema.ts), output variables and local templates
 * (pipeline-references.ts), once per parameter variant (pipeline-yaml.ts). Reads only the repository:
 * the schema and SonarCloud's task inputs from tests/fixtures, ours from tasks/CodeSynthesis/task.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PipelineSchema, type TaskDefinition } from './pipeline-schema';
import { referenceProblems, type ReferenceContext } from './pipeline-references';
import {
  declaredParameters,
  parameterVariants,
  parsePipeline,
  substituteParameters,
  type PipelineFile,
} from './pipeline-yaml';
import { REPO_ROOT } from './repo';

const readJson = (relative: string): unknown =>
  JSON.parse(fs.readFileSync(path.join(REPO_ROOT, ...relative.split('/')), 'utf8'));

/** Our task's contract, as the repository holds it now. */
export const CODE_SYNTHESIS_TASK_JSON = 'tasks/CodeSynthesis/task.json';

/** The tasks outside Microsoft's schema that the examples use: ours, and SonarCloud's (fixture). */
export function extraTasks(): TaskDefinition[] {
  const ours = {
    ...(readJson(CODE_SYNTHESIS_TASK_JSON) as TaskDefinition),
    source: CODE_SYNTHESIS_TASK_JSON,
  };
  const sonar = (readJson('tests/fixtures/sonarcloud-tasks.json') as { tasks: TaskDefinition[] }).tasks.map(
    (t) => ({
      ...t,
      source: `SonarSource/sonar-scanner-azdo ${t.source}`,
    }),
  );
  return [ours, ...sonar];
}

/** Parse a file of the repository by its path relative to the root ('/' separators). */
export function loadPipeline(relative: string): PipelineFile {
  return parsePipeline(relative, fs.readFileSync(path.join(REPO_ROOT, ...relative.split('/')), 'utf8'));
}

export class PipelineChecker {
  readonly schema: PipelineSchema;
  private readonly context: ReferenceContext;

  /** Compiles the schema (a few seconds): make one per test file. */
  constructor(tasks: readonly TaskDefinition[] = extraTasks()) {
    this.schema = new PipelineSchema(readJson('tests/fixtures/azure-pipelines.schema.json'), tasks);
    this.context = {
      tasks: new Map(tasks.map((t) => [`${t.name}@${t.version.Major}`, t])),
      readTemplate: (from, templatePath) => {
        const relative = path.posix.normalize(path.posix.join(path.posix.dirname(from), templatePath));
        const full = path.join(REPO_ROOT, ...relative.split('/'));
        return !relative.startsWith('../') && fs.existsSync(full) ? loadPipeline(relative) : undefined;
      },
    };
  }

  /** Every problem of a file, each `file:line path: message`; none when it is valid. */
  check(file: PipelineFile): string[] {
    const problems = [...file.errors];
    const seen = new Set<string>();
    for (const { label, values } of parameterVariants(declaredParameters(file.view))) {
      const view = substituteParameters(file.view, values);
      for (const p of [...this.schema.check(file, view), ...referenceProblems(file, view, this.context)]) {
        if (seen.has(p)) continue;
        seen.add(p);
        problems.push(label ? `${p} (with ${label})` : p);
      }
    }
    return problems;
  }
}
