import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ArchiveModelClient } from '../../tasks/CodeSynthesis/src/adapters/model/archive-model-client';
import { ArchiveError, CancelledError } from '../../tasks/CodeSynthesis/src/core/errors';
import { parseIntent } from '../../tasks/CodeSynthesis/src/core/intent';
import { checkPaths } from '../../tasks/CodeSynthesis/src/core/paths';
import type { ModelRequest } from '../../tasks/CodeSynthesis/src/core/ports';
import { parseReply } from '../../tasks/CodeSynthesis/src/core/reply';
import { MiB, zip } from '../support/archives';

const LIMITS = { maxFiles: 20, maxTotalBytes: 5 * MiB, maxRatio: 100 };
const REQUEST: ModelRequest = {
  messages: [
    { role: 'system', content: 'sys' },
    { role: 'user', content: 'user' },
  ],
  responseSchema: { name: 'files', schema: {} },
  settings: {},
  intent: parseIntent('Unpack the generated service.'),
};
const live = (): AbortSignal => new AbortController().signal;

describe('ArchiveModelClient', () => {
  let dir: string;
  let file: string;
  let bytes: Buffer;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'archive-client-'));
    file = path.join(dir, 'generated.zip');
    bytes = zip([
      { name: 'svc/app.py', data: 'print("hi")\n' },
      { name: 'svc\\README.md', data: '# svc\n' },
    ]);
    fs.writeFileSync(file, bytes);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('describes itself as provider archive, with the file, format and SHA-256 of its bytes', async () => {
    const client = await ArchiveModelClient.open(file, LIMITS, live());
    assert.deepEqual(client.info, {
      provider: 'archive',
      deployment: 'generated.zip',
      archive: {
        file,
        format: 'zip',
        sha256: createHash('sha256').update(bytes).digest('hex'),
        bytes: bytes.length,
      },
    });
  });

  it('answers with the files as a structured reply the rest of the flow parses, using no tokens', async () => {
    const client = await ArchiveModelClient.open(file, LIMITS, live());
    const reply = await client.complete(REQUEST, live());
    assert.equal(reply.id, `archive-${client.info.archive!.sha256.slice(0, 12)}`);
    assert.equal(reply.model, 'archive');
    assert.equal(reply.finishReason, 'stop');
    assert.deepEqual(reply.usage, { promptTokens: 0, completionTokens: 0 });
    assert.equal(reply.request, undefined, 'nothing was sent anywhere');
    const parsed = parseReply(reply);
    assert.equal(parsed.format, 'json');
    assert.match(
      parsed.summary!,
      /^Unpacked 2 files from a zip archive of \d+ bytes \(SHA-256 [0-9a-f]{64}\)\.$/,
    );
    // The names as stored; checkPaths applies the same rules as to a model's paths.
    assert.deepEqual(
      checkPaths(parsed.files, { deniedPaths: [], maxFiles: 20, maxTotalBytes: MiB }).map((f) => f.path),
      ['svc/app.py', 'svc/README.md'],
    );
  });

  it('refuses a hostile archive when opened, before any request', async () => {
    fs.writeFileSync(file, zip([{ name: '../../etc/cron.d/x', data: 'x' }]));
    await assert.rejects(ArchiveModelClient.open(file, LIMITS, live()), ArchiveError);
  });

  it('answers nothing once cancelled', async () => {
    const client = await ArchiveModelClient.open(file, LIMITS, live());
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(client.complete(REQUEST, controller.signal), CancelledError);
  });
});
