/**
 * The pure half of the model clients: failure -> message mapping and reply mapping, for shapes the
 * integration tests do not reach (other servers' bodies, hostile text), and lazy loading of the SDK.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { chatParams, toModelReply } from '../../tasks/CodeSynthesis/src/adapters/model/chat-completions';
import {
  describeFailure,
  filteredCategories,
  formatWait,
  isResponseFormatUnsupported,
  type CallContext,
  type Failure,
} from '../../tasks/CodeSynthesis/src/adapters/model/model-errors';
import { CancelledError, CredentialError, ModelError } from '../../tasks/CodeSynthesis/src/core/errors';
import { chatRequest, RecordingLogger } from '../fake-servers/azure-openai';

const azure: CallContext = {
  provider: 'azureOpenAI',
  endpointHost: 'res.openai.azure.com',
  deployment: 'gpt-4o',
  apiVersion: '2024-10-21',
  auth: 'apiKey',
  timeoutMs: 300_000,
  maxRetries: 3,
};
const compat: CallContext = {
  provider: 'openAICompatible',
  endpointHost: 'llm.example.com',
  deployment: 'llama-3',
  auth: 'apiKey',
  timeoutMs: 300_000,
  maxRetries: 3,
};
const http = (status: number, body: unknown, text?: string): Failure => ({
  kind: 'http',
  status,
  body,
  ...(text ? { text } : {}),
});

describe('model errors', () => {
  it('reads content filter results in both spellings and skips unsafe names', () => {
    assert.deepEqual(
      filteredCategories({
        hate: { filtered: true, severity: 'high' },
        sexual: { filtered: false, severity: 'safe' },
        jailbreak: { filtered: true, detected: true },
      }),
      ['hate (high)', 'jailbreak'],
    );
    assert.deepEqual(
      filteredCategories({
        'x ##vso[task.complete]': { filtered: true },
        violence: { filtered: true, severity: 'med ium ##vso' },
      }),
      ['violence'],
    );
    assert.deepEqual(filteredCategories('nonsense'), []);
    const err = describeFailure(
      http(400, {
        error: {
          code: 'content_filter',
          inner_error: {
            code: 'ResponsibleAIPolicyViolation',
            content_filter_results: { jailbreak: { filtered: true, detected: true } },
          },
        },
      }),
      azure,
    );
    assert.equal(err.message, "Azure OpenAI's content filter blocked the prompt (categories: jailbreak).");
  });

  it('content filter without details says so', () => {
    const err = describeFailure(
      http(400, { error: { code: 'content_filter', message: 'filtered', param: 'prompt' } }),
      azure,
    );
    assert.equal(
      err.message,
      "Azure OpenAI's content filter blocked the prompt (the service did not say which category).",
    );
  });

  it('never copies remote text into a message', () => {
    const hostile = 'Run ##vso[task.setvariable variable=x]pwned now';
    for (const status of [400, 401, 403, 404, 409, 418, 429, 500, 503]) {
      const err = describeFailure(
        http(status, { error: { code: hostile, message: hostile } }, hostile),
        azure,
      );
      assert.ok(!err.describe().includes('##vso'), `${status}: ${err.describe()}`);
    }
  });

  it('recognises "response_format unsupported" from several servers', () => {
    assert.ok(
      isResponseFormatUnsupported(
        http(400, {
          error: {
            message:
              "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model.",
            param: 'response_format',
          },
        }),
      ),
    );
    assert.ok(
      isResponseFormatUnsupported(
        http(422, {
          detail: [{ loc: ['body', 'response_format'], msg: 'value is not a valid enumeration member' }],
        }),
      ),
    );
    assert.ok(
      isResponseFormatUnsupported(http(400, undefined, 'json_schema is not supported by this backend')),
    );
    assert.ok(!isResponseFormatUnsupported(http(400, { error: { message: 'messages must not be empty' } })));
    assert.ok(!isResponseFormatUnsupported(http(500, { error: { message: 'response_format crashed' } })));
    assert.ok(!isResponseFormatUnsupported({ kind: 'timeout' }));
  });

  it('an api-version that the model needs is an apiVersion problem, not a structured-output one', () => {
    const err = describeFailure(
      http(400, {
        error: {
          code: 'BadRequest',
          message:
            'response_format value as json_schema is enabled only for api versions 2024-08-01-preview and later',
        },
      }),
      azure,
    );
    assert.match(err.describe(), /does not accept api-version '2024-10-21'.*Set 'apiVersion'/);
  });

  it('Azure without structured outputs names the model requirement', () => {
    const err = describeFailure(
      http(400, {
        error: {
          code: null,
          message:
            "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model.",
          param: 'response_format',
        },
      }),
      azure,
    );
    assert.equal(
      err.describe(),
      "Deployment 'gpt-4o' at res.openai.azure.com does not support structured outputs (response_format json_schema) (400). Deploy a model that supports structured outputs (for example gpt-4o 2024-08-06 or later, gpt-4.1) and use 'apiVersion' 2024-10-21 or later.",
    );
  });

  it('context length without the split still gives the sizes', () => {
    const err = describeFailure(
      http(400, {
        error: {
          code: 'context_length_exceeded',
          message:
            "This model's maximum context length is 8192 tokens. However, your messages resulted in 9001 tokens. Please reduce the length of the messages.",
        },
      }),
      azure,
    );
    assert.equal(
      err.message,
      "The request is too long for deployment 'gpt-4o': it needs 9001 tokens, the model's limit is 8192.",
    );
  });

  it('403 with Entra ID mentions the role', () => {
    const err = describeFailure(http(403, { error: { code: 'PermissionDenied', message: 'nope' } }), {
      ...azure,
      auth: 'entraId',
    });
    assert.equal(
      err.describe(),
      "Azure OpenAI at res.openai.azure.com refused access (403 PermissionDenied). The service connection's identity needs the 'Cognitive Services OpenAI User' role on the resource; also check the resource's network rules.",
    );
  });

  it('max_completion_tokens refused on Azure points to a newer apiVersion', () => {
    const err = describeFailure(
      http(400, {
        error: {
          code: 'BadRequest',
          message: 'Unrecognized request argument supplied: max_completion_tokens',
        },
      }),
      { ...azure, apiVersion: '2024-06-01' },
    );
    assert.equal(err.hint, "Use 'apiVersion' 2024-10-21 or later, or clear 'maxOutputTokens'.");
  });

  it('maps connection failures by their code', () => {
    const conn = (code: string, message = 'x'): Failure => ({
      kind: 'connection',
      cause: Object.assign(new TypeError('fetch failed'), {
        cause: Object.assign(new Error(message), { code }),
      }),
    });
    assert.equal(
      describeFailure(conn('EAI_AGAIN'), azure).message,
      'Cannot resolve the host name res.openai.azure.com (EAI_AGAIN).',
    );
    assert.equal(
      describeFailure(conn('ERR_TLS_CERT_ALTNAME_INVALID'), azure).message,
      'The TLS certificate presented for res.openai.azure.com is for another host name (ERR_TLS_CERT_ALTNAME_INVALID).',
    );
    assert.equal(
      describeFailure(conn('SELF_SIGNED_CERT_IN_CHAIN'), azure).message,
      'The TLS certificate of res.openai.azure.com is not trusted (SELF_SIGNED_CERT_IN_CHAIN).',
    );
    assert.equal(
      describeFailure(conn('UND_ERR_ABORTED', 'Proxy response (407) !== 200 when HTTP Tunneling'), azure)
        .message,
      "The agent's proxy refused to connect to res.openai.azure.com (407 Proxy Authentication Required).",
    );
    assert.equal(
      describeFailure({ kind: 'connection', cause: new Error('socket hang up') }, compat).message,
      'Cannot connect to llm.example.com.',
    );
    assert.ok(describeFailure(conn('ECONNRESET'), azure).cause, 'the local cause is kept for debug output');
  });

  it('passes typed errors and cancellation through', () => {
    const cred = new CredentialError('no token', 'conn', 'fix it');
    assert.equal(describeFailure({ kind: 'typed', error: cred }, azure), cred);
    assert.ok(describeFailure({ kind: 'cancelled' }, azure) instanceof CancelledError);
    assert.equal(
      describeFailure({ kind: 'timeout' }, { ...azure, timeoutMs: 90_000 }).message,
      "Azure OpenAI at res.openai.azure.com did not answer within 90 s ('timeoutSeconds').",
    );
  });

  it('an unexpected failure keeps its text (which may quote the answer) out of the message', () => {
    const cause = new SyntaxError('Unexpected token \'s\', "sk-TOPSECR"... is not valid JSON');
    const err = describeFailure({ kind: 'other', cause }, azure);
    assert.equal(
      err.describe(),
      'Could not call Azure OpenAI at res.openai.azure.com: the call failed unexpectedly (SyntaxError). The details are in the debug output (run with system.debug=true).',
    );
    assert.equal(err.cause, cause, 'the cause goes to debug output');
  });

  it('claims only the retries made: none, some, or stopped by the service', () => {
    const at = 'Azure OpenAI at res.openai.azure.com';
    const msg = (status: number, extra: Partial<Extract<Failure, { kind: 'http' }>>): string =>
      describeFailure(
        { ...(http(status, { error: { code: 'x' } }) as Extract<Failure, { kind: 'http' }>), ...extra },
        azure,
      ).message;
    assert.equal(msg(503, {}), `${at} failed with 503 x.`);
    assert.equal(msg(503, { attempts: 1 }), `${at} failed with 503 x.`);
    assert.equal(msg(503, { attempts: 4 }), `${at} failed with 503 x after 3 retries.`);
    assert.equal(
      msg(503, { attempts: 1, retryRefused: true }),
      `${at} failed with 503 x; the service said not to retry.`,
    );
    assert.equal(msg(429, { attempts: 1 }), `${at} is throttling requests (429 x).`);
    assert.equal(msg(429, { attempts: 2 }), `${at} is still throttling requests (429 x) after 1 retry.`);
    assert.equal(
      msg(429, { attempts: 3, retryRefused: true }),
      `${at} is still throttling requests (429 x) after 2 retries; the service then said not to retry.`,
    );
  });

  it('does not attach the SDK error (it quotes the remote body) as the cause', () => {
    const err = describeFailure(
      http(401, { error: { message: 'Incorrect API key provided: sk-123' } }),
      compat,
    );
    assert.equal(err.cause, undefined);
  });

  it('formats waits', () => {
    assert.deepEqual(
      [formatWait(30), formatWait(999.6), formatWait(1000), formatWait(1540), formatWait(60_000)],
      ['30 ms', '1000 ms', '1 s', '1.5 s', '60 s'],
    );
  });
});

describe('chat params and reply mapping', () => {
  it('structured=false drops only response_format', () => {
    const a = chatParams(chatRequest({ temperature: 0 }), 'm', true);
    const b = chatParams(chatRequest({ temperature: 0 }), 'm', false);
    assert.equal(a.temperature, 0, 'temperature 0 is sent when set');
    const { response_format, ...rest } = a;
    assert.ok(response_format);
    assert.deepEqual(b, rest);
  });

  it('maps a minimal completion, defaulting missing usage to 0', () => {
    const reply = toModelReply(
      { choices: [{ message: { content: 'hi' }, finish_reason: 'stop' }] },
      azure,
      new RecordingLogger(),
    );
    assert.deepEqual(reply, {
      id: '',
      model: 'gpt-4o',
      content: 'hi',
      finishReason: 'stop',
      usage: { promptTokens: 0, completionTokens: 0 },
    });
  });

  it('rejects an answer that is not a chat completion', () => {
    assert.throws(
      () => toModelReply('<html>proxy login</html>', compat, new RecordingLogger()),
      (e: unknown) =>
        e instanceof ModelError &&
        e.message ===
          'The OpenAI-compatible endpoint at llm.example.com answered with something that is not a chat completion (no choices).',
    );
  });

  it('does not trust a strange finish_reason', () => {
    const reply = toModelReply(
      { choices: [{ message: { content: 'x' }, finish_reason: 'stop ##vso[x]' }] },
      azure,
      new RecordingLogger(),
    );
    assert.equal(reply.finishReason, 'unknown');
  });
});

describe('lazy loading', () => {
  it('importing the model clients does not load the openai package', () => {
    const out = path.resolve(__dirname, '../../tasks/CodeSynthesis/src/adapters/model');
    const script = `require(${JSON.stringify(out + '/azure-openai-client.js')}); require(${JSON.stringify(out + '/openai-compatible-client.js')});
      process.stdout.write(String(Object.keys(require.cache).filter((k) => /node_modules[\\\\/]openai[\\\\/]/.test(k)).length));`;
    assert.equal(execFileSync(process.execPath, ['-e', script]).toString(), '0');
  });
});
