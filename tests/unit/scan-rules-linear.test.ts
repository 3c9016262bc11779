/**
 * Every built-in rule runs in linear time: the scan runs on the main thread over text the model
 * wrote, so one pattern that backtracks (the old placeholder rule took 79 s on "key." x 4096) would
 * hang the step beyond the agent's cancel. Each rule meets 64 KB of adversarial text (runs of the
 * characters and prefixes its patterns are made of) within a bound generous enough for a loaded CI
 * machine: a safety bound, not a benchmark.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { builtInRules } from '../../tasks/CodeSynthesis/src/core/scan-stage';

const SIZE = 64 * 1024;
const BOUND_MS = 1000;

/** `unit` repeated to SIZE characters, after `head`. */
const fill = (unit: string, head = ''): string =>
  head + unit.repeat(Math.ceil((SIZE - head.length) / unit.length));

const ADVERSARIAL: Record<string, string> = {
  'key.': fill('key.'),
  key: fill('key'),
  letters: fill('a'),
  blanks: fill(' '),
  'line breaks': fill('\n'),
  'escaped line breaks': fill('\\n'),
  equals: fill('='),
  'base64 run': fill('Aa0+/'),
  'one base64 letter': fill('A'),
  hex: fill('0123456789abcdef'),
  'key=': fill('key='),
  'api_key = "': fill('api_key = "'),
  'api_key: your words': fill('x ', 'api_key: "your '),
  'api_key = your-': fill('-', 'api_key = your'),
  'a value ending _here': fill('a_', 'password = '),
  'quoted name, comma': fill('"api_key", "'),
  '|| and ??': fill('process.env.API_KEY || ?? '),
  '<': fill('<'),
  'x run': fill('x', 'token = "'),
  'AccountKey=': fill('AccountKey='),
  'AccountName, base64': fill('Ab0+', 'AccountName=a;AccountKey='),
  'Cosmos endpoints': fill('.documents.azure.com '),
  'Cosmos endpoint, base64': fill('Ab0+/', 'x.documents.azure.com '),
  'sig=': fill('&sig='),
  '\\u0026sig=': fill('\\u0026sig=A'),
  '8Q~': fill('aaa8Q~'),
  'annotated key signature': fill('JQQJ99'),
  'base32 run': fill('abcdefgh234567'),
  'Kubernetes env names': fill('- name: API_KEY\n  value: '),
  'Kubernetes env name run': fill('a', '- name: '),
  'Dockerfile ENV': fill('ENV API_KEY '),
  'web.config add': fill('<add key="ApiKey" value="'),
  'header name, comma': fill('"api-key", "'),
  AzureKeyCredential: fill('AzureKeyCredential("'),
  StorageSharedKeyCredential: fill('StorageSharedKeyCredential("a", "'),
  'certificate callback': fill('ServerCertificateCustomValidationCallback = ('),
  'certificate callback lambda': fill('ServerCertificateCustomValidationCallback = x => '),
  'hostname verifier': fill('setDefaultHostnameVerifier(('),
  NODE_TLS_REJECT_UNAUTHORIZED: fill('NODE_TLS_REJECT_UNAUTHORIZED '),
  'verify =': fill('verify = '),
  'PEM headers': fill('-----BEGIN PRIVATE KEY-----\n'),
  'PEM with encapsulated headers': fill('Proc-Type: 4,ENCRYPTED\n', '-----BEGIN RSA PRIVATE KEY-----\n'),
  '.env assignment': fill('A', 'A='),
};

describe('scan: every built-in rule runs in linear time', function () {
  this.timeout(120_000);
  for (const rule of builtInRules(1024 * 1024)) {
    it(`${rule.id}: 64 KB of each adversarial input in under ${BOUND_MS} ms`, () => {
      const slow: string[] = [];
      for (const [what, text] of Object.entries(ADVERSARIAL)) {
        for (const path of ['a.py', '.env']) {
          if (rule.appliesTo && !rule.appliesTo(path)) continue;
          const started = performance.now();
          rule.find(text, path);
          const ms = performance.now() - started;
          if (ms > BOUND_MS) slow.push(`${what} (${path}): ${Math.round(ms)} ms`);
        }
      }
      assert.deepEqual(slow, []);
    });
  }

  it('the bound catches a backtracking pattern (the old placeholder name)', () => {
    const old = /(?<![\w$-])[\w$.-]*?(?:key|secret)[\w$.-]*["'\]]?\s*(?::=|=>|=|:)\s*"changeme"/gi;
    const started = performance.now();
    assert.equal(
      [
        ...fill('key.')
          .slice(0, 4 * 1024)
          .matchAll(old),
      ].length,
      0,
    );
    assert.ok(performance.now() - started > BOUND_MS / 4, 'the old pattern is slow on 4 KB already');
  });
});
