/**
 * Streamed replies through the real `openai` SDK over HTTPS to the fake, which streams server-sent
 * events as the services do: the content arrives in pieces (the observer sees them, for progress), the
 * usage comes in the last chunk, and a stream cut off mid-way is never used in part: it is sent again
 * within the retry policy, or the call fails cleanly. Cancelling or running out of time mid-stream
 * stops the stream at once.
 */
import assert from 'node:assert/strict';
import { AzureOpenAIClient } from '../../tasks/CodeSynthesis/src/adapters/model/azure-openai-client';
import { OpenAICompatibleClient } from '../../tasks/CodeSynthesis/src/adapters/model/openai-compatible-client';
import { TimeBudget } from '../../tasks/CodeSynthesis/src/adapters/net/time-budget';
import { CancelledError, ModelError } from '../../tasks/CodeSynthesis/src/core/errors';
import type { ReplyObserver } from '../../tasks/CodeSynthesis/src/core/ports';
import {
  chatRequest,
  completion,
  fakeOpenAI,
  RecordingLogger,
  trustingFetch,
  type FakeAnswer,
  type FakeOpenAI,
} from '../fake-servers/azure-openai';
import { startFakeAzure, type FakeAzure } from '../support/fake-azure';

const KEY = 'azure-key-stream-0123456789';
const CONTENT = JSON.stringify({
  files: [{ path: 'svc/app.py', content: 'print("streamed")\n'.repeat(6) }],
  summary: 'streamed',
});
/** The fake streams 4 characters a chunk. */
const CHUNKS = Math.ceil(CONTENT.length / 4);

/** An observer that keeps what it saw. */
class Recorder implements ReplyObserver {
  readonly pieces: string[] = [];
  restarts = 0;
  received(text: string): void {
    this.pieces.push(text);
  }
  restarted(): void {
    this.restarts += 1;
  }
}

const streamed = (script: FakeAnswer['stream'], content = CONTENT): FakeAnswer => ({
  ...completion(content, { promptTokens: 50, completionTokens: 40 }),
  stream: script,
});

describe('integration: streamed replies (real openai SDK, server-sent events)', () => {
  let server: FakeAzure;
  let fake: FakeOpenAI;
  let logger: RecordingLogger;

  before(async () => {
    fake = fakeOpenAI({ apiKeys: [KEY], deployments: ['gpt-4o'] });
    server = await startFakeAzure([fake.route]);
  });
  after(() => server.close());
  beforeEach(() => {
    fake.chats.length = 0;
    logger = new RecordingLogger();
  });

  const azure = (budgetMs = 10_000, maxRetries = 2) =>
    new AzureOpenAIClient({
      endpoint: server.url,
      deployment: 'gpt-4o',
      apiVersion: '2024-10-21',
      apiKey: KEY,
      fetch: trustingFetch(server.caPem),
      budget: new TimeBudget(budgetMs),
      maxRetries,
      logger,
    });
  const signal = () => new AbortController().signal;

  it('streams the reply: the observer sees each piece as it arrives, the usage comes from the last chunk', async () => {
    fake.enqueue(streamed({ tokensPerSecond: 400 }));
    const seen = new Recorder();
    const reply = await azure().complete(chatRequest(), signal(), seen);
    assert.equal(reply.content, CONTENT);
    assert.equal(seen.pieces.length, CHUNKS, 'one piece a chunk');
    assert.equal(seen.pieces.join(''), CONTENT);
    assert.equal(seen.restarts, 0);
    assert.deepEqual(reply.usage, { promptTokens: 50, completionTokens: 40 });
    assert.equal(reply.finishReason, 'stop');
    assert.equal(reply.id, 'chatcmpl-fake123');
    assert.equal(reply.systemFingerprint, 'fp_fake');
  });

  it('a stream cut off mid-way is sent again, and only the complete reply is used', async () => {
    fake.enqueue(streamed({ cutAfter: 5 }), streamed({}));
    const seen = new Recorder();
    const reply = await azure().complete(chatRequest(), signal(), seen);
    assert.equal(fake.chats.length, 2, 'sent again');
    assert.equal(reply.content, CONTENT, 'the second, whole reply');
    assert.equal(seen.restarts, 1, 'the observer heard that the first stream was void');
    // The pieces of the void stream come first (Node 24 may hand over one fewer before the cut than
    // Node 20), then the whole second reply.
    const all = seen.pieces.join('');
    const lost = all.length - CONTENT.length;
    assert.ok(lost >= 0 && CONTENT.startsWith(all.slice(0, lost)), all);
    assert.equal(all.slice(lost), CONTENT);
    assert.ok(
      logger.at('info').some((l) =>
        // Node 24's undici may report a fast local cut as a broken connection instead.
        /(stopped after 5 streamed chunk\(s\), before it was complete|Could not connect to 127\.0\.0\.1:\d+); retrying in .* \(retry 1 of 2\)/.test(
          l,
        ),
      ),
      logger.all(),
    );
  });

  it('a stream cut off before any content (after the role chunk) is cut off too', async () => {
    fake.enqueue(streamed({ cutAfter: 0 }), streamed({}));
    const reply = await azure().complete(chatRequest(), signal());
    assert.equal(fake.chats.length, 2);
    assert.equal(reply.content, CONTENT);
  });

  it('a stream cut off every time fails cleanly after the retries: a ModelError, never a part of the reply', async () => {
    fake.enqueue(streamed({ cutAfter: 3 }), streamed({ cutAfter: 3 }), streamed({ cutAfter: 3 }));
    const err = await azure(10_000, 2)
      .complete(chatRequest(), signal())
      .then(
        () => assert.fail('a cut stream must not be returned'),
        (e: unknown) => e,
      );
    assert.ok(err instanceof ModelError, String(err));
    assert.equal(fake.chats.length, 3);
    // Where the socket breaks while the response is being handed over (Node 24's undici, a fast local
    // cut), the break is a connection failure rather than a cut stream: either way, retried, then failed.
    assert.match(
      err.message,
      /^(The reply from Azure OpenAI at 127\.0\.0\.1:\d+ stopped after 3 streamed chunk\(s\), before it was complete \(and again on each of 2 retries\): nothing of it was used\.|Cannot connect to 127\.0\.0\.1:\d+ \(UND_ERR_SOCKET\)\.)$/,
    );
    assert.doesNotMatch(err.message, /streamed\\?"/);
    if (/stopped after/.test(err.message)) assert.match(err.hint, /Nothing was written/);
  });

  it("a content filter at the end of a streamed reply is the content filter's error", async () => {
    fake.enqueue({
      ...completion('{"files":[', {
        finishReason: 'content_filter',
        filter: { violence: { filtered: true, severity: 'high' } },
      }),
    });
    await assert.rejects(azure().complete(chatRequest(), signal()), (e: unknown) => {
      assert.ok(e instanceof ModelError);
      assert.match(e.message, /content filter blocked the model's answer \(categories: violence \(high\)\)/);
      return true;
    });
  });

  it('a service that ignores stream: true and answers with the whole completion still works', async () => {
    fake.enqueue(streamed({ notStreamed: true }));
    const reply = await azure().complete(chatRequest(), signal(), new Recorder());
    assert.equal(reply.content, CONTENT);
    assert.deepEqual(reply.usage, { promptTokens: 50, completionTokens: 40 });
  });

  it('cancelling during a slow stream stops it at once: CancelledError', async () => {
    fake.enqueue(streamed({ tokensPerSecond: 10 }));
    const controller = new AbortController();
    const seen = new Recorder();
    const started = Date.now();
    setTimeout(() => controller.abort(), 300);
    await assert.rejects(azure().complete(chatRequest(), controller.signal, seen), CancelledError);
    assert.ok(Date.now() - started < 2000, 'stopped at once, not at the end of the stream');
    assert.ok(seen.pieces.length > 0 && seen.pieces.length < CHUNKS, 'it was streaming');
    assert.equal(fake.chats.length, 1, 'not sent again');
  });

  it('a stream slower than the time budget fails as a timeout, not as a cut stream', async () => {
    fake.enqueue(streamed({ tokensPerSecond: 10 }));
    const err = await azure(700)
      .complete(chatRequest(), signal())
      .then(
        () => assert.fail('expected a timeout'),
        (e: unknown) => e,
      );
    assert.ok(err instanceof ModelError, String(err));
    assert.match(err.message, /did not answer within 700 ms \('timeoutSeconds'\)/);
    assert.equal(fake.chats.length, 1);
  });

  it('the OpenAI-compatible client streams too, and retries a cut stream', async () => {
    const compat = fakeOpenAI({ apiKeys: [KEY], deployments: ['qwen'] });
    const compatServer = await startFakeAzure([compat.route]);
    try {
      compat.enqueue(streamed({ cutAfter: 10 }), streamed({ tokensPerSecond: 1000 }));
      const seen = new Recorder();
      const reply = await new OpenAICompatibleClient({
        endpoint: `${compatServer.url}/v1`,
        deployment: 'qwen',
        apiKey: KEY,
        fetch: trustingFetch(compatServer.caPem),
        budget: new TimeBudget(10_000),
        maxRetries: 1,
        logger,
      }).complete(chatRequest(), signal(), seen);
      assert.equal(reply.content, CONTENT);
      assert.equal(compat.chats.length, 2);
      assert.equal(compat.chats[0]!.style, 'openai');
      assert.equal(compat.chats[0]!.body['stream'], true);
      assert.equal(seen.restarts, 1);
    } finally {
      await compatServer.close();
    }
  });
});
