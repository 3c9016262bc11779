import assert from 'node:assert/strict';
import { parseIntent } from '../../tasks/CodeSynthesis/src/core/intent';
import { buildManifest, sha256 } from '../../tasks/CodeSynthesis/src/core/manifest';
import { buildPrompt, promptText, REPLY_SCHEMA } from '../../tasks/CodeSynthesis/src/core/prompt';
import { escapeMarkdown, renderSummary } from '../../tasks/CodeSynthesis/src/core/summary';
import { systemOf, userOf, WEATHER_CARD } from '../fakes/ports';

const limits = { maxFiles: 20, maxTotalBytes: 10240, deniedPaths: ['secrets/**'] };

describe('prompt', () => {
  it('is deterministic and carries the card, the limits and the instructions', () => {
    const a = buildPrompt(parseIntent(WEATHER_CARD), limits, {}, 'Use black.');
    const b = buildPrompt(parseIntent(WEATHER_CARD), limits, {}, 'Use black.');
    assert.equal(promptText(a), promptText(b));
    assert.match(userOf(a), /GET \/weather/);
    assert.match(systemOf(a), /At most 20 files and 10 KB/);
    assert.match(systemOf(a), /secrets\/\*\*/);
    assert.match(systemOf(a), /Organisation conventions[\s\S]*Use black\./);
    assert.match(systemOf(a), /path=/);
    assert.notEqual(promptText(a), promptText(buildPrompt(parseIntent(WEATHER_CARD), limits, {})));
  });

  it('gives the model each endpoint as the card wrote it, with its parameters and their types', () => {
    for (const path of ['/weather/<city>', '/weather/{city}', '/weather/:city']) {
      const card = `service:\n  name: weather-api\n  language: python\n  framework: flask\n  endpoint: ${path}\n`;
      const user = userOf(buildPrompt(parseIntent(card), limits, {}));
      assert.ok(user.includes(`  - GET ${path} (path parameters: city: text, one path segment)\n`), user);
      assert.match(user, /Path parameters are written as the card wrote them .*framework's own syntax/);
      assert.ok(user.endsWith(`The card as written:\n${card.trim()}`));
    }
    const user = userOf(
      buildPrompt(
        parseIntent(
          'service:\n  name: orders\n  language: node\n  framework: express\n  endpoints:\n' +
            '    - { method: GET, path: "/orders/<int:id>/<path:rest>", description: One order }\n',
        ),
        limits,
        {},
      ),
    );
    assert.ok(
      user.includes(
        "  - GET /orders/<int:id>/<path:rest> (path parameters: id: unsigned integer; rest: the rest of the path, '/' included): One order\n",
      ),
      user,
    );
  });

  it('says nothing about path parameters for a card without any', () => {
    assert.doesNotMatch(userOf(buildPrompt(parseIntent(WEATHER_CARD), limits, {})), /parameter/i);
  });

  it('uses a strict schema: every property required, nothing else allowed', () => {
    assert.deepEqual(REPLY_SCHEMA.schema.required, Object.keys(REPLY_SCHEMA.schema.properties));
    const item = REPLY_SCHEMA.schema.properties.files.items;
    assert.deepEqual(item.required, Object.keys(item.properties));
    assert.equal(item.additionalProperties, false);
  });
});

describe('manifest', () => {
  it('records intent, prompt, model, usage and per-file hashes, and no secret', () => {
    const intent = parseIntent(WEATHER_CARD);
    const m = buildManifest({
      version: '1.0.0',
      now: new Date('2026-01-01T00:00:00Z'),
      intent,
      intentSource: { kind: 'file', file: 'intents/weather.yaml' },
      promptText: 'P',
      model: {
        provider: 'azureOpenAI',
        endpointHost: 'r.openai.azure.com',
        deployment: 'gpt',
        apiVersion: '2024-10-21',
      },
      reply: {
        id: 'chatcmpl-9',
        model: 'gpt-4o',
        content: 'c',
        finishReason: 'stop',
        usage: { promptTokens: 5, completionTokens: 6 },
      },
      conflictPolicy: 'overwrite',
      written: [
        { path: 'b.txt', content: 'é' },
        { path: 'a.txt', content: 'x' },
      ],
      overwritten: ['b.txt'],
      unchanged: [],
      skipped: ['c.txt'],
    });
    assert.equal(m.intent.sha256, sha256(intent.text));
    assert.equal(m.prompt?.sha256, sha256('P'));
    assert.deepEqual(m.files, [
      { path: 'a.txt', sha256: sha256('x'), bytes: 1, action: 'created' },
      { path: 'b.txt', sha256: sha256('é'), bytes: 2, action: 'overwritten' },
    ]);
    assert.equal(m.model.replyId, 'chatcmpl-9');
    assert.equal(m.model.endpointHost, 'r.openai.azure.com');
    assert.deepEqual(m.usage, { promptTokens: 5, completionTokens: 6 });
    assert.deepEqual(m.skipped, ['c.txt']);
    assert.equal(m.intent.serviceName, 'weather');
    assert.equal(sha256('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('summary', () => {
  it('escapes everything that came from the model', () => {
    assert.equal(escapeMarkdown('a|b<script>[x](y)'), 'a\\|b\\<script\\>\\[x\\]\\(y\\)');
    const md = renderSummary({
      manifest: {
        schemaVersion: 1,
        tool: { name: 'code-synthesis', version: '1' },
        generatedAt: '',
        intent: { sha256: '', kind: 'text', source: 'inline' },
        prompt: { sha256: '' },
        model: { provider: 'offline', model: 'm', replyId: 'r', finishReason: 'stop' },
        usage: { promptTokens: 1, completionTokens: 2 },
        calls: [],
        findings: { error: 0, warning: 0, byRule: {} },
        provenanceHeaders: false,
        conflictPolicy: 'fail',
        files: [{ path: 'a|b.md', sha256: '', bytes: 3, action: 'created' }],
        skipped: [],
      },
      manifestPath: '/o/.synthesis/manifest.json',
      outputDirectory: '/o',
      modelSummary: 'Click [here](https://evil.example) or www.evil.example\n<img src=x>\n```\nbreakout',
    });
    assert.match(md, /\| a\\\|b\.md \| 3 \| created \|/);
    // The model's words sit in a code block whose fence is longer than any backtick run in them.
    assert.match(
      md,
      /\n````text\nClick \[here\]\(https:\/\/evil\.example\) or www\.evil\.example\n<img src=x>\n```\nbreakout\n````\n$/,
    );
  });
  it('names the archive, escaped, instead of a model and tokens for the archive provider', () => {
    const md = renderSummary({
      manifest: {
        schemaVersion: 1,
        tool: { name: 'code-synthesis', version: '1' },
        generatedAt: '',
        intent: { sha256: '', kind: 'text', source: 'archive', file: '/a/gen[1].zip' },
        model: {
          provider: 'archive',
          deployment: 'gen[1].zip',
          archive: { file: '/a/gen[1].zip', format: 'zip', sha256: 'ab'.repeat(32), bytes: 321 },
          model: 'archive',
          replyId: 'archive-abababababab',
          finishReason: 'stop',
        },
        usage: { promptTokens: 0, completionTokens: 0 },
        calls: [],
        findings: { error: 0, warning: 0, byRule: {} },
        provenanceHeaders: false,
        conflictPolicy: 'fail',
        files: [{ path: 'svc/app.py', sha256: '', bytes: 3, action: 'created' }],
        skipped: [],
      },
      manifestPath: '/o/.synthesis/manifest.json',
      outputDirectory: '/o',
      modelSummary: 'Unpacked 1 file from a zip archive of 321 bytes.',
    });
    assert.ok(md.includes('**Service:** none given \\(the files come from the archive\\)  \n'), md);
    assert.ok(
      md.includes(
        `**Archive:** /a/gen\\[1\\].zip (zip, 321 bytes, SHA-256 \`${'ab'.repeat(32)}\`); no model was called  \n`,
      ),
      md,
    );
    assert.doesNotMatch(md, /\*\*Tokens:\*\*/);
    assert.match(
      md,
      /\*\*What was unpacked:\*\*\n\n```text\nUnpacked 1 file from a zip archive of 321 bytes\.\n```\n$/,
    );
  });
});
