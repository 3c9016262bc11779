/**
 * A stack card through the rest of the flow: the offline provider renders it, a run writes it and
 * sets the outputs, the prompt describes it faithfully to a remote model, and the manifest, the
 * summary and the review name the stack.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { OfflineModelClient } from '../../tasks/CodeSynthesis/src/adapters/model/offline-model-client';
import { MANIFEST_PATH, OUTPUTS } from '../../tasks/CodeSynthesis/src/core/contract';
import { parseIntent, type Intent, type StackCard } from '../../tasks/CodeSynthesis/src/core/intent';
import { buildManifest } from '../../tasks/CodeSynthesis/src/core/manifest';
import { buildPrompt } from '../../tasks/CodeSynthesis/src/core/prompt';
import { parseReply } from '../../tasks/CodeSynthesis/src/core/reply';
import { defaultReviewBranch, reviewTitle } from '../../tasks/CodeSynthesis/src/core/review';
import type { SynthesisPorts } from '../../tasks/CodeSynthesis/src/core/synthesize';
import { renderSummary } from '../../tasks/CodeSynthesis/src/core/summary';
import { renderStack } from '../../tasks/CodeSynthesis/src/core/templates/stack';
import { run } from '../../tasks/CodeSynthesis/src/run';
import { FakeHost, FakeModel, FakeSecretScanner, filesReply, MemoryFiles, MemoryTree } from '../fakes/ports';

const STACK_TEXT = fs.readFileSync(path.resolve(__dirname, '../../../examples/stack.yaml'), 'utf8');
const intent = parseIntent(STACK_TEXT) as Extract<Intent, { kind: 'stack' }>;
const stack: StackCard = intent.stack;
const live = () => new AbortController().signal;
const limits = { maxFiles: 200, maxTotalBytes: 5 * 1024 * 1024, deniedPaths: [] };

function ports(host: FakeHost, tree: MemoryTree, model = new OfflineModelClient()): SynthesisPorts {
  return {
    log: host,
    reader: new MemoryFiles({}),
    tree,
    clock: { now: () => new Date('2026-01-02T03:04:05Z') },
    signal: host.signal,
    version: '1.0.0',
    connectModel: async () => model,
    secretScanner: async () => new FakeSecretScanner(),
    report: host,
  };
}

describe('a stack card through the flow', () => {
  it('the offline provider answers with the rendered stack as structured-output JSON', async () => {
    const reply = await new OfflineModelClient().complete(buildPrompt(intent, limits, {}), live());
    const parsed = parseReply(reply);
    assert.equal(parsed.format, 'json');
    assert.deepEqual(parsed.files, renderStack(stack));
    assert.match(reply.id, /^offline-[0-9a-f]{12}$/);
    assert.equal(
      parsed.summary,
      "Rendered the stack 'shop' with the built-in templates: 3 services, weather (python/flask), orders (node/express), inventory (go/net-http), each in its own folder, plus docker-compose.yml, kustomization.yaml and the Kubernetes manifests of the stack: 33 files.",
    );
  });

  it('a run writes every file all at once and sets serviceName to the stack, language to its languages', async () => {
    const host = new FakeHost({ provider: 'offline', intent: STACK_TEXT, outputDirectory: '/work/out' });
    const tree = new MemoryTree();
    await run(host, async (_settings, h) => ports(h as FakeHost, tree));
    assert.equal(host.result?.succeeded, true, host.result?.message);
    assert.equal(tree.commits, 1);
    for (const f of renderStack(stack)) assert.equal(tree.files.get(f.path), f.content, f.path);
    assert.equal(host.outputs[OUTPUTS.serviceName], 'shop');
    assert.equal(host.outputs[OUTPUTS.language], 'python,node,go');
    assert.equal(host.outputs[OUTPUTS.filesWritten], '33');
    const manifest = JSON.parse(tree.files.get(MANIFEST_PATH)!) as { intent: Record<string, unknown> };
    assert.deepEqual(manifest.intent['services'], [
      { name: 'weather', language: 'python', framework: 'flask' },
      { name: 'orders', language: 'node', framework: 'express' },
      { name: 'inventory', language: 'go', framework: 'net-http' },
    ]);
    assert.equal(manifest.intent['kind'], 'stack');
    assert.ok(
      host.lines.some(
        (l) =>
          l.text ===
          "Intent: stack card 'shop' (weather python/flask, orders node/express, inventory go/net-http).",
      ),
    );
    assert.match(
      host.summary ?? '',
      /\*\*Service:\*\* stack shop: weather \\\(python\/flask\\\), orders \\\(node\/express\\\), inventory \\\(go\/net-http\\\)  \n/,
    );
  });

  it('lists each language and framework once in the manifest, in card order', () => {
    const twoGo = parseIntent(`stack:
  name: pair
  services:
    - { name: a, language: go, framework: net-http }
    - { name: b, language: python, framework: flask }
    - { name: c, language: go, framework: net-http }
`);
    const m = buildManifest({
      version: '1.0.0',
      now: new Date(0),
      intent: twoGo,
      intentSource: { kind: 'inline' },
      promptText: 'P',
      model: { provider: 'offline' },
      reply: {
        id: 'r',
        model: 'm',
        content: '',
        finishReason: 'stop',
        usage: { promptTokens: 0, completionTokens: 0 },
      },
      conflictPolicy: 'fail',
      written: [],
      overwritten: [],
      unchanged: [],
      skipped: [],
    });
    assert.equal(m.intent.serviceName, 'pair');
    assert.equal(m.intent.language, 'go,python');
    assert.equal(m.intent.framework, 'net-http,flask');
    assert.match(
      renderSummary({ manifest: m, manifestPath: '/o/m.json', outputDirectory: '/o' }),
      /stack pair: a \\\(go\/net-http\\\), b \\\(python\/flask\\\), c/,
    );
  });

  it('a remote model gets every service, where each file goes, the calls, the values and the gateway', async () => {
    const model = new FakeModel(filesReply({ 'shop/README.md': '# shop\n' }));
    const host = new FakeHost({ provider: 'offline', intent: STACK_TEXT, outputDirectory: '/work/out' });
    await run(host, async (_settings, h) => ports(h as FakeHost, new MemoryTree(), model as never));
    assert.equal(host.result?.succeeded, true, host.result?.message);
    const { messages } = model.requests[0]!;
    const system = messages.find((m) => m.role === 'system')?.content ?? '';
    const user = messages.find((m) => m.role === 'user')?.content ?? '';
    assert.match(system, /for a stack, under the stack's folder, one subfolder per service/);
    assert.match(user, /^Generate the stack described by this stack card/);
    for (const line of [
      'Stack: shop',
      'Kubernetes namespace: shop',
      'Files: put every file under the folder shop/:',
      "- shop/weather/: the service 'weather' with everything a single service has (source, dependency manifest, unit tests, Dockerfile, k8s/deployment.yaml with a Deployment and a ClusterIP Service named 'weather' whose port 80, named http, targets the service's port, README.md)",
      "- shop/docker-compose.yml: docker compose, one service per folder built from its Dockerfile (build context ./<service>), each port published on 127.0.0.1 only, the environment below, secrets left to the shell's environment",
      '- shop/kustomization.yaml: namespace shop; resources k8s/namespace.yaml, each <service>/k8s/deployment.yaml and k8s/ingress.yaml (paths inside shop/ only)',
      '- shop/k8s/namespace.yaml: the Namespace shop',
      '- shop/k8s/ingress.yaml: the gateway below as a networking.k8s.io/v1 Ingress',
      '- shop/README.md: the map of services, a table and a mermaid diagram of the calls',
      'Service 2 of 3:',
      'Name: orders',
      'Framework: express',
      "  - INVENTORY_URL (default http://inventory): URL of the 'inventory' service (set by the stack 'shop').",
      '  - orders calls inventory: INVENTORY_URL=http://inventory (compose: http://inventory:8081)',
      '  - inventory: LOG_LEVEL=debug',
      'Gateway (Ingress, pathType Prefix, paths passed to the service unchanged), host shop.example.com, ingressClassName nginx:',
      '  - /inventory -> inventory',
    ])
      assert.ok(user.includes(`${line}\n`), `the prompt says: ${line}\n---\n${user}`);
    assert.ok(user.endsWith(`The card as written:\n${STACK_TEXT.trim()}`));
    assert.equal((user.match(/^Service \d of 3:$/gm) ?? []).length, 3);
  });

  it('the review branch and pull request are named after the stack', () => {
    assert.equal(defaultReviewBranch(intent), 'synthesis/shop');
    assert.equal(reviewTitle(intent), 'Code synthesis: stack shop (weather, orders, inventory)');
  });
});
