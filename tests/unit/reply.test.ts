import assert from 'node:assert/strict';
import { ModelError, ReplyError } from '../../tasks/CodeSynthesis/src/core/errors';
import type { ModelReply } from '../../tasks/CodeSynthesis/src/core/ports';
import { parseReply } from '../../tasks/CodeSynthesis/src/core/reply';

const reply = (content: string, finishReason = 'stop'): ModelReply => ({
  id: 'r',
  model: 'm',
  content,
  finishReason,
  usage: { promptTokens: 1, completionTokens: 2 },
});

describe('reply', () => {
  it('reads structured JSON', () => {
    const parsed = parseReply(
      reply(JSON.stringify({ files: [{ path: 'a/b.py', content: 'x' }], summary: 's' })),
    );
    assert.deepEqual(parsed, { files: [{ path: 'a/b.py', content: 'x' }], summary: 's', format: 'json' });
  });

  it('reads JSON wrapped in a json fence', () => {
    assert.equal(parseReply(reply('```json\n{"files":[{"path":"a","content":""}]}\n```')).files.length, 1);
  });

  it('rejects a truncated reply, naming maxOutputTokens', () => {
    assert.throws(
      () => parseReply(reply('{"files":[', 'length')),
      (e: unknown) =>
        e instanceof ReplyError &&
        /maxOutputTokens/.test(e.describe()) &&
        /Nothing was written/.test(e.describe()),
    );
  });

  it('rejects a content-filtered reply', () => {
    assert.throws(() => parseReply(reply('', 'content_filter')), ModelError);
  });

  it('rejects malformed JSON', () => {
    assert.throws(
      () => parseReply(reply('{"files": [ {"path": "a", ')),
      (e: unknown) => e instanceof ReplyError && /not valid JSON/.test(e.message),
    );
  });

  it('rejects JSON of the wrong shape, listing the problems', () => {
    assert.throws(
      () => parseReply(reply('{"files":[{"path":1,"content":"x"},{"path":"b"}]}')),
      (e: unknown) =>
        e instanceof ReplyError &&
        /files\[0\]\.path/.test(e.message) &&
        /files\[1\]\.content/.test(e.message),
    );
    assert.throws(() => parseReply(reply('{"file":[]}')), /no 'files' array/);
    assert.throws(() => parseReply(reply('{"files":[]}')), /no files/);
  });

  it('reads path-tagged fenced blocks when there is no JSON', () => {
    const text =
      'Here you go:\n```python path=svc/app.py\nprint(1)\n```\n\n````markdown path="svc/README.md"\n```\nnested\n```\n````\n```text\nignored\n```';
    const parsed = parseReply(reply(text));
    assert.equal(parsed.format, 'fences');
    assert.deepEqual(parsed.files, [
      { path: 'svc/app.py', content: 'print(1)\n' },
      { path: 'svc/README.md', content: '```\nnested\n```\n' },
    ]);
  });

  it('rejects an unclosed fenced block', () =>
    assert.throws(() => parseReply(reply('```js path=a.js\nconsole.log(1)\n')), /not closed/));

  it('quotes the path of an unclosed block escaped and cut', () => {
    const hostile = 'a\u202e\u001b[2J' + 'x'.repeat(4_000_000) + '.js';
    const error = (() => {
      try {
        parseReply(reply('```js path=' + hostile + '\nconsole.log(1)\n'));
      } catch (e) {
        return e as ReplyError;
      }
      return assert.fail('expected a ReplyError');
    })();
    assert.ok(error instanceof ReplyError);
    assert.ok(error.describe().length < 500, `bounded (${error.describe().length} characters)`);
    assert.match(error.message, /the fenced block for "a\\u202e\\u001b\[2Jxxx/);
    assert.doesNotMatch(error.describe(), /[\u0000-\u001f\u202a-\u202e]/);
  });

  it('rejects text with neither JSON nor tagged fences', () =>
    assert.throws(() => parseReply(reply('Sorry, I cannot help.')), /neither JSON/));

  it('rejects an empty reply', () => assert.throws(() => parseReply(reply('  ')), /empty/));
});
