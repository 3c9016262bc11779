/**
 * The SARIF log is valid against the official SARIF 2.1.0 schema, with zero findings and with many,
 * and carries what the Scans tab and Microsoft Security DevOps read: ruleId, level, message, a relative
 * artifact URI and startLine, the tool driver with the rules that ran.
 */
import assert from 'node:assert/strict';
import { buildSarif, relativeUri } from '../../tasks/CodeSynthesis/src/core/sarif';
import { sarifErrors } from '../support/sarif-schema';
import { fakeSecrets } from '../support/fake-secrets';
import { scanAll, SEED_FLASK_APP } from '../support/scan';

const TOOL = {
  name: 'CodeSynthesis',
  version: '1.0.0',
  informationUri: 'https://example.org/code-synthesis',
};

interface SarifRun {
  tool: { driver: { name: string; version: string; informationUri: string; rules: { id: string }[] } };
  results: {
    ruleId: string;
    ruleIndex: number;
    level: string;
    message: { text: string };
    locations: {
      physicalLocation: {
        artifactLocation: { uri: string; uriBaseId: string };
        region: { startLine: number };
      };
    }[];
  }[];
  originalUriBaseIds: Record<string, { uri: string }>;
}

describe('SARIF log', () => {
  it('is schema-valid with zero findings and lists the rules that ran', async () => {
    const log = buildSarif({
      report: await scanAll([{ path: 'a.py', content: 'print(1)\n' }]),
      tool: TOOL,
      outputDirectory: '/agent/_work/1/s',
    });
    assert.equal(sarifErrors(log), '');
    const run = (log.runs as SarifRun[])[0]!;
    assert.deepEqual(run.results, []);
    assert.equal(run.tool.driver.name, 'CodeSynthesis');
    assert.equal(run.tool.driver.informationUri, TOOL.informationUri);
    assert.ok(run.tool.driver.rules.length > 20);
    assert.equal(run.originalUriBaseIds['OUTPUTROOT']!.uri, 'file:///agent/_work/1/s/');
  });

  it('is schema-valid with findings, one result per finding, and holds no secret', async () => {
    const S = fakeSecrets(11);
    const report = await scanAll([
      { path: 'weather/app.py', content: SEED_FLASK_APP },
      {
        path: 'weather/my config/ñ #1.py',
        content: `token = "${S.githubToken}"\nrequests.get(u, verify=False)\n`,
      },
    ]);
    const log = buildSarif({ report, tool: TOOL, outputDirectory: 'C:\\agent\\_work\\1\\s' });
    assert.equal(sarifErrors(log), '');
    const run = (log.runs as SarifRun[])[0]!;
    assert.deepEqual(
      run.results.map((r) => [
        r.ruleId,
        r.level,
        r.locations[0]!.physicalLocation.artifactLocation.uri,
        r.locations[0]!.physicalLocation.region.startLine,
      ]),
      [
        ['placeholder/credential', 'error', 'weather/app.py', 6],
        ['secretlint/github', 'error', 'weather/my%20config/%C3%B1%20%231.py', 1],
        ['policy/tls-verification-off', 'warning', 'weather/my%20config/%C3%B1%20%231.py', 2],
      ],
    );
    for (const r of run.results) assert.equal(run.tool.driver.rules[r.ruleIndex]!.id, r.ruleId);
    assert.equal(run.originalUriBaseIds['OUTPUTROOT']!.uri, 'file:///C:/agent/_work/1/s/');
    assert.ok(!JSON.stringify(log).includes(S.githubToken.slice(4)));
  });

  it('the validator rejects a broken log (the test can fail)', () => {
    assert.notEqual(sarifErrors({ version: '2.1.0', runs: [{ tool: { driver: {} } }] }), '');
    assert.notEqual(
      sarifErrors({
        version: '2.1.0',
        runs: [{ tool: { driver: { name: 'x', informationUri: 'not a uri' } } }],
      }),
      '',
    );
  });

  it('encodes each path segment as a URI reference', () => {
    assert.equal(relativeUri('a b/c#d/e%f.py'), 'a%20b/c%23d/e%25f.py');
  });
});
