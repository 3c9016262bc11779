/**
 * The example pipelines (examples/pipelines/) are what users copy. Each must be valid by Microsoft's
 * published Azure Pipelines schema (which also types the inputs of Microsoft's tasks), give
 * CodeSynthesis@1 only the inputs and values tasks/CodeSynthesis/task.json declares and SonarCloud's
 * tasks only theirs, and read only output variables that exist. No network: the schema and
 * SonarCloud's inputs are fixtures (tests/fixtures/SOURCES.md).
 *
 * Inputs and outputs that other issues add to task.json (validateCommand, reviewMode, ...,
 * generationStrategy, reuse; pullRequestUrl, reused) fail here, naming the input and the file, until
 * they land.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PipelineChecker, loadPipeline } from '../support/pipeline-check';
import { referenceProblems } from '../support/pipeline-references';
import { taskSteps } from '../support/pipeline-schema';
import { findSteps, isObject, parsePipeline, type View } from '../support/pipeline-yaml';
import { REPO_ROOT } from '../support/repo';

/** The task's output variables, in task.json's order, as the reference check lists them. */
const OUTPUT_NAMES = (
  JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'tasks', 'CodeSynthesis', 'task.json'), 'utf8')) as {
    outputVariables: { name: string }[];
  }
).outputVariables
  .map((o) => o.name)
  .join(', ');

const EXAMPLES = 'examples/pipelines';
const PIPELINES = [
  'containerize-and-deploy.yml',
  'dotnet.yml',
  'intent-file-trigger.yml',
  'node.yml',
  'python.yml',
  'stack-fan-out.yml',
];
const TEMPLATE = 'templates/code-synthesis-steps.yml';

/** Every .yml file under examples/pipelines, relative to the repository root. */
function exampleFiles(): string[] {
  const found: string[] = [];
  const walk = (relative: string): void => {
    for (const entry of fs.readdirSync(path.join(REPO_ROOT, relative), { withFileTypes: true })) {
      const child = `${relative}/${entry.name}`;
      if (entry.isDirectory()) walk(child);
      else if (/\.ya?ml$/.test(entry.name)) found.push(child);
    }
  };
  walk(EXAMPLES);
  return found.sort();
}

/** The steps of a document, wherever they are (jobs, stages, deployment hooks), in order. */
const allSteps = (view: View): Array<{ [key: string]: View }> => findSteps(view).map((s) => s.step);

/** Every string of a document, one per line, to search commands in. */
const textOf = (view: View): string =>
  typeof view === 'string' ? view : (Array.isArray(view) ? view : Object.values(view)).map(textOf).join('\n');
const tasksOf = (view: View): string[] => taskSteps(view).map((s) => s.task);
const inputsOf = (step: { [key: string]: View }): { [key: string]: View } =>
  isObject(step.inputs) ? step.inputs : {};
const example = (name: string): View => loadPipeline(`${EXAMPLES}/${name}`).view;

let checker: PipelineChecker;
/** Check YAML text as if it were a file of examples/pipelines (so local templates resolve). */
const problemsOf = (text: string): string[] => checker.check(parsePipeline(`${EXAMPLES}/negative.yml`, text));

describe('example pipelines (examples/pipelines/)', () => {
  before(function () {
    this.timeout(120_000); // one compilation of the 1.6 MB schema, shared by every test below
    checker = new PipelineChecker();
  });

  describe('every file validates', () => {
    it('examples/pipelines holds the six pipelines and the steps template, nothing else', () => {
      assert.deepEqual(exampleFiles(), [...PIPELINES, TEMPLATE].map((f) => `${EXAMPLES}/${f}`).sort());
    });

    for (const file of [...PIPELINES, TEMPLATE]) {
      it(`${file}: Microsoft's schema, the tasks' own inputs, the output variables it reads`, () => {
        const problems = checker.check(loadPipeline(`${EXAMPLES}/${file}`));
        assert.equal(problems.length, 0, `${problems.length} problem(s):\n${problems.join('\n')}`);
      });
    }

    for (const file of [...PIPELINES, TEMPLATE]) {
      it(`${file} says at the top what to create first`, () => {
        const text = fs.readFileSync(path.join(REPO_ROOT, EXAMPLES, file), 'utf8');
        const header = text.slice(0, text.search(/^[^#\n]/m));
        assert.match(
          header,
          /^# Create first:/m,
          `${file} must open with a comment saying what to create first`,
        );
        assert.ok(header.split('\n').length >= 5, `${file}: the opening comment is too short to say it`);
      });
    }
  });

  describe('each does what issue 11 asks', () => {
    for (const [file, stack] of [
      ['dotnet.yml', 'csharp'],
      ['python.yml', 'python'],
      ['node.yml', 'typescript'],
    ] as const) {
      it(`${file}: generates a ${stack} service, then tests it, publishes the results and runs the SonarCloud gate in order`, () => {
        const view = example(file);
        assert.ok(isObject(view) && isObject(view.variables));
        assert.match(String(view.variables.intent), new RegExp(`language: ${stack}\\b`));
        const order = allSteps(view).map((s) =>
          typeof s.task === 'string' ? s.task : typeof s.template === 'string' ? s.template : '',
        );
        const at = (name: string): number => order.indexOf(name);
        const synth = Math.max(at('CodeSynthesis@1'), at(TEMPLATE));
        assert.ok(synth >= 0, `${file} runs CodeSynthesis@1`);
        assert.ok(synth < at('SonarCloudPrepare@4'), 'SonarCloudPrepare after the generation');
        assert.ok(
          at('SonarCloudPrepare@4') < at('PublishTestResults@2'),
          'the tests between Prepare and Analyze',
        );
        assert.ok(at('PublishTestResults@2') < at('SonarCloudAnalyze@4'));
        assert.ok(at('SonarCloudAnalyze@4') < at('SonarCloudPublish@4'));
      });
    }

    it('dotnet.yml restores, builds and tests with DotNetCoreCLI@2 and publishes the .trx results', () => {
      const steps = taskSteps(example('dotnet.yml')).map((s) => s.step);
      const commands = steps.filter((s) => s.task === 'DotNetCoreCLI@2').map((s) => inputsOf(s).command);
      assert.deepEqual(commands, ['restore', 'build', 'test']);
      const publish = steps.find((s) => s.task === 'PublishTestResults@2');
      assert.equal(inputsOf(publish!).testResultsFormat, 'VSTest');
      assert.equal(publish!.condition, 'succeededOrFailed()');
    });

    it('python.yml and node.yml set up their runtime and write JUnit results that PublishTestResults@2 reads', () => {
      for (const [file, tool, runner] of [
        [
          'python.yml',
          'UsePythonVersion@0',
          /--junitxml="\$\(Common\.TestResultsDirectory\)\/TEST-pytest\.xml"/,
        ],
        [
          'node.yml',
          'NodeTool@0',
          /--test-reporter=junit --test-reporter-destination=\$\(Common\.TestResultsDirectory\)\/TEST-/,
        ],
      ] as const) {
        const view = example(file);
        assert.ok(tasksOf(view).includes(tool), `${file} uses ${tool}`);
        assert.match(textOf(view), runner);
        const publish = taskSteps(view).find((s) => s.task === 'PublishTestResults@2')!.step;
        assert.deepEqual(
          [inputsOf(publish).testResultsFormat, inputsOf(publish).searchFolder],
          ['JUnit', '$(Common.TestResultsDirectory)'],
        );
      }
    });

    it('intent-file-trigger.yml runs on changes under intents/ and opens a pull request from the changed file', () => {
      const view = example('intent-file-trigger.yml');
      assert.ok(isObject(view) && isObject(view.trigger) && isObject(view.trigger.paths));
      assert.deepEqual(view.trigger.paths.include, ['intents']);
      const synth = taskSteps(view).find((s) => s.task === 'CodeSynthesis@1')!.step;
      assert.equal(inputsOf(synth).intentFile, '$(intentFile)');
      assert.equal(inputsOf(synth).reviewMode, 'pullRequest');
      assert.match(textOf(view), /git diff --name-only .* -- 'intents\/\*\.yaml'/);
    });

    it('containerize-and-deploy.yml builds and pushes the generated Dockerfile, then deploys its manifest to an environment', () => {
      const view = example('containerize-and-deploy.yml');
      assert.ok(isObject(view) && Array.isArray(view.stages) && view.stages.length === 2);
      const docker = taskSteps(view).find((s) => s.task === 'Docker@2')!.step;
      assert.equal(inputsOf(docker).command, 'buildAndPush');
      assert.equal(inputsOf(docker).Dockerfile, 'generated/$(synth.serviceName)/Dockerfile');
      const deploy = view.stages[1];
      assert.ok(isObject(deploy) && Array.isArray(deploy.jobs) && isObject(deploy.jobs[0]));
      assert.equal(deploy.jobs[0].environment, 'weather-production');
      assert.deepEqual(tasksOf(deploy), ['KubernetesManifest@1']);
      assert.equal(inputsOf(taskSteps(deploy)[0]!.step).action, 'deploy');
    });

    it('stack-fan-out.yml generates a stack card once and builds each service in a matrix job', () => {
      const view = example('stack-fan-out.yml');
      assert.ok(isObject(view) && isObject(view.variables) && Array.isArray(view.jobs));
      assert.match(String(view.variables.intent), /^stack:\n {2}name: shop\n[\s\S]* {2}services:\n/);
      const [synthesize, build] = view.jobs;
      assert.ok(isObject(synthesize) && isObject(build) && isObject(build.strategy));
      assert.deepEqual(tasksOf(synthesize), ['CodeSynthesis@1']);
      assert.equal(build.strategy.matrix, "$[ dependencies.Synthesize.outputs['services.matrix'] ]");
      assert.ok(!tasksOf(build).includes('CodeSynthesis@1'), 'the legs build; the task ran once');
    });

    it('the steps template is used by node.yml and declares typed parameters', () => {
      const node = allSteps(example('node.yml')).find((s) => s.template === TEMPLATE);
      assert.ok(node && isObject(node.parameters), 'node.yml includes the template with parameters');
      const template = example(TEMPLATE);
      assert.ok(isObject(template) && Array.isArray(template.parameters));
      assert.ok(template.parameters.every((p) => isObject(p) && typeof p.type === 'string'));
    });

    it('README links each example and overview.md links the folder', () => {
      const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
      for (const file of [...PIPELINES, TEMPLATE])
        assert.ok(readme.includes(`](${EXAMPLES}/${file})`), `README.md links ${EXAMPLES}/${file}`);
      assert.match(
        fs.readFileSync(path.join(REPO_ROOT, 'overview.md'), 'utf8'),
        /\]\([^)]*examples\/pipelines\/?\)/,
      );
    });
  });

  describe('the checks catch each fault', () => {
    const ok = `
steps:
  - task: CodeSynthesis@1
    name: synth
    inputs:
      provider: offline
      conflictPolicy: overwrite
      failOnFindings: $(failOnFindings)
      connectedServiceName: an-alias-of-azureSubscription
  - script: echo $(synth.filesWritten) $(Build.SourcesDirectory)
`;

    it('accepts a valid document (the control for the cases below)', () => {
      assert.deepEqual(problemsOf(ok), []);
    });

    it('a misspelled CodeSynthesis@1 input: names the input, task.json and the file and line', () => {
      assert.deepEqual(problemsOf(ok.replace('conflictPolicy', 'conflictPolcy')), [
        `${EXAMPLES}/negative.yml:7 steps[0].inputs.conflictPolcy: CodeSynthesis@1 has no input 'conflictPolcy' (tasks/CodeSynthesis/task.json; nor is it an alias)`,
      ]);
    });

    it('a pickList value task.json does not offer, and a boolean that is not one', () => {
      const problems = problemsOf(
        ok.replace('provider: offline', 'provider: azure').replace('$(failOnFindings)', 'maybe'),
      );
      assert.deepEqual(problems, [
        `${EXAMPLES}/negative.yml:6 steps[0].inputs.provider: input 'provider' of CodeSynthesis@1: 'azure' is not one of azureOpenAI, openAICompatible, offline (tasks/CodeSynthesis/task.json)`,
        `${EXAMPLES}/negative.yml:8 steps[0].inputs.failOnFindings: input 'failOnFindings' of CodeSynthesis@1: 'maybe' is not a boolean (true or false)`,
      ]);
    });

    it('an output variable task.json does not declare, or a step the job does not have', () => {
      const problems = problemsOf(
        ok.replace('$(synth.filesWritten)', '$(synth.filesWriten) $(sytnh.filesWritten)'),
      );
      assert.equal(problems.length, 2, problems.join('\n'));
      assert.match(
        problems[0]!,
        /\$\(synth\.filesWriten\): step 'synth' \(CodeSynthesis@1\) has no output variable 'filesWriten'; tasks\/CodeSynthesis\/task\.json \(outputVariables\) lists filesWritten, manifestPath/,
      );
      assert.match(problems[1]!, /\$\(sytnh\.filesWritten\): no step named 'sytnh' in this job/);
    });

    it("another job's and another stage's outputs: the job, the step and the variable must exist", () => {
      const text = `
stages:
  - stage: Build
    jobs:
      - job: Synthesize
        steps:
          - task: CodeSynthesis@1
            name: synth
          - bash: echo "##vso[task.setvariable variable=legs;isOutput=true]{}"; echo "##vso[task.setvariable variable=plain]x"
            name: find
      - job: Next
        dependsOn: Synthesize
        condition: ne(dependencies.Synthesize.outputs['find.legs'], '{}')
        variables:
          a: $[ dependencies.Synthesize.outputs['synth.serviceName'] ]
          b: $[ dependencies.Synthesize.outputs['synth.serviceNames'] ]
          c: $[ dependencies.Synthesize.outputs['find.plain'] ]
          d: $[ dependencies.Synthesise.outputs['synth.serviceName'] ]
        steps:
          - script: echo
  - stage: Deploy
    dependsOn: Build
    condition: eq(dependencies.Build.outputs['Synthesize.synth.language'], 'python')
    jobs:
      - job: Apply
        variables:
          e: $[ stageDependencies.Build.Synthesize.outputs['synth.manifestPath'] ]
          f: $[ stageDependencies.Build.Synthesize.outputs['synth.prUrl'] ]
          g: $[ stageDependencies.Biuld.Synthesize.outputs['synth.manifestPath'] ]
        steps:
          - script: echo
`;
      const problems = problemsOf(text);
      const expected = [
        "16 stages[0].jobs[1].variables.b: dependencies.Synthesize.outputs['synth.serviceNames']: step 'synth' (CodeSynthesis@1) has no output variable 'serviceNames'",
        "17 stages[0].jobs[1].variables.c: dependencies.Synthesize.outputs['find.plain']: step 'find' (bash) has no output variable 'plain'; its script (isOutput=true) lists legs",
        "18 stages[0].jobs[1].variables.d: dependencies.Synthesise.outputs['synth.serviceName']: no job or stage named 'Synthesise'",
        "28 stages[1].jobs[0].variables.f: stageDependencies.Build.Synthesize.outputs['synth.prUrl']: step 'synth' (CodeSynthesis@1) has no output variable 'prUrl'",
        "29 stages[1].jobs[0].variables.g: stageDependencies.Biuld.Synthesize.outputs['synth.manifestPath']: no stage named 'Biuld'",
      ];
      assert.equal(problems.length, expected.length, problems.join('\n'));
      for (const fragment of expected)
        assert.ok(
          problems.some((p) => p.startsWith(`${EXAMPLES}/negative.yml:${fragment}`)),
          `expected ${fragment} in:\n${problems.join('\n')}`,
        );
    });

    it('a structural fault: a misspelled key, a trigger filter, a task that is not the first key', () => {
      assert.deepEqual(problemsOf('jobs:\n  - job: A\n    stpes:\n      - script: echo\n'), [
        `${EXAMPLES}/negative.yml:3 jobs[0].stpes: 'stpes' is not allowed here`,
      ]);
      assert.deepEqual(
        problemsOf('trigger:\n  paths:\n    includes: [intents]\nsteps:\n  - script: echo\n'),
        [`${EXAMPLES}/negative.yml:3 trigger.paths.includes: 'includes' is not allowed here`],
      );
      assert.deepEqual(problemsOf('steps:\n  - displayName: Generate\n    task: CodeSynthesis@1\n'), [
        `${EXAMPLES}/negative.yml:2 steps[0]: CodeSynthesis@1: the first key must be task`,
      ]);
      assert.match(problemsOf('steps:\n  - script: echo a: b\n')[0]!, /negative\.yml:2 YAML: /);
    });

    it("Microsoft's tasks are typed by the schema: an unknown input, a bad value, an alias", () => {
      const text = `
steps:
  - task: DotNetCoreCLI@2
    inputs:
      comand: restore
  - task: DotNetCoreCLI@2
    inputs:
      command: restor
  - task: PublishTestResults@2
    inputs:
      testRunner: JUnit
      mergeTestResults: yes
`;
      assert.deepEqual(problemsOf(text), [
        `${EXAMPLES}/negative.yml:5 steps[0].inputs.comand: DotNetCoreCLI@2 has no input 'comand' (Microsoft's schema; nor is it an alias)`,
        `${EXAMPLES}/negative.yml:8 steps[1].inputs.command: input 'command' of DotNetCoreCLI@2: 'restor' is not one of build, push, pack, publish, restore, run, test, custom (Microsoft's schema)`,
      ]);
    });

    it("SonarCloud's tasks: inputs, pickList values, required inputs, the deprecated v3, an unknown task", () => {
      const text = `
steps:
  - task: SonarCloudPrepare@4
    inputs:
      SonarCloud: sonarcloud-connection
      scannerMode: msbuild
      projectKy: my-project
  - task: SonarCloudPublish@3
    inputs:
      pollingTimeoutSec: '300'
  - task: SonarCloudAnalyse@4
`;
      const problems = problemsOf(text).map((p) => p.replace(/^\S+ \S+: /, ''));
      assert.deepEqual(problems, [
        "SonarCloudPrepare@4 needs the input 'organization'",
        "SonarCloudPrepare@4 has no input 'projectKy' (SonarSource/sonar-scanner-azdo src/extensions/sonarcloud/tasks/SonarCloudPrepare/v4/task.json; nor is it an alias)",
        "input 'scannerMode' of SonarCloudPrepare@4: 'msbuild' is not one of dotnet, cli, other (SonarSource/sonar-scanner-azdo src/extensions/sonarcloud/tasks/SonarCloudPrepare/v4/task.json)",
        'SonarCloudPublish@3 is deprecated (SonarSource/sonar-scanner-azdo src/extensions/sonarcloud/tasks/SonarCloudPublish/v3/task.json): use its current major version',
        "unknown task 'SonarCloudAnalyse@4': neither in Microsoft's schema nor among CodeSynthesis@1, SonarCloudPrepare@3, SonarCloudPrepare@4, SonarCloudAnalyze@3, SonarCloudAnalyze@4, SonarCloudPublish@3, SonarCloudPublish@4",
      ]);
    });

    it('a local template: the file, its parameters and their allowed values; its step names count', () => {
      const text = `
steps:
  - template: ${TEMPLATE}
    parameters:
      provider: azure
      nonsense: 1
  - template: templates/missing.yml
  - script: echo $(synth.serviceName) $(synth.nope)
`;
      assert.deepEqual(
        problemsOf(text).map((p) => p.replace(/^\S+ \S+: /, '')),
        [
          `parameter 'provider' of ${EXAMPLES}/${TEMPLATE}: 'azure' is not one of azureOpenAI, openAICompatible, offline`,
          `template ${EXAMPLES}/${TEMPLATE} has no parameter 'nonsense'`,
          "template 'templates/missing.yml' does not exist",
          `$(synth.nope): step 'synth' (CodeSynthesis@1) has no output variable 'nope'; tasks/CodeSynthesis/task.json (outputVariables) lists ${OUTPUT_NAMES}`,
        ],
      );
    });

    it('a template that includes itself is reported, not followed', () => {
      const loop = parsePipeline(`${EXAMPLES}/loop.yml`, 'steps:\n  - template: loop.yml\n');
      const problems = referenceProblems(loop, loop.view, { tasks: new Map(), readTemplate: () => loop });
      assert.deepEqual(problems, [
        `${EXAMPLES}/loop.yml:2 steps[0].template: template ${EXAMPLES}/loop.yml includes itself`,
      ]);
    });

    it('a template is checked with each value its parameters allow, and every branch of its conditions', () => {
      const text = `
parameters:
  - name: policy
    type: string
    default: fail
    values: [fail, overwrite, replace]
  - name: scan
    type: boolean
    default: true
steps:
  - task: CodeSynthesis@1
    inputs:
      provider: offline
      conflictPolicy: \${{ parameters.policy }}
      failOnFindings: \${{ parameters.scan }}
      \${{ if eq(parameters.scan, false) }}:
        maxFileSizeKb: '2048'
`;
      assert.deepEqual(
        problemsOf(text).map((p) => p.replace(/^\S+ \S+: /, '')),
        [
          "CodeSynthesis@1 has no input 'maxFileSizeKb' (tasks/CodeSynthesis/task.json; nor is it an alias)",
          "input 'conflictPolicy' of CodeSynthesis@1: 'replace' is not one of fail, overwrite, skip, merge (tasks/CodeSynthesis/task.json) (with parameters.policy: replace)",
        ],
      );
    });
  });
});
