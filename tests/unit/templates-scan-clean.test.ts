/**
 * Every offline template's output scans clean with the whole scanner (secretlint, the Azure pack,
 * placeholders, policy): a run of the offline provider never fails on its own files.
 */
import assert from 'node:assert/strict';
import { parseIntent } from '../../tasks/CodeSynthesis/src/core/intent';
import { addProvenanceHeaders } from '../../tasks/CodeSynthesis/src/core/provenance';
import { renderService, SUPPORTED_TEMPLATES } from '../../tasks/CodeSynthesis/src/core/templates';
import { scanAll } from '../support/scan';

function card(language: string, framework: string) {
  const intent = parseIntent(`service:
  name: orders
  language: ${language}
  framework: ${framework}
  description: "Orders: create, list and cancel; api_key and secrets come from the environment"
  port: 3000
  endpoints:
    - GET /orders
    - { method: POST, path: /orders, description: Create an order }
    - DELETE /orders/{id}
  env:
    - { name: LOG_LEVEL, default: info }
    - { name: API_KEY, secret: true, description: Key of the payment service }
    - { name: DB_PASSWORD, secret: true }
    - { name: STORAGE_CONNECTION_STRING, secret: true }
`);
  assert.equal(intent.kind, 'card');
  return intent.card;
}

describe('offline templates scan clean', () => {
  for (const { language, framework } of SUPPORTED_TEMPLATES) {
    it(`${language}/${framework}: zero findings, with and without provenance headers`, async () => {
      const files = renderService(card(language, framework));
      assert.ok(files.length > 5);
      assert.deepEqual((await scanAll(files)).findings, []);
      const headed = addProvenanceHeaders(files, {
        version: '1.0.0',
        intentSha256: 'a'.repeat(64),
        promptFile: '.synthesis/prompts/offline-0123456789ab.json',
        model: 'builtin-templates',
        deployment: 'builtin-templates',
        buildId: '4242',
      });
      assert.deepEqual((await scanAll(headed)).findings, []);
    });
  }
});
