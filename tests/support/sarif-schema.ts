/**
 * The SARIF 2.1.0 JSON schema (tests/fixtures, see SOURCES.md) compiled with Ajv's draft 2020-12
 * validator, formats (uri, uri-reference, date-time, uuid) checked.
 */
import fs from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { REPO_ROOT } from './repo';

const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
const validate = ajv.compile(
  JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'tests', 'fixtures', 'sarif-2.1.0.schema.json'), 'utf8')),
);

/** The schema errors of a SARIF log, as text; empty when it is valid. */
export function sarifErrors(log: unknown): string {
  return validate(log) ? '' : ajv.errorsText(validate.errors, { separator: '\n' });
}
