/**
 * The real azure-devops-node-api client asks the fake Azure DevOps for OIDC tokens over HTTPS,
 * trusting the test CA as the agent's CA setting, directly and through the corporate proxy.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  oidcTokenProvider,
  readJobContext,
  webApiOptions,
  type JobContext,
} from '../../tasks/CodeSynthesis/src/adapters/devops/oidc-token';
import { CredentialError } from '../../tasks/CodeSynthesis/src/core/errors';
import { fakeAzureDevOps, type FakeDevOps } from '../fake-servers/azure-devops';
import { FakeHost } from '../fakes/ports';
import { startFakeAzure, startFakeProxy, type FakeAzure, type FakeProxy } from '../support/fake-azure';

describe('integration: Azure DevOps OIDC token (workload identity federation)', () => {
  let server: FakeAzure;
  let proxy: FakeProxy;
  let devops: FakeDevOps;
  let caFile: string;
  const secrets: string[] = [];
  const context = (collectionUri: string): JobContext => ({
    collectionUri,
    projectId: 'proj-id',
    hostType: 'build',
    planId: 'plan-1',
    jobId: 'job-1',
    accessToken: 'system-access-token',
  });

  before(async () => {
    devops = fakeAzureDevOps({
      org: 'contoso',
      project: 'web',
      connectionName: 'prod-arm',
      accessToken: 'system-access-token',
    });
    server = await startFakeAzure([devops]);
    proxy = await startFakeProxy(server, { username: 'corp', password: 'proxy-pass' });
    caFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cs-ca-')), 'ca.pem');
    fs.writeFileSync(caFile, server.caPem);
  });
  after(async () => {
    await proxy.close();
    await server.close();
  });

  it('gets a fresh token each call, directly with the agent CA', async () => {
    const get = oidcTokenProvider(
      context(`${server.url}/contoso/`),
      'conn-id',
      webApiOptions(undefined, { caFile }),
      (s) => secrets.push(s),
    );
    const first = await get();
    const second = await get();
    assert.notEqual(first, second);
    assert.deepEqual(devops.issued.slice(-2), [first, second]);
    assert.ok(secrets.includes(first) && secrets.includes(second), 'tokens are set secret');
    const post = server.requests.filter((r) => r.method === 'POST').at(-1)!;
    assert.equal(
      post.url,
      '/contoso/proj-id/_apis/distributedtask/hubs/build/plans/plan-1/jobs/job-1/oidctoken?serviceConnectionId=conn-id',
    );
    assert.match(String(post.headers.accept), /api-version=7\.\d/);
    const payload = JSON.parse(Buffer.from(first.split('.')[1]!, 'base64url').toString());
    assert.equal(payload.sub, 'sc://contoso/web/prod-arm');
  });

  it('reaches dev.azure.com by its real name through the authenticating proxy', async () => {
    const before = proxy.tunnels.length;
    const get = oidcTokenProvider(
      context('https://dev.azure.com/contoso/'),
      'conn-id',
      webApiOptions({ url: proxy.url, username: 'corp', password: 'proxy-pass', bypass: [] }, { caFile }),
      () => {},
    );
    assert.ok((await get()).split('.').length === 3);
    assert.ok(proxy.tunnels.slice(before).includes('dev.azure.com:443'), proxy.tunnels.join(','));
  });

  it('fails clearly when Azure DevOps refuses', async () => {
    const get = oidcTokenProvider(
      context(`${server.url}/contoso/`),
      'conn-id',
      webApiOptions(undefined, { caFile }),
      () => {},
    );
    try {
      devops.failWith = 400;
      await assert.rejects(
        get(),
        (e: unknown) =>
          e instanceof CredentialError &&
          /refused an OIDC token for service connection 'conn-id' \(HTTP 400\)/.test(e.message),
      );
      devops.failWith = 404;
      await assert.rejects(
        get(),
        (e: unknown) =>
          e instanceof CredentialError &&
          /returned no OIDC token for service connection 'conn-id'/.test(e.message),
      );
    } finally {
      delete devops.failWith;
    }
  });

  it('names the missing System variables', () => {
    const host = new FakeHost(
      {},
      {},
      { 'System.CollectionUri': 'https://dev.azure.com/contoso/', 'System.TeamProjectId': 'p' },
    );
    assert.throws(
      () => readJobContext(host),
      /System\.HostType, System\.PlanId, System\.JobId, System\.AccessToken/,
    );
    const full = new FakeHost(
      {},
      {},
      {
        'System.CollectionUri': 'u',
        'System.TeamProjectId': 'p',
        'System.HostType': 'build',
        'System.PlanId': 'pl',
        'System.JobId': 'j',
      },
    );
    assert.equal(readJobContext(full, 'vss-token').accessToken, 'vss-token');
    assert.deepEqual(full.registered, ['vss-token']);
  });
});
