/**
 * The real `openai` AzureOpenAI client, through AzureOpenAIClient, over HTTPS to the fake Azure OpenAI:
 * the wire format we send, the reply we map, every error mapping with its exact message, retries and
 * the time budget.
 */
import assert from 'node:assert/strict';
import net, { type AddressInfo } from 'node:net';
import {
  AzureOpenAIClient,
  type AzureOpenAIClientOptions,
} from '../../tasks/CodeSynthesis/src/adapters/model/azure-openai-client';
import {
  CancelledError,
  CredentialError,
  ModelError,
  SynthesisError,
} from '../../tasks/CodeSynthesis/src/core/errors';
import {
  azureAnswers,
  chatRequest,
  completion,
  fakeOpenAI,
  proxiedFetch,
  RecordingLogger,
  trustingFetch,
  unsupportedParameter,
  DEFAULT_CONTENT,
  type FakeOpenAI,
} from '../fake-servers/azure-openai';
import { TimeBudget } from '../../tasks/CodeSynthesis/src/adapters/net/time-budget';
import { startFakeAzure, startFakeProxy, type FakeAzure } from '../support/fake-azure';

const KEY = 'azure-key-0123456789abcdef';

describe('integration: Azure OpenAI client (real openai SDK over HTTPS)', () => {
  let server: FakeAzure;
  let fake: FakeOpenAI;
  let host: string;
  let logger: RecordingLogger;

  before(async () => {
    fake = fakeOpenAI({ apiKeys: [KEY], bearerTokens: ['entra-token-1'], deployments: ['gpt-4o'] });
    server = await startFakeAzure([fake.route]);
    host = `127.0.0.1:${server.port}`;
  });
  after(() => server.close());
  beforeEach(() => {
    fake.chats.length = 0;
    logger = new RecordingLogger();
  });

  const client = (over: Partial<AzureOpenAIClientOptions> = {}): AzureOpenAIClient =>
    new AzureOpenAIClient({
      endpoint: server.url,
      deployment: 'gpt-4o',
      apiVersion: '2024-10-21',
      apiKey: KEY,
      fetch: trustingFetch(server.caPem),
      budget: new TimeBudget(10_000),
      maxRetries: 2,
      logger,
      ...over,
    });

  /** The ModelError a call fails with; also checks the key is nowhere in it. */
  async function failure(
    c: AzureOpenAIClient,
    signal = new AbortController().signal,
  ): Promise<SynthesisError> {
    const err = await c.complete(chatRequest(), signal).then(
      () => assert.fail('expected the call to fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof SynthesisError, String(err));
    const text = [
      err.describe(),
      err.stack ?? '',
      String((err.cause as Error | undefined)?.stack ?? err.cause ?? ''),
    ].join('\n');
    assert.ok(!text.includes(KEY), 'the key must not appear in the error');
    assert.ok(!logger.all().includes(KEY), 'the key must not appear in the log');
    return err;
  }

  it('sends the documented request and maps the reply', async () => {
    const c = client();
    const reply = await c.complete(chatRequest(), new AbortController().signal);
    const { request: sent, ...mapped } = reply;
    assert.deepEqual(mapped, {
      id: 'chatcmpl-fake123',
      model: 'gpt-4o',
      content: DEFAULT_CONTENT,
      finishReason: 'stop',
      usage: { promptTokens: 321, completionTokens: 123 },
      systemFingerprint: 'fp_fake',
    });
    assert.deepEqual(c.info, {
      provider: 'azureOpenAI',
      endpointHost: host,
      deployment: 'gpt-4o',
      apiVersion: '2024-10-21',
    });

    const seen = server.requests.at(-1)!;
    assert.equal(seen.method, 'POST');
    assert.equal(seen.url, '/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21');
    assert.equal(seen.headers['api-key'], KEY);
    assert.equal(seen.headers.authorization, undefined);
    const body = fake.chats.at(-1)!.body;
    assert.deepEqual(body['messages'], [
      { role: 'system', content: chatRequest().messages[0]!.content },
      { role: 'user', content: chatRequest().messages[1]!.content },
    ]);
    assert.deepEqual(body['response_format'], {
      type: 'json_schema',
      json_schema: { name: 'generated_files', schema: chatRequest().responseSchema.schema, strict: true },
    });
    for (const absent of ['max_tokens', 'max_completion_tokens', 'temperature', 'seed'])
      assert.ok(!(absent in body), `${absent} must not be sent`);
    // Streamed, with the usage in the last chunk (streamed-replies.test.ts covers the stream itself).
    assert.equal(body['stream'], true);
    assert.deepEqual(body['stream_options'], { include_usage: true });
    // The prompt store records the body exactly as it went out.
    assert.deepEqual(sent, body);
    assert.ok(
      logger.at('debug').some((l) => l.includes('(request id req-')),
      'request id at debug',
    );
  });

  it('sends max_completion_tokens (never max_tokens), temperature and seed only when set', async () => {
    await client().complete(
      chatRequest({ maxOutputTokens: 4000, temperature: 0.2, seed: 7 }),
      new AbortController().signal,
    );
    const body = fake.chats.at(-1)!.body;
    assert.equal(body['max_completion_tokens'], 4000);
    assert.equal(body['temperature'], 0.2);
    assert.equal(body['seed'], 7);
    assert.ok(!('max_tokens' in body));
  });

  it('accepts an endpoint given with /openai/', async () => {
    await client({ endpoint: `${server.url}/openai/` }).complete(chatRequest(), new AbortController().signal);
    assert.equal(
      server.requests.at(-1)!.url,
      '/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21',
    );
  });

  it('authenticates with an Entra ID token from the provider, asked before every attempt', async () => {
    let calls = 0;
    const provider = async (): Promise<string> => {
      calls++;
      return 'entra-token-1';
    };
    fake.enqueue(azureAnswers.throttled(5));
    await client({ apiKey: undefined, azureADTokenProvider: provider }).complete(
      chatRequest(),
      new AbortController().signal,
    );
    const seen = server.requests.at(-1)!;
    assert.equal(seen.headers.authorization, 'Bearer entra-token-1');
    assert.equal(seen.headers['api-key'], undefined);
    assert.equal(calls, 2);
  });

  it('reaches the real host name through the agent proxy', async () => {
    const proxy = await startFakeProxy(server);
    try {
      const c = client({
        endpoint: 'https://contoso-ai.openai.azure.com/',
        fetch: proxiedFetch(proxy.url, server.caPem),
      });
      await c.complete(chatRequest(), new AbortController().signal);
      assert.ok(proxy.tunnels.includes('contoso-ai.openai.azure.com:443'), proxy.tunnels.join(','));
      assert.equal(c.info.endpointHost, 'contoso-ai.openai.azure.com');
    } finally {
      await proxy.close();
    }
  });

  describe('errors', () => {
    it('401 with a wrong key names where the key comes from', async () => {
      const err = await failure(
        client({
          apiKey: 'wrong-key-value',
          keySource: "the Key Vault secret 'openai-api-key' in vault 'kv-ci'",
        }),
      );
      assert.ok(err instanceof ModelError);
      assert.equal(err.status, 401);
      assert.equal(
        err.describe(),
        `Azure OpenAI at ${host} rejected the API key (401). Check the Key Vault secret 'openai-api-key' in vault 'kv-ci': it must be a current key of this resource (Azure portal > the resource > Keys and Endpoint), and 'endpoint' must be that resource's endpoint.`,
      );
      assert.ok(!err.describe().includes('wrong-key-value'));
      assert.equal(fake.chats.length, 1, '401 is not retried');
      const body = logger.lines.find(
        (l) => l.level === 'debug' && l.text.includes('Access denied due to invalid subscription key'),
      );
      assert.ok(body?.untrusted, 'the raw body is logged at debug as untrusted text');
    });

    it('401 without keySource names both key inputs', async () => {
      const err = await failure(client({ apiKey: 'wrong-key-value' }));
      assert.match(
        err.hint,
        /^Check the key in the Key Vault secret \('keyVaultName', 'apiKeySecretName'\) or the 'apiKey' input:/,
      );
    });

    it("401 with Entra ID asks for the 'Cognitive Services OpenAI User' role", async () => {
      const err = await failure(
        client({ apiKey: undefined, azureADTokenProvider: async () => 'token-without-role' }),
      );
      assert.equal(
        err.describe(),
        `Azure OpenAI at ${host} rejected the Entra ID token of the service connection (401 PermissionDenied). The service connection's identity needs the 'Cognitive Services OpenAI User' role on the Azure OpenAI resource (a new role assignment can take a few minutes to apply).`,
      );
    });

    it('passes a CredentialError from the token provider through unchanged', async () => {
      const cred = new CredentialError(
        'Entra ID refused a token for service connection prod-arm.',
        'prod-arm',
        'Check the federated credential.',
      );
      const err = await failure(
        client({ apiKey: undefined, azureADTokenProvider: () => Promise.reject(cred) }),
      );
      assert.equal(err, cred);
      assert.equal(fake.chats.length, 0);
    });

    it('403 key auth disabled points to entraId', async () => {
      fake.enqueue(azureAnswers.keyAuthDisabled());
      const err = await failure(client());
      assert.equal(
        err.describe(),
        `Azure OpenAI at ${host} has key-based authentication disabled (403 AuthenticationTypeDisabled). Set 'authMode' to 'entraId' and give the service connection's identity the 'Cognitive Services OpenAI User' role on the resource.`,
      );
    });

    it('403 from the firewall points to the network rules', async () => {
      fake.enqueue(azureAnswers.firewall());
      const err = await failure(client());
      assert.equal(
        err.message,
        `Azure OpenAI at ${host} refused the connection because of its network rules (403).`,
      );
    });

    it('404 DeploymentNotFound names the deployment and the host', async () => {
      const err = await failure(client({ deployment: 'gpt-5-typo' }));
      assert.equal(
        err.message,
        `Azure OpenAI at ${host} has no deployment named 'gpt-5-typo' (404 DeploymentNotFound).`,
      );
      assert.match(err.hint, /^Set 'deployment' to the name of a deployment of this resource/);
    });

    it('400 API version not supported names the apiVersion input', async () => {
      const err = await failure(client({ apiVersion: '2023-01-01' }));
      assert.equal(
        err.describe(),
        `Azure OpenAI at ${host} does not accept api-version '2023-01-01' for deployment 'gpt-4o' (400 BadRequest). Set 'apiVersion' to a version the service and the model support, for example 2024-10-21 (newer models may need a newer -preview version).`,
      );
    });

    it('404 Resource not found names the endpoint and the apiVersion', async () => {
      fake.enqueue(azureAnswers.resourceNotFound());
      const err = await failure(client());
      assert.equal(
        err.describe(),
        `Azure OpenAI at ${host} answered 404 Resource not found for api-version '2024-10-21'. Check 'endpoint' (https://<resource>.openai.azure.com) and 'apiVersion' (for example 2024-10-21).`,
      );
    });

    it('400 content_filter says which categories fired and that nothing was written', async () => {
      fake.enqueue(
        azureAnswers.contentFilter({
          hate: { filtered: false, severity: 'safe' },
          jailbreak: { filtered: true, detected: true },
          violence: { filtered: true, severity: 'medium' },
        }),
      );
      const err = await failure(client());
      assert.equal(
        err.describe(),
        "Azure OpenAI's content filter blocked the prompt (categories: jailbreak, violence (medium)). Nothing was written. Rephrase the intent or the instructionsFile so they do not trigger these categories, or ask the owner of the resource to review the content filter of deployment 'gpt-4o'.",
      );
      assert.equal(fake.chats.length, 1);
    });

    it("finish_reason 'content_filter' in a 200 reply names the categories", async () => {
      fake.enqueue(
        completion(null, {
          finishReason: 'content_filter',
          filter: { protected_material_code: { filtered: true, detected: true } },
        }),
      );
      const err = await failure(client());
      assert.equal(
        err.message,
        "Azure OpenAI's content filter blocked the model's answer (categories: protected_material_code).",
      );
      assert.match(err.hint, /^Nothing was written\./);
    });

    it('400 context_length_exceeded says how big the request was and what to shorten', async () => {
      fake.enqueue(azureAnswers.contextLengthExceeded(128000, 126500, 4000));
      const err = await failure(client());
      assert.equal(
        err.describe(),
        "The request is too long for deployment 'gpt-4o': it needs 130500 tokens (126500 in the prompt, 4000 reserved for the answer), the model's limit is 128000. Shorten the intent or the instructionsFile, or lower 'maxOutputTokens' (the answer's tokens count toward the limit), or use a model with a larger context window.",
      );
    });

    it('400 unsupported parameter names the input to clear', async () => {
      fake.enqueue(unsupportedParameter('temperature'));
      const err = await failure(client());
      assert.equal(
        err.describe(),
        `Deployment 'gpt-4o' at ${host} does not accept the parameter 'temperature' (400 unsupported_parameter). Clear the 'temperature' input: this model does not support it (reasoning models accept only the default).`,
      );
    });

    it('a refusal is logged as untrusted text, not put in the message', async () => {
      fake.enqueue(
        completion(null, { refusal: "I can't help with that. ##vso[task.setvariable variable=x]y" }),
      );
      const err = await failure(client());
      assert.equal(
        err.message,
        'The model refused to generate the files (its explanation is in the log above).',
      );
      assert.ok(
        logger.lines.some(
          (l) => l.untrusted && l.level === 'warn' && l.text.includes("I can't help with that"),
        ),
      );
    });
  });

  describe('retries and the time budget', () => {
    it('retries in our loop, not the SDK: each attempt is a first try to the SDK, with its answer as sent', async () => {
      fake.enqueue(azureAnswers.throttled(20), azureAnswers.serverError({ 'retry-after-ms': '10' }));
      const reply = await client({ maxRetries: 3 }).complete(chatRequest(), new AbortController().signal);
      assert.equal(reply.content, DEFAULT_CONTENT);
      const attempts = server.requests.filter((r) => r.url.includes('/chat/completions')).slice(-3);
      assert.deepEqual(
        attempts.map((r) => r.headers['x-stainless-retry-count']),
        ['0', '0', '0'],
      );
      assert.deepEqual(logger.at('info'), [
        'Azure OpenAI answered 429; retrying in 20 ms (retry 1 of 3).',
        'Azure OpenAI answered 500; retrying in 10 ms (retry 2 of 3).',
      ]);
    });

    it('one time budget for the run: a second call gets only what the first left', async () => {
      const c = client({ budget: new TimeBudget(1000) });
      fake.enqueue({ ...completion(DEFAULT_CONTENT), delayMs: 600 });
      await c.complete(chatRequest(), new AbortController().signal);
      fake.enqueue({ ...completion('late'), delayMs: 1500 });
      const started = Date.now();
      const err = await failure(c);
      assert.ok(Date.now() - started < 700, 'the second call stopped when the budget ran out');
      assert.match(
        err.message,
        new RegExp(
          `^Azure OpenAI at ${host} did not answer within the [34]\\d\\d ms left of 'timeoutSeconds' \\(1 s for the whole run\\)\\.$`,
        ),
      );
    });

    it('retries a 429 after retry-after-ms, logging the wait', async () => {
      fake.enqueue(azureAnswers.throttled(60));
      const started = Date.now();
      const reply = await client().complete(chatRequest(), new AbortController().signal);
      const elapsed = Date.now() - started;
      assert.equal(reply.content, DEFAULT_CONTENT);
      assert.equal(fake.chats.length, 2);
      assert.ok(elapsed >= 55, `waited ${elapsed} ms`);
      // retry-after says 1 s and the SDK's own backoff starts at ~0.4-0.5 s: retry-after-ms (60 ms) was used.
      assert.ok(elapsed < 400, `waited ${elapsed} ms`);
      assert.deepEqual(logger.at('info'), ['Azure OpenAI answered 429; retrying in 60 ms (retry 1 of 2).']);
    });

    it('gives up on a persistent 429 after maxRetries', async () => {
      fake.enqueue(azureAnswers.throttled(5), azureAnswers.throttled(5), azureAnswers.throttled(5));
      const err = await failure(client());
      assert.equal(
        err.describe(),
        `Azure OpenAI at ${host} is still throttling requests (429) after 2 retries. Raise the tokens-per-minute quota of deployment 'gpt-4o', or run again later.`,
      );
      assert.equal(fake.chats.length, 3);
      assert.equal((err as ModelError).status, 429);
    });

    it('does not wait for a retry that would outlast the time budget', async () => {
      fake.enqueue(azureAnswers.throttled(60_000));
      const started = Date.now();
      const err = await failure(client({ budget: new TimeBudget(2000) }));
      assert.ok(Date.now() - started < 1000);
      assert.equal(fake.chats.length, 1);
      assert.match(
        err.message,
        new RegExp(
          `^Azure OpenAI at ${host} is throttling requests \\(429\\); it asked to wait 60 s, more than the (1\\.\\d|2) s left of 'timeoutSeconds' \\(2 s\\)\\.$`,
        ),
      );
    });

    it('aborts a call that outlasts the time budget', async () => {
      fake.enqueue({ ...completion('late'), delayMs: 1500 });
      const started = Date.now();
      const err = await failure(client({ budget: new TimeBudget(300) }));
      assert.ok(Date.now() - started < 1200, 'aborted at the budget');
      assert.equal(
        err.describe(),
        `Azure OpenAI at ${host} did not answer within 300 ms ('timeoutSeconds'). Raise 'timeoutSeconds', or ask for fewer files or lower 'maxOutputTokens' so the answer comes sooner.`,
      );
    });

    it('stops at once when the run is cancelled', async () => {
      fake.enqueue({ ...completion('late'), delayMs: 1500 });
      const run = new AbortController();
      setTimeout(() => run.abort(), 100);
      const started = Date.now();
      const err = await failure(client(), run.signal);
      assert.ok(err instanceof CancelledError, String(err));
      assert.ok(Date.now() - started < 1000);
    });

    it('stops at once when the run is cancelled during a retry wait', async () => {
      fake.enqueue(azureAnswers.throttled(5000));
      const run = new AbortController();
      setTimeout(() => run.abort(), 150);
      const started = Date.now();
      const err = await failure(client(), run.signal);
      assert.ok(err instanceof CancelledError, String(err));
      assert.ok(Date.now() - started < 1000);
      assert.equal(fake.chats.length, 1);
    });

    it('retries a 500 and fails clearly when it persists', async () => {
      fake.enqueue(azureAnswers.serverError({ 'retry-after-ms': '5' }));
      assert.equal(
        (await client().complete(chatRequest(), new AbortController().signal)).content,
        DEFAULT_CONTENT,
      );
      fake.enqueue(
        azureAnswers.serverError({ 'retry-after-ms': '5' }),
        azureAnswers.serverError({ 'retry-after-ms': '5' }),
      );
      const err = await failure(client({ maxRetries: 1 }));
      assert.equal(
        err.describe(),
        `Azure OpenAI at ${host} failed with 500 InternalServerError after 1 retry. This is a service-side error: run again later, and check https://azure.status.microsoft if it persists.`,
      );
    });
  });

  describe('attempts and unreadable answers', () => {
    it('reports the one attempt made when the service says x-should-retry: false', async () => {
      fake.enqueue(azureAnswers.serverError({ 'x-should-retry': 'false' }));
      const err = await failure(client({ maxRetries: 6 }));
      assert.equal(fake.chats.length, 1);
      assert.equal(
        err.message,
        `Azure OpenAI at ${host} failed with 500 InternalServerError; the service said not to retry.`,
      );
    });

    it('reports the retries actually made before the service said not to retry', async () => {
      fake.enqueue(
        azureAnswers.serverError({ 'retry-after-ms': '5' }),
        azureAnswers.serverError({ 'x-should-retry': 'false' }),
      );
      const err = await failure(client({ maxRetries: 6 }));
      assert.equal(fake.chats.length, 2);
      assert.equal(
        err.message,
        `Azure OpenAI at ${host} failed with 500 InternalServerError after 1 retry; the service then said not to retry.`,
      );
    });

    it('a 200 whose body is not JSON: says so, and keeps the body out of the message', async () => {
      fake.enqueue({ status: 200, body: undefined, raw: 'sk-TOPSECRET-0123456789 is not json' });
      const err = await failure(client());
      assert.equal(
        err.describe(),
        `Azure OpenAI at ${host} answered 200 with a body that is not JSON (content-type application/json). Check that 'endpoint' is the service's URL and that no proxy or gateway answers in its place; the answer is in the debug output (system.debug: true).`,
      );
      assert.doesNotMatch(err.describe(), /TOPSECR|Unexpected token/);
      assert.ok(
        logger.lines.some((l) => l.untrusted && l.level === 'debug' && l.text.includes('sk-TOPSECRET')),
        'the body is in the debug output',
      );
    });

    it('a 200 HTML page is not a chat completion, and the page stays out of the message', async () => {
      fake.enqueue({
        status: 200,
        body: undefined,
        raw: '<html>sk-TOPSECRET sign in</html>',
        headers: { 'content-type': 'text/html' },
      });
      const err = await failure(client());
      assert.match(err.message, /answered 200 with a body that is not JSON \(content-type text\/html\)\.$/);
      assert.doesNotMatch(err.describe(), /TOPSECR/);
    });
  });

  describe('connection failures', () => {
    it('connection refused names the host', async () => {
      const port = await closedPort();
      const err = await failure(client({ endpoint: `https://127.0.0.1:${port}`, maxRetries: 0 }));
      assert.equal(err.message, `Cannot connect to 127.0.0.1:${port} (ECONNREFUSED).`);
    });

    it('an untrusted certificate names the host and the CA setting', async () => {
      const err = await failure(client({ fetch: trustingFetch(undefined), maxRetries: 0 }));
      assert.equal(
        err.describe(),
        `The TLS certificate of ${host} is not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE). If a proxy or firewall re-signs TLS with a private CA, configure the agent to trust that CA (the agent's CA setting, Agent.CAInfo, set with ./config --sslcacert); the task uses the agent's certificate settings.`,
      );
    });

    it('an unknown host name says so', async () => {
      const lookup = (hostname: string, _opts: unknown, cb: (err: Error) => void): void =>
        cb(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));
      const err = await failure(
        client({
          endpoint: 'https://no-such-resource.openai.azure.com',
          fetch: trustingFetch(server.caPem, { lookup }),
          maxRetries: 0,
        }),
      );
      assert.equal(
        err.describe(),
        "Cannot resolve the host name no-such-resource.openai.azure.com (ENOTFOUND). Check 'endpoint' for typos; a private endpoint needs DNS that the agent can use.",
      );
    });

    it('retries a connection failure and logs it', async () => {
      const port = await closedPort();
      await failure(client({ endpoint: `https://127.0.0.1:${port}`, maxRetries: 1 }));
      const lines = logger.at('info');
      assert.equal(lines.length, 1, lines.join('\n'));
      assert.match(
        lines[0]!,
        new RegExp(
          `^Could not connect to 127\\.0\\.0\\.1:${port}; retrying in \\d+ ms \\(retry 1 of 1\\)\\.$`,
        ),
      );
    });
  });
});

async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}
