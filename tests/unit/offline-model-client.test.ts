import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { OfflineModelClient } from '../../tasks/CodeSynthesis/src/adapters/model/offline-model-client';
import { CancelledError, IntentError } from '../../tasks/CodeSynthesis/src/core/errors';
import { parseIntent, type Intent } from '../../tasks/CodeSynthesis/src/core/intent';
import type { ModelRequest } from '../../tasks/CodeSynthesis/src/core/ports';
import { parseReply } from '../../tasks/CodeSynthesis/src/core/reply';
import { renderService } from '../../tasks/CodeSynthesis/src/core/templates';

const EXAMPLES = path.resolve(__dirname, '../../../examples');
const read = (name: string) => fs.readFileSync(path.join(EXAMPLES, name), 'utf8');

function request(intent: Intent): ModelRequest {
  return {
    messages: [
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'user' },
    ],
    responseSchema: { name: 'files', schema: {} },
    settings: {},
    intent,
  };
}
const live = () => new AbortController().signal;

describe('OfflineModelClient', () => {
  it('describes itself as the offline provider with the built-in templates', () => {
    assert.deepEqual(new OfflineModelClient().info, { provider: 'offline', deployment: 'builtin-templates' });
  });

  it('answers a card with the rendered files as structured-output JSON', async () => {
    const intent = parseIntent(read('weather.yaml'));
    assert.equal(intent.kind, 'card');
    const reply = await new OfflineModelClient().complete(request(intent), live());
    const expectedId = 'offline-' + createHash('sha256').update(intent.text).digest('hex').slice(0, 12);
    assert.equal(reply.id, expectedId);
    assert.match(reply.id, /^offline-[0-9a-f]{12}$/);
    assert.equal(reply.model, 'builtin-templates');
    assert.equal(reply.finishReason, 'stop');
    assert.deepEqual(reply.usage, { promptTokens: 0, completionTokens: 0 });
    const body = JSON.parse(reply.content) as { files: unknown; summary: string };
    assert.deepEqual(
      body.files,
      renderService((intent as { card: Parameters<typeof renderService>[0] }).card),
    );
    assert.equal(
      body.summary,
      "Rendered the built-in python/flask template for service 'weather': 9 files, 1 endpoint plus GET /healthz.",
    );
  });

  it('gives a reply the shared reply parser accepts as JSON', async () => {
    const intent = parseIntent(read('orders-node.yaml'));
    const reply = await new OfflineModelClient().complete(request(intent), live());
    const parsed = parseReply(reply);
    assert.equal(parsed.format, 'json');
    assert.ok(parsed.files.some((f) => f.path === 'orders/src/app.ts'));
    assert.match(parsed.summary ?? '', /node\/express template for service 'orders': 10 files, 4 endpoints/);
  });

  it('is deterministic: the same card text gives the same reply', async () => {
    const client = new OfflineModelClient();
    const a = await client.complete(request(parseIntent(read('orders-node.yaml'))), live());
    const b = await client.complete(request(parseIntent(read('orders-node.yaml'))), live());
    assert.deepEqual(a, b);
    const other = await client.complete(request(parseIntent(read('weather.yaml'))), live());
    assert.notEqual(other.id, a.id);
  });

  it('refuses free text, naming the card fields and showing an example that is itself a valid card', async () => {
    const intent = parseIntent(read('free-text.txt'));
    assert.equal(intent.kind, 'text');
    await assert.rejects(new OfflineModelClient().complete(request(intent), live()), (e: unknown) => {
      assert.ok(e instanceof IntentError);
      const text = e.describe();
      assert.match(text, /offline provider needs a YAML service card/);
      for (const field of [
        'service.name',
        'service.language',
        'service.framework',
        'description',
        'endpoint or endpoints',
        'port',
        'dependencies',
        'env',
      ]) {
        assert.ok(text.includes(field), `mentions ${field}`);
      }
      const example = /^service:\n(?: {2}\w+: .+\n){3}/m.exec(e.hint)?.[0];
      assert.ok(example, 'has a 4-line example');
      const parsed = parseIntent(example);
      assert.equal(parsed.kind, 'card');
      assert.doesNotThrow(
        () => renderService((parsed as { card: Parameters<typeof renderService>[0] }).card),
        'the example renders offline',
      );
      return true;
    });
  });

  it('passes on the template error for a stack it cannot render', async () => {
    const intent = parseIntent('service:\n  name: todo\n  language: go\n  framework: gin\n');
    await assert.rejects(
      new OfflineModelClient().complete(request(intent), live()),
      (e: unknown) => e instanceof IntentError && /'go' with framework 'gin'/.test(e.message),
    );
  });

  it('does nothing once the run is cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      new OfflineModelClient().complete(request(parseIntent(read('weather.yaml'))), controller.signal),
      CancelledError,
    );
  });
});
