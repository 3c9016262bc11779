/**
 * L0: how the task reads each service connection scheme, under task-lib's MockTestRunner with the
 * agent's ENDPOINT_* conventions. Every case fails before any network call: the endpoint is a closed
 * local port and the vault name does not resolve, so a case that got as far as the network would fail
 * with a connection message instead of the one asserted.
 */
import assert from 'node:assert/strict';
import type { MockTestRunner } from 'azure-pipelines-task-lib/mock-test';
import { makeAppCertificate } from '../fake-servers/entra-id';
import { snapshotTree } from '../support/tree-snapshot';
import { useWorkDir } from '../support/work-dir';
import type { L0Spec } from './mock-run';
import { runL0 } from './run-l0';

const TENANT = '11111111-2222-3333-4444-555555555555';
const CLIENT = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const CONN = 'c0ffee00-1111-4222-8333-444455556666';

type Endpoint = NonNullable<L0Spec['endpoints']>[string];

describe('L0: service connection schemes that fail before any network call', function () {
  this.timeout(30000);
  const dir = useWorkDir('cs-l0-schemes', { 'keep.txt': 'existing' });

  const spec = (
    endpoint: Endpoint | undefined,
    inputs: Record<string, string> = {},
    variables: Record<string, string> = {},
  ): L0Spec => ({
    inputs: {
      provider: 'azureOpenAI',
      intent: 'service:\n  name: svc\n  language: python\n  framework: flask\n',
      outputDirectory: dir.out,
      azureSubscription: CONN,
      keyVaultName: 'kv-l0-nowhere',
      endpoint: 'https://127.0.0.1:9/',
      deployment: 'gpt-4o',
      timeoutSeconds: '5',
      ...inputs,
    },
    variables: { 'Agent.TempDirectory': dir.work, 'Build.SourcesDirectory': dir.out, ...variables },
    ...(endpoint ? { endpoints: { [CONN]: endpoint } } : {}),
  });
  const sp = (auth: Record<string, string>): Endpoint => ({
    scheme: 'ServicePrincipal',
    auth: { tenantid: TENANT, serviceprincipalid: CLIENT, ...auth },
    data: { environment: 'AzureCloud' },
  });

  const cases: Array<{
    name: string;
    spec: () => L0Spec;
    says: RegExp[];
    also?: (runner: MockTestRunner, spec: L0Spec) => void;
  }> = [
    {
      name: "an unsupported scheme ('UsernamePassword') is named with the supported ones",
      spec: () => spec({ scheme: 'UsernamePassword', auth: { username: 'me', password: 'pw' } }),
      says: [
        new RegExp(
          `Service connection '${CONN}' uses the authorization scheme 'UsernamePassword', which this task does not support`,
        ),
        /one of: ServicePrincipal, WorkloadIdentityFederation, ManagedServiceIdentity/,
      ],
    },
    {
      name: 'ServicePrincipal without serviceprincipalkey',
      spec: () => spec(sp({ authenticationType: 'spnKey' })),
      says: [
        new RegExp(
          `Service connection '${CONN}' \\(ServicePrincipal\\) has no client secret \\('serviceprincipalkey'\\)`,
        ),
        /Edit the service connection/,
      ],
    },
    {
      name: 'ServicePrincipal without tenantid',
      spec: () =>
        spec(sp({ tenantid: '', serviceprincipalkey: 'sp-secret-l0', authenticationType: 'spnKey' })),
      says: [/has no tenant ID \('tenantid'\)/],
    },
    {
      name: 'spnCertificate with a PEM that lacks the private key',
      spec: () =>
        spec(
          sp({
            authenticationType: 'spnCertificate',
            servicePrincipalCertificate: makeAppCertificate().certificatePem,
          }),
        ),
      says: [
        new RegExp(
          `The certificate of service connection '${CONN}' is not a PEM with both the certificate and its private key`,
        ),
        /-----BEGIN PRIVATE KEY-----/,
      ],
      // task-lib's setSecret refuses values with line breaks: the PEM is masked line by line.
      also: (runner, s) => {
        const pem = s.endpoints![CONN]!.auth!.servicePrincipalCertificate!;
        const body = pem.split(/\r?\n/).filter((l) => l.length >= 8 && !l.startsWith('-----'));
        assert.ok(body.length > 5);
        for (const line of body)
          assert.ok(runner.stdout.includes(`##vso[task.setsecret]${line}\n`), `not masked: ${line}`);
        assert.ok(!runner.stdout.includes('##vso[task.setsecret]-----BEGIN'), 'PEM armor was masked');
      },
    },
    {
      name: 'WorkloadIdentityFederation without System.PlanId and System.JobId',
      spec: () =>
        spec(
          {
            scheme: 'WorkloadIdentityFederation',
            auth: { tenantid: TENANT, serviceprincipalid: CLIENT },
            data: { environment: 'AzureCloud' },
          },
          {},
          {
            'System.CollectionUri': 'https://dev.azure.com/contoso/',
            'System.TeamProjectId': 'proj-guid',
            'System.TeamProject': 'web',
            'System.HostType': 'build',
            'System.AccessToken': 'job-access-token-l0',
          },
        ),
      says: [/needs the pipeline variables System\.PlanId, System\.JobId, which are not set/],
    },
    {
      name: 'authMode entraId with provider openAICompatible (an input error)',
      spec: () =>
        spec(sp({ serviceprincipalkey: 'sp-secret-l0' }), {
          provider: 'openAICompatible',
          authMode: 'entraId',
          endpoint: 'https://127.0.0.1:9/v1',
        }),
      says: [
        /Input 'authMode': 'entraId' works only with provider 'azureOpenAI'/,
        /Use authMode 'apiKey' or 'keyVault'/,
      ],
    },
    {
      name: 'a service connection the pipeline cannot see',
      spec: () => spec(undefined),
      says: [
        new RegExp(`Service connection '${CONN}' was not found or is not authorized for this pipeline`),
        /Security/,
      ],
    },
    {
      name: 'an Azure Stack connection without its environment endpoints',
      spec: () =>
        spec({ ...sp({ serviceprincipalkey: 'sp-secret-l0' }), data: { environment: 'AzureStack' } }),
      says: [
        /'AzureStack' environment, and its endpoint data lacks environmentAuthorityUrl and AzureKeyVaultDnsSuffix/,
      ],
    },
  ];

  for (const c of cases) {
    it(`${c.name}: fails with a specific error and leaves the output directory unchanged`, async () => {
      const s = c.spec();
      const before = snapshotTree(dir.out);
      const runner = await runL0(s);
      assert.equal(runner.succeeded, false, runner.stdout);
      assert.equal(runner.errorIssues.length, 1, runner.errorIssues.join(' | '));
      const issue = runner.errorIssues[0]!;
      for (const re of c.says) assert.match(issue, re, runner.stdout);
      assert.deepEqual(snapshotTree(dir.out), before);
      c.also?.(runner, s);
      for (const secret of ['sp-secret-l0', 'job-access-token-l0']) {
        const printed = runner.stdout
          .split('\n')
          .filter((l) => !l.startsWith('##vso[task.setsecret]'))
          .find((l) => l.includes(secret));
        assert.equal(printed, undefined, `a secret was printed: ${printed}`);
      }
    });
  }
});
