/**
 * The real `openai` OpenAI client, through OpenAICompatibleClient, over HTTPS to the fake's
 * OpenAI-style /v1/chat/completions: the request, the json_schema fallback, error mappings, and the
 * key never showing in any error or log line even when the server echoes it.
 */
import assert from 'node:assert/strict';
import {
  OpenAICompatibleClient,
  type OpenAICompatibleClientOptions,
} from '../../tasks/CodeSynthesis/src/adapters/model/openai-compatible-client';
import { ModelError, SynthesisError } from '../../tasks/CodeSynthesis/src/core/errors';
import {
  chatRequest,
  completion,
  DEFAULT_CONTENT,
  fakeOpenAI,
  openAIAnswers,
  RecordingLogger,
  trustingFetch,
  type FakeOpenAI,
} from '../fake-servers/azure-openai';
import { TimeBudget } from '../../tasks/CodeSynthesis/src/adapters/net/time-budget';
import { startFakeAzure, type FakeAzure } from '../support/fake-azure';

const KEY = 'sk-compat-SECRET-4242';

describe('integration: OpenAI-compatible client (real openai SDK over HTTPS)', () => {
  let server: FakeAzure;
  let fake: FakeOpenAI;
  let legacy: FakeOpenAI;
  let legacyServer: FakeAzure;
  let host: string;
  let logger: RecordingLogger;

  before(async () => {
    fake = fakeOpenAI({ apiKeys: [KEY], deployments: ['gpt-4o-mini'] });
    server = await startFakeAzure([fake.route]);
    legacy = fakeOpenAI({
      apiKeys: [KEY],
      deployments: ['llama-3'],
      jsonSchema: false,
      content: '```python path=svc/app.py\nprint(1)\n```\n',
    });
    legacyServer = await startFakeAzure([legacy.route]);
    host = `127.0.0.1:${server.port}`;
  });
  after(async () => {
    await server.close();
    await legacyServer.close();
  });
  beforeEach(() => {
    fake.chats.length = 0;
    legacy.chats.length = 0;
    logger = new RecordingLogger();
  });

  const client = (over: Partial<OpenAICompatibleClientOptions> = {}): OpenAICompatibleClient =>
    new OpenAICompatibleClient({
      endpoint: `${server.url}/v1`,
      deployment: 'gpt-4o-mini',
      apiKey: KEY,
      fetch: trustingFetch(server.caPem),
      budget: new TimeBudget(10_000),
      maxRetries: 1,
      logger,
      ...over,
    });

  async function failure(c: OpenAICompatibleClient, key = KEY): Promise<SynthesisError> {
    const err = await c.complete(chatRequest(), new AbortController().signal).then(
      () => assert.fail('expected the call to fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof SynthesisError, String(err));
    const text = [
      err.describe(),
      err.stack ?? '',
      String((err.cause as Error | undefined)?.stack ?? err.cause ?? ''),
    ].join('\n');
    assert.ok(!text.includes(key), `the key must not appear in the error: ${text}`);
    assert.ok(!logger.all().includes(key), 'the key must not appear in the log');
    return err;
  }

  it('posts to <endpoint>/chat/completions with a bearer key and json_schema', async () => {
    const c = client();
    const reply = await c.complete(chatRequest({ maxOutputTokens: 2000 }), new AbortController().signal);
    assert.equal(reply.content, DEFAULT_CONTENT);
    assert.deepEqual(reply.usage, { promptTokens: 321, completionTokens: 123 });
    assert.deepEqual(c.info, { provider: 'openAICompatible', endpointHost: host, deployment: 'gpt-4o-mini' });
    const seen = server.requests.at(-1)!;
    assert.equal(seen.url, '/v1/chat/completions');
    assert.equal(seen.headers.authorization, `Bearer ${KEY}`);
    assert.equal(seen.headers['api-key'], undefined);
    const body = fake.chats.at(-1)!.body;
    assert.equal(body['model'], 'gpt-4o-mini');
    assert.equal(body['max_completion_tokens'], 2000);
    assert.ok(!('max_tokens' in body) && !('temperature' in body) && !('seed' in body));
    assert.deepEqual(body['response_format'], {
      type: 'json_schema',
      json_schema: { name: 'generated_files', schema: chatRequest().responseSchema.schema, strict: true },
    });
  });

  it('asks once more without response_format when the endpoint does not support json_schema', async () => {
    const c = client({
      endpoint: `${legacyServer.url}/v1/`,
      deployment: 'llama-3',
      fetch: trustingFetch(legacyServer.caPem),
    });
    const reply = await c.complete(chatRequest(), new AbortController().signal);
    assert.equal(reply.content, '```python path=svc/app.py\nprint(1)\n```\n');
    assert.equal(legacy.chats.length, 2);
    assert.ok('response_format' in legacy.chats[0]!.body);
    assert.ok(!('response_format' in legacy.chats[1]!.body));
    assert.deepEqual(legacy.chats[1]!.body['messages'], legacy.chats[0]!.body['messages']);
    // The prompt store records the request that was answered: the one without response_format.
    assert.deepEqual(reply.request, legacy.chats[1]!.body);
    assert.deepEqual(logger.at('info'), [
      `The endpoint 127.0.0.1:${legacyServer.port} does not support response_format json_schema; asking again without it (the reply may then be JSON or fenced code blocks).`,
    ]);
  });

  it('asks without response_format only once', async () => {
    fake.enqueue(openAIAnswers.jsonSchemaUnsupported(), openAIAnswers.jsonSchemaUnsupported());
    const err = await failure(client());
    assert.equal(fake.chats.length, 2);
    assert.equal(
      err.message,
      `Deployment 'gpt-4o-mini' at ${host} does not support structured outputs (response_format json_schema) (400).`,
    );
  });

  it('401: names the key, never shows it although the server echoes it', async () => {
    const wrong = 'sk-wrong-ECHOED-9999';
    const err = await failure(client({ apiKey: wrong }), wrong);
    assert.ok(err instanceof ModelError);
    assert.equal(
      err.describe(),
      `The OpenAI-compatible endpoint at ${host} rejected the API key (401 invalid_api_key). Check the key in the Key Vault secret ('keyVaultName', 'apiKeySecretName') or the 'apiKey' input: it must be a valid API key for this endpoint.`,
    );
    assert.ok(
      logger.at('debug').some((l) => l.includes('Incorrect API key provided: ***.')),
      'the echoed key is redacted in the debug body',
    );
  });

  it('401: never shows a key holding a quote or a backslash, which the server echoes JSON-escaped', async () => {
    const wrong = 'sk-qu"ote\\back-ECHOED-9999';
    await failure(client({ apiKey: wrong }), wrong);
    const debug = logger.at('debug').join('\n');
    assert.ok(debug.includes('Incorrect API key provided: ***.'), debug);
    assert.ok(!debug.includes('ECHOED'), debug);
  });

  it('404 model_not_found names the model', async () => {
    const err = await failure(client({ deployment: 'gpt-9' }));
    assert.equal(
      err.describe(),
      `The OpenAI-compatible endpoint at ${host} has no model named 'gpt-9' (404 model_not_found). Set 'deployment' to a model this endpoint serves (its /models list).`,
    );
  });

  it('404 on a wrong base URL says what the endpoint should be', async () => {
    const err = await failure(client({ endpoint: `${server.url}/api` }));
    assert.equal(
      err.describe(),
      `The OpenAI-compatible endpoint at ${host} answered 404 Not found for the chat completions path. Check 'endpoint': it must be the base URL of the API (usually ending in /v1), without /chat/completions.`,
    );
  });

  it('429 insufficient_quota is about the quota, not throttling', async () => {
    fake.enqueue(openAIAnswers.insufficientQuota());
    const err = await failure(client({ maxRetries: 0 }));
    assert.equal(
      err.describe(),
      `The OpenAI-compatible endpoint at ${host} says the account's quota is used up (429 insufficient_quota). Add credit or raise the quota of the account behind the key, then run again.`,
    );
  });

  it("finish_reason 'length' with no content asks for more output tokens", async () => {
    fake.enqueue(completion('', { finishReason: 'length' }));
    const err = await failure(client());
    assert.equal(
      err.describe(),
      `The OpenAI-compatible endpoint at ${host} returned an empty answer (finish_reason 'length'). Nothing was written. Raise 'maxOutputTokens' (reasoning models spend part of it before answering) or clear it.`,
    );
  });

  it("a truncated answer is passed on with finish_reason 'length' for the reply parser", async () => {
    fake.enqueue(completion('{"files":[{"path":"a","content":"x', { finishReason: 'length' }));
    const reply = await client().complete(chatRequest(), new AbortController().signal);
    assert.equal(reply.finishReason, 'length');
  });

  /** A fetch answering 200 with `body` in the given pieces of bytes, without a server. */
  const piecesFetch =
    (pieces: Uint8Array[], contentType = 'application/json', headers: Record<string, string> = {}) =>
    async (): Promise<Response> =>
      new Response(
        new ReadableStream<Uint8Array>({
          start(controller) {
            for (const piece of pieces) controller.enqueue(piece);
            controller.close();
          },
        }),
        { status: 200, headers: { 'content-type': contentType, ...headers } },
      );

  it('reads a reply that arrives in pieces, a character split across two, as one text (a BOM dropped), however long', async () => {
    // 300 KB: more than the first buffer (64 KiB) taken when the answer has no content-length.
    const padding = '#'.repeat(300_000);
    const content = JSON.stringify({
      files: [{ path: 'svc/é.py', content: `print("héllo ✓")\n${padding}\n` }],
    });
    const bytes = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from(JSON.stringify(completion(content).body), 'utf8'),
    ]);
    const split = bytes.indexOf(Buffer.from('✓')) + 1; // inside the 3 bytes of '✓'
    const at = [2, bytes.indexOf(Buffer.from('é')) + 1, split, split + 1];
    const pieces = [0, ...at].map((start, i) => bytes.subarray(start, at[i] ?? bytes.length));
    assert.equal(Buffer.concat(pieces).length, bytes.length);
    const reply = await client({ fetch: piecesFetch(pieces) }).complete(
      chatRequest(),
      new AbortController().signal,
    );
    assert.equal(reply.content, content);
    assert.equal(reply.id, 'chatcmpl-fake123');
  });

  it('a content-length of a terabyte reserves no terabyte: the reply is read as it comes', async () => {
    const body = Buffer.from(JSON.stringify(completion(DEFAULT_CONTENT).body));
    const fetch = piecesFetch([body], 'application/json', { 'content-length': String(2 ** 40) });
    const reply = await client({ fetch }).complete(chatRequest(), new AbortController().signal);
    assert.equal(reply.content, DEFAULT_CONTENT);
  });

  it('a JSON body whose content-type is not JSON is still read as the completion (a service that does not stream)', async () => {
    const body = Buffer.from(JSON.stringify(completion(DEFAULT_CONTENT).body));
    const reply = await client({ fetch: piecesFetch([body], 'text/plain') }).complete(
      chatRequest(),
      new AbortController().signal,
    );
    assert.equal(reply.content, DEFAULT_CONTENT);
  });

  it('a body that is not JSON is not a chat completion; its text stays in the debug output', async () => {
    const err = await failure(
      client({ fetch: piecesFetch([Buffer.from('sk-NOT-JSON at all')], 'text/plain') }),
    );
    assert.ok(err instanceof ModelError);
    assert.doesNotMatch(err.message, /sk-NOT-JSON/);
  });
});
