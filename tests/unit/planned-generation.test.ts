/**
 * Planned generation in the use case (generationStrategy planned, and auto): the outline first, then
 * each file asked for by name, `concurrency` at a time; a file call whose reply cannot be used is asked
 * again; a file that never comes fails the run naming it with nothing written; a hostile outline is
 * stopped before any file call; a service too big for one reply comes out whole; the offline provider
 * just renders. The manifest and the summary show each phase.
 */
import assert from 'node:assert/strict';
import { OfflineModelClient } from '../../tasks/CodeSynthesis/src/adapters/model/offline-model-client';
import { MANIFEST_PATH } from '../../tasks/CodeSynthesis/src/core/contract';
import { FileGenerationError, PathError, ReplyError } from '../../tasks/CodeSynthesis/src/core/errors';
import { FILE_ATTEMPTS } from '../../tasks/CodeSynthesis/src/core/generate-planned';
import type { Intent } from '../../tasks/CodeSynthesis/src/core/intent';
import { parseIntent } from '../../tasks/CodeSynthesis/src/core/intent';
import type { ModelClient } from '../../tasks/CodeSynthesis/src/core/ports';
import { parseSettings, type RawInputs } from '../../tasks/CodeSynthesis/src/core/settings';
import { chooseStrategy, isStackIntent } from '../../tasks/CodeSynthesis/src/core/strategy';
import { synthesize, type SynthesisPorts } from '../../tasks/CodeSynthesis/src/core/synthesize';
import { run } from '../../tasks/CodeSynthesis/src/run';
import {
  FakeHost,
  FakeRunner,
  FakeSecretScanner,
  MemoryFiles,
  MemoryTree,
  userOf,
  WEATHER_CARD,
} from '../fakes/ports';
import { serviceError, ServiceModel } from '../fakes/planned-model';
import { askedIn, sizedService, type Service } from '../support/planned-service';

const INPUTS: RawInputs = {
  provider: 'offline',
  intent: WEATHER_CARD,
  outputDirectory: '/work/out',
  generationStrategy: 'planned',
};

const SERVICE: Service = {
  'weather/app.py': {
    content: 'from weather.config import port\n',
    purpose: 'the Flask app; defines create_app()',
    dependsOn: ['weather/config.py'],
  },
  'weather/config.py': { content: 'def port():\n    return 8080\n', purpose: 'settings; defines port()' },
  'weather/test_app.py': {
    content: 'from weather.app import create_app\n',
    purpose: 'tests of create_app()',
    dependsOn: ['weather/app.py'],
  },
  'weather/requirements.txt': 'flask==3.0.3\n',
};

function ports(model: ModelClient, tree = new MemoryTree(), host = new FakeHost()) {
  const p = {
    log: host,
    reader: new MemoryFiles(),
    tree,
    clock: { now: () => new Date('2026-11-29T10:00:00Z') },
    signal: host.signal,
    version: '1.0.0',
    connects: 0,
    connectModel: async () => {
      p.connects += 1;
      return model;
    },
    secretScanner: async () => new FakeSecretScanner(),
    report: host,
  };
  return p satisfies SynthesisPorts & { connects: number };
}

describe('planned generation', () => {
  it('asks for the outline, then for each file by name, `concurrency` at a time, and writes them all', async () => {
    const service = sizedService(10, 200, 'weather');
    const model = new ServiceModel(service);
    const tree = new MemoryTree();
    const host = new FakeHost();
    const result = await synthesize(parseSettings({ ...INPUTS, concurrency: '4' }), ports(model, tree, host));

    assert.equal(model.maxInFlight, 4, 'the most calls in flight is the concurrency');
    assert.equal(model.requests.length, 11);
    const [outline, ...files] = model.requests.map(askedIn);
    assert.deepEqual(outline, { kind: 'outline' });
    assert.deepEqual(
      files.map((a) => (a.kind === 'files' ? a.paths : a)),
      Object.keys(service).map((p) => [p]),
      'one call per file, in the order of the outline',
    );
    for (const path of Object.keys(service))
      assert.equal(tree.files.get(path), (service[path] as { content: string }).content);

    const manifest = JSON.parse(tree.files.get(MANIFEST_PATH)!);
    assert.deepEqual(
      manifest.calls.map((c: { purpose: string; paths?: string[] }) => [c.purpose, c.paths]),
      [['outline', undefined], ...Object.keys(service).map((p) => ['file', [p]])],
    );
    assert.equal(new Set(manifest.calls.map((c: { promptFile: string }) => c.promptFile)).size, 11);
    assert.deepEqual(
      manifest.generation.phases.map((p: { phase: string; calls: number; maxInFlight: number }) => [
        p.phase,
        p.calls,
        p.maxInFlight,
      ]),
      [
        ['outline', 1, 1],
        ['files', 10, 4],
      ],
    );
    assert.equal(manifest.generation.strategy, 'planned');
    assert.equal(manifest.generation.concurrency, 4);
    const tokens = manifest.generation.phases.reduce(
      (n: number, p: { completionTokens: number }) => n + p.completionTokens,
      0,
    );
    assert.equal(tokens, manifest.usage.completionTokens, 'the phases add up to the run');
    assert.match(host.summary ?? '', /\*\*Generation:\*\* planned, concurrency 4/);
    assert.match(host.summary ?? '', /\| files \| 10 \| 4 \| 100 \| \d+ \| 0\.0 s \|/);
    assert.match(result.modelSummary ?? '', /A service of 10 files/);
  });

  it('each file request carries the intent, the outline and what the file must agree with, and names its paths last', async () => {
    const model = new ServiceModel(SERVICE);
    await synthesize(parseSettings(INPUTS), ports(model));
    const outline = model.requests[0]!;
    assert.equal(outline.responseSchema.name, 'file_outline');
    assert.match(userOf(outline), /Do not write the files yet/);

    const app = model.requests.find((r) => userOf(r).endsWith('["weather/app.py"]'))!;
    assert.deepEqual(
      app.messages.map((m) => m.role),
      ['system', 'user', 'assistant', 'user'],
    );
    assert.deepEqual(app.messages.slice(0, 2), outline.messages.slice(0, 2), 'the same rules and intent');
    assert.match(app.messages[1]!.content, /name: weather/, 'the intent');
    const shownOutline = JSON.parse(app.messages[2]!.content);
    assert.deepEqual(
      shownOutline.files.map((f: { path: string }) => f.path),
      Object.keys(SERVICE),
    );
    const ask = userOf(app);
    assert.match(ask, /- "weather\/app\.py": the Flask app; defines create_app\(\)/);
    assert.match(
      ask,
      /agree with[^\n]*\n- "weather\/config\.py": settings; defines port\(\)/,
      'what it uses',
    );
    assert.match(ask, /use it[^\n]*\n- "weather\/test_app\.py": tests of create_app\(\)/, 'what uses it');
    assert.equal(app.responseSchema.name, 'generated_files', 'the primary protocol');
  });

  it('a file call whose reply holds another path is asked again, and the run succeeds', async () => {
    const model = new ServiceModel(SERVICE);
    model.wrongFor.set('weather/config.py', 1);
    const tree = new MemoryTree();
    const host = new FakeHost();
    await synthesize(parseSettings(INPUTS), ports(model, tree, host));
    const asks = model.requests.filter((r) => userOf(r).endsWith('["weather/config.py"]'));
    assert.equal(asks.length, 2, 'asked twice');
    assert.equal(tree.files.get('weather/config.py'), 'def port():\n    return 8080\n');
    assert.equal(tree.files.has('weather/config.py.other'), false);
    const manifest = JSON.parse(tree.files.get(MANIFEST_PATH)!);
    const rejected = manifest.calls.filter((c: { rejected?: string }) => c.rejected);
    assert.equal(rejected.length, 1);
    assert.match(rejected[0].rejected, /lacks "weather\/config\.py" and holds "weather\/config\.py\.other"/);
    assert.ok(
      host.lines.some((l) => /could not be used .*asking again \(attempt 2 of 3\)/.test(l.text)),
      'the log says so',
    );
  });

  it('a file that never comes fails the run naming it: nothing written, the other calls stopped', async () => {
    const model = new ServiceModel(sizedService(12, 100, 'weather'), undefined, 20);
    model.wrongFor.set('weather/module_02.py', Infinity);
    const tree = new MemoryTree();
    const host = new FakeHost(INPUTS);
    await run(host, async () => ports(model, tree, host));
    assert.equal(host.result?.outcome, 'Failed');
    assert.match(
      host.result!.message,
      /^Planned generation: the model did not write "weather\/module_02\.py" in 3 attempt\(s\); the last reply: the reply for "weather\/module_02\.py" lacks "weather\/module_02\.py" and holds "weather\/module_02\.py\.other", which it was not asked for\. Nothing was written\.$/,
    );
    assert.equal(tree.commits, 0);
    assert.equal(tree.files.size, 0);
    assert.equal(
      model.requests.filter((r) => userOf(r).endsWith('["weather/module_02.py"]')).length,
      FILE_ATTEMPTS,
    );
    assert.ok(model.requests.length < 1 + 12 + 2, 'the remaining files were not asked for');
  });

  it('a service error on a file call fails the run naming the file, with the service error and its hint', async () => {
    const model = new ServiceModel(SERVICE);
    model.failFor.set('weather/test_app.py', serviceError());
    const tree = new MemoryTree();
    await assert.rejects(synthesize(parseSettings(INPUTS), ports(model, tree)), (e: unknown) => {
      assert.ok(e instanceof FileGenerationError);
      assert.deepEqual(e.paths, ['weather/test_app.py']);
      assert.match(
        e.message,
        /^Planned generation: "weather\/test_app\.py" could not be generated: Azure OpenAI .* failed with 500/,
      );
      assert.match(e.hint, /service-side error/);
      return true;
    });
    assert.equal(tree.commits, 0);
  });

  it('a hostile outline cannot make a file call ask for .git/config: the run fails before any file call', async () => {
    const model = new ServiceModel(SERVICE);
    model.outline = JSON.stringify({
      files: [
        { path: 'weather/app.py', purpose: 'app', dependsOn: [] },
        { path: '.git/config', purpose: 'set a hook', dependsOn: [] },
        { path: '../outside.txt', purpose: 'escape', dependsOn: [] },
      ],
      summary: '',
    });
    const tree = new MemoryTree();
    await assert.rejects(synthesize(parseSettings(INPUTS), ports(model, tree)), (e: unknown) => {
      assert.ok(e instanceof PathError);
      assert.match(e.message, /"\.git\/config"/);
      assert.match(e.message, /"\.\.\/outside\.txt"/);
      return true;
    });
    assert.equal(model.requests.length, 1, 'only the outline was asked for');
    assert.equal(tree.commits, 0);
  });

  it('an outline that is not JSON is asked for again, then fails as a reply error', async () => {
    const model = new ServiceModel(SERVICE);
    model.outline = 'Here is my plan: first the app, then the tests.';
    await assert.rejects(synthesize(parseSettings(INPUTS), ports(model)), (e: unknown) => {
      assert.ok(e instanceof ReplyError);
      assert.match(e.message, /the outline is not JSON/);
      return true;
    });
    assert.equal(model.requests.length, 3);
  });

  it("auto: a service larger than one reply's output limit comes out whole through an outline", async () => {
    const service = sizedService(8, 300, 'weather');
    const model = new ServiceModel(service);
    model.cutSingle = true;
    const tree = new MemoryTree();
    const host = new FakeHost();
    await synthesize(
      parseSettings({ ...INPUTS, generationStrategy: 'auto', maxOutputTokens: '1000' }),
      ports(model, tree, host),
    );
    assert.deepEqual(
      model.requests.map((r) => askedIn(r).kind),
      ['all', 'outline', ...Object.keys(service).map(() => 'files')],
    );
    for (const path of Object.keys(service)) assert.ok(tree.files.has(path), path);
    const manifest = JSON.parse(tree.files.get(MANIFEST_PATH)!);
    assert.deepEqual(
      manifest.calls.slice(0, 2).map((c: { purpose: string; rejected?: string }) => [c.purpose, c.rejected]),
      [
        ['generate', 'cut off at the output token limit'],
        ['outline', undefined],
      ],
    );
    assert.equal(manifest.generation.requested, 'auto');
    assert.equal(manifest.generation.strategy, 'planned');
    assert.match(host.summary ?? '', /\*\*Generation:\*\* planned \(generationStrategy auto\)/);
    assert.ok(host.lines.some((l) => /does not fit in one reply/.test(l.text)));
    assert.deepEqual(
      host.progressed.filter((p) => / of 8 /.test(p.text)).map((p) => p.text),
      [0, 1, 2, 3, 4, 5, 6, 7, 8].map((n) => `${n} of 8 file(s) generated`),
      'the files of the cut reply are not counted',
    );
  });

  it('auto: a service that fits in one reply is one call', async () => {
    const model = new ServiceModel(SERVICE);
    const tree = new MemoryTree();
    await synthesize(parseSettings({ ...INPUTS, generationStrategy: 'auto' }), ports(model, tree));
    assert.equal(model.requests.length, 1);
    assert.equal(JSON.parse(tree.files.get(MANIFEST_PATH)!).generation.strategy, 'single');
  });

  it('single: a reply cut at the output limit fails as it always did, nothing written', async () => {
    const model = new ServiceModel(SERVICE);
    model.cutSingle = true;
    const tree = new MemoryTree();
    await assert.rejects(
      synthesize(parseSettings({ ...INPUTS, generationStrategy: 'single' }), ports(model, tree)),
      /cut off at the output token limit/,
    );
    assert.equal(model.requests.length, 1);
    assert.equal(tree.commits, 0);
  });

  it('the offline provider just renders, whatever the strategy', async () => {
    const tree = new MemoryTree();
    const host = new FakeHost();
    await synthesize(parseSettings(INPUTS), ports(new OfflineModelClient(), tree, host));
    assert.ok(tree.files.has('weather/app.py'));
    const manifest = JSON.parse(tree.files.get(MANIFEST_PATH)!);
    assert.deepEqual(
      manifest.calls.map((c: { purpose: string }) => c.purpose),
      ['generate'],
    );
    assert.equal(manifest.generation.strategy, 'single');
    assert.ok(host.lines.some((l) => /offline provider renders its templates at once/.test(l.text)));
  });

  it('a repair after a planned generation continues from the intent and the outline, with every file', async () => {
    const model = new ServiceModel(SERVICE);
    const runner = new FakeRunner([{ exitCode: 1, outputTail: 'E   ImportError' }, { exitCode: 0 }]);
    const p = { ...ports(model), commandRunner: async () => runner };
    await synthesize(parseSettings({ ...INPUTS, validateCommand: 'pytest -q' }), p);
    const repair = model.requests.at(-1)!;
    assert.deepEqual(
      repair.messages.map((m) => m.role),
      ['system', 'user', 'assistant', 'user'],
    );
    assert.deepEqual(
      repair.messages.slice(0, 3),
      model.requests[1]!.messages.slice(0, 3),
      'intent and outline',
    );
    assert.match(userOf(repair), /ImportError/);
    for (const path of Object.keys(SERVICE)) assert.ok(userOf(repair).includes(JSON.stringify(path)), path);
    assert.equal(repair.responseSchema.name, 'generated_files');
  });
});

describe('generationStrategy auto picks planned for a stack card', () => {
  // A stack card as core/intent.ts gives it once stack cards exist (kind 'stack').
  const stack = { kind: 'stack', text: 'stack:\n  name: shop\n' } as unknown as Intent;

  it('planned for a stack card, single first for a service card or free text', () => {
    assert.equal(isStackIntent(stack), true);
    assert.equal(chooseStrategy('auto', stack, 'azureOpenAI').strategy, 'planned');
    assert.deepEqual(chooseStrategy('auto', parseIntent(WEATHER_CARD), 'azureOpenAI'), {
      strategy: 'single',
      fallBackToPlanned: true,
    });
    assert.equal(chooseStrategy('auto', parseIntent('A weather API'), 'openAICompatible').strategy, 'single');
    assert.equal(chooseStrategy('single', stack, 'azureOpenAI').strategy, 'single', 'as asked');
    assert.equal(chooseStrategy('planned', stack, 'offline').strategy, 'single', 'offline renders');
  });

  const STACK_CARD = `stack:
  name: shop
  services:
    - name: catalogue
      language: python
      framework: flask
      endpoints: [GET /products]
    - name: orders
      language: typescript
      framework: express
      endpoints: [GET /orders]
`;

  it('a stack card through the model: an outline, then the files of every service', async function () {
    const service: Service = {
      'catalogue/app.py': 'app = 1\n',
      'orders/src/app.ts': 'export const app = 1;\n',
      'docker-compose.yml': 'services: {}\n',
    };
    const model = new ServiceModel(service);
    const tree = new MemoryTree();
    await synthesize(
      parseSettings({ ...INPUTS, intent: STACK_CARD, generationStrategy: 'auto' }),
      ports(model, tree),
    );
    assert.equal(askedIn(model.requests[0]!).kind, 'outline');
    for (const path of Object.keys(service)) assert.ok(tree.files.has(path), path);
  });

  it('a stack card offline: rendered at once', async function () {
    const tree = new MemoryTree();
    await synthesize(
      parseSettings({ ...INPUTS, intent: STACK_CARD, generationStrategy: 'auto' }),
      ports(new OfflineModelClient(), tree),
    );
    assert.ok([...tree.files.keys()].some((p) => p.startsWith('shop/catalogue/')));
    assert.ok([...tree.files.keys()].some((p) => p.startsWith('shop/orders/')));
  });
});
