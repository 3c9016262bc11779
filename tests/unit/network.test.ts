/**
 * The agent's proxy and TLS settings as the HTTP stacks see them: the https.Agent given to @azure
 * clients and the undici fetch given to openai, against an HTTPS server and CONNECT proxy on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import https from 'node:https';
import tls from 'node:tls';
import {
  azureClientOptions,
  createFetch,
  describeProxy,
  isBypassed,
  loadNetwork,
  type Network,
} from '../../tasks/CodeSynthesis/src/adapters/net/network';
import { describeNetworkFailure } from '../../tasks/CodeSynthesis/src/adapters/net/network-errors';
import { SynthesisError } from '../../tasks/CodeSynthesis/src/core/errors';
import {
  sendJson,
  startFakeAzure,
  startFakeProxy,
  type FakeAzure,
  type FakeProxy,
} from '../support/fake-azure';
import { testPki } from '../support/test-ca';

const CA_FILE = '/agent/ca.pem';
const files: Record<string, string> = {};
const readFile = async (p: string): Promise<string> => {
  const text = files[p];
  if (text === undefined) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
  return text;
};

function get(url: string, agent: https.Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { agent }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('network', () => {
  let server: FakeAzure;
  let proxy: FakeProxy;
  let authProxy: FakeProxy;
  let withCa: Network;

  before(async () => {
    files[CA_FILE] = testPki().caPem;
    server = await startFakeAzure([
      { host: /.*/, handle: (req, res) => sendJson(res, 200, { host: req.headers.host, path: req.url }) },
    ]);
    proxy = await startFakeProxy(server);
    authProxy = await startFakeProxy(server, { username: 'builder', password: 'p@ss' });
  });

  after(async () => {
    await authProxy.close();
    await proxy.close();
    await server.close();
  });

  beforeEach(async () => {
    proxy.tunnels.length = 0;
    authProxy.tunnels.length = 0;
    authProxy.authorizations.length = 0;
    withCa = await loadNetwork(
      { url: proxy.url, bypass: ['^https://127\\.0\\.0\\.1[:/]'] },
      { caFile: CA_FILE },
      readFile,
      () => undefined,
    );
  });

  describe('loadNetwork', () => {
    it('reads the CA, client certificate and key files and masks the secrets first', async () => {
      files['/agent/cert.pem'] = 'CERT';
      files['/agent/key.pem'] = 'KEY';
      const masked: string[] = [];
      const net = await loadNetwork(
        { url: 'http://proxy.corp:8080', username: 'u', password: 'proxy-secret', bypass: [] },
        { caFile: CA_FILE, certFile: '/agent/cert.pem', keyFile: '/agent/key.pem', passphrase: 'pfx-pass' },
        readFile,
        (s) => masked.push(s),
      );
      assert.deepEqual(net.certs, { ca: testPki().caPem, cert: 'CERT', key: 'KEY', passphrase: 'pfx-pass' });
      assert.deepEqual(masked, ['proxy-secret', 'pfx-pass', 'KEY']);
    });

    it('names the agent setting whose file cannot be read', async () => {
      await assert.rejects(
        loadNetwork(undefined, { caFile: '/nope.pem' }, readFile, () => undefined),
        (e: unknown) =>
          e instanceof SynthesisError &&
          e.subject === 'Agent.CAInfo' &&
          e.message === "The agent's Agent.CAInfo file '/nope.pem' cannot be read (ENOENT).",
      );
    });

    it('rejects a proxy URL that is not http(s), without echoing it', async () => {
      await assert.rejects(
        loadNetwork({ url: 'socks5://u:secret@proxy', bypass: [] }, undefined, readFile, () => undefined),
        (e: unknown) => {
          assert.ok(e instanceof SynthesisError);
          assert.equal(e.subject, 'Agent.ProxyUrl');
          assert.ok(!e.describe().includes('secret'));
          return true;
        },
      );
    });

    it('returns no settings when the agent has none', async () => {
      assert.deepEqual(await loadNetwork(undefined, undefined, readFile, () => undefined), {});
    });
  });

  describe('isBypassed and describeProxy', () => {
    it('applies the bypass list as task-lib does: case-insensitive regexes on the URL, bad patterns ignored', () => {
      const p = { url: 'http://proxy:8080', bypass: ['\\.corp\\.example', '([bad'] };
      assert.equal(isBypassed(p, 'https://vault.CORP.example/'), true);
      assert.equal(isBypassed(p, 'https://login.microsoftonline.com/'), false);
    });

    it('describes a proxy without its credentials', () => {
      assert.equal(
        describeProxy({ url: 'http://user:pw@proxy.corp:3128/', bypass: [] }),
        'http://proxy.corp:3128',
      );
    });
  });

  describe('azureClientOptions (https.Agent for @azure clients)', () => {
    it('tunnels through the proxy and trusts the agent CA', async () => {
      const res = await get('https://management.azure.com/subscriptions', azureClientOptions(withCa).agent);
      assert.equal(res.status, 200);
      assert.deepEqual(proxy.tunnels, ['management.azure.com:443']);
    });

    it('goes direct for URLs on the bypass list', async () => {
      const res = await get(`${server.url}/direct`, azureClientOptions(withCa).agent);
      assert.equal(res.status, 200);
      assert.deepEqual(proxy.tunnels, []);
    });

    it('keeps trusting the public roots when an agent CA is added', () => {
      const ca = azureClientOptions(withCa).agent.options.ca as string[];
      assert.equal(ca.length, tls.rootCertificates.length + 1);
      assert.equal(ca.at(-1), testPki().caPem);
    });

    it('does not trust the fake without the agent CA', async () => {
      const net = await loadNetwork({ url: proxy.url, bypass: [] }, undefined, readFile, () => undefined);
      await assert.rejects(get('https://management.azure.com/', azureClientOptions(net).agent), {
        code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      });
    });

    it('sends the proxy credentials as Basic auth', async () => {
      const net = await loadNetwork(
        { url: authProxy.url, username: 'builder', password: 'p@ss', bypass: [] },
        { caFile: CA_FILE },
        readFile,
        () => undefined,
      );
      assert.equal((await get('https://management.azure.com/', azureClientOptions(net).agent)).status, 200);
      assert.deepEqual(authProxy.authorizations, ['Basic ' + Buffer.from('builder:p@ss').toString('base64')]);
    });

    it('fails with EPROXYAUTH when the proxy answers 407', async () => {
      const net = await loadNetwork(
        { url: authProxy.url, bypass: [] },
        { caFile: CA_FILE },
        readFile,
        () => undefined,
      );
      await assert.rejects(get('https://management.azure.com/', azureClientOptions(net).agent), {
        code: 'EPROXYAUTH',
        message: `The proxy ${authProxy.url} requires authentication (HTTP 407) for management.azure.com:443.`,
      });
    });
  });

  describe('createFetch (undici fetch for the openai client)', () => {
    it('tunnels through the proxy and trusts the agent CA, ignoring HTTPS_PROXY', async () => {
      const saved = process.env.HTTPS_PROXY;
      process.env.HTTPS_PROXY = 'http://127.0.0.1:9';
      const { fetch, dispatcher } = createFetch(withCa);
      try {
        const res = await fetch('https://contoso.openai.azure.com/openai/models');
        assert.equal(res.status, 200);
        assert.deepEqual(await res.json(), { host: 'contoso.openai.azure.com', path: '/openai/models' });
        assert.deepEqual(proxy.tunnels, ['contoso.openai.azure.com:443']);
      } finally {
        if (saved === undefined) delete process.env.HTTPS_PROXY;
        else process.env.HTTPS_PROXY = saved;
        await dispatcher.close();
      }
    });

    it('goes direct for origins on the bypass list', async () => {
      const { fetch, dispatcher } = createFetch(withCa);
      try {
        assert.equal((await fetch(`${server.url}/direct`)).status, 200);
        assert.deepEqual(proxy.tunnels, []);
      } finally {
        await dispatcher.close();
      }
    });

    it('sends the proxy credentials, and fails without them', async () => {
      const good = createFetch(
        await loadNetwork(
          { url: authProxy.url, username: 'builder', password: 'p@ss', bypass: [] },
          { caFile: CA_FILE },
          readFile,
          () => undefined,
        ),
      );
      const bad = createFetch(
        await loadNetwork({ url: authProxy.url, bypass: [] }, { caFile: CA_FILE }, readFile, () => undefined),
      );
      try {
        assert.equal((await good.fetch('https://contoso.openai.azure.com/')).status, 200);
        assert.ok(
          authProxy.authorizations.includes('Basic ' + Buffer.from('builder:p@ss').toString('base64')),
        );
        await assert.rejects(bad.fetch('https://contoso.openai.azure.com/'));
      } finally {
        await good.dispatcher.close();
        await bad.dispatcher.close();
      }
    });

    it('connects directly when there is no proxy', async () => {
      const { fetch, dispatcher } = createFetch({ certs: { ca: testPki().caPem } });
      try {
        assert.equal((await fetch(`${server.url}/x`)).status, 200);
        assert.deepEqual(proxy.tunnels, []);
      } finally {
        await dispatcher.destroy();
      }
    });
  });

  describe('the agent skipping certificate validation (--sslskipcertvalidation)', () => {
    it('lets both stacks reach a server no trusted CA signed, directly and through the proxy', async () => {
      const skip = await loadNetwork(
        { url: proxy.url, bypass: ['^https://127\\.0\\.0\\.1[:/]'] },
        { skipValidation: true },
        readFile,
        () => undefined,
      );
      assert.equal((await get('https://management.azure.com/', azureClientOptions(skip).agent)).status, 200);
      assert.equal((await get(`${server.url}/direct`, azureClientOptions(skip).agent)).status, 200);
      const { fetch, dispatcher } = createFetch(skip);
      try {
        assert.equal((await fetch('https://management.azure.com/x')).status, 200);
        assert.equal((await fetch(`${server.url}/y`)).status, 200);
      } finally {
        await dispatcher.destroy();
      }
    });

    it('is off unless the agent says so', async () => {
      const strict = await loadNetwork(undefined, {}, readFile, () => undefined);
      const { fetch, dispatcher } = createFetch(strict);
      try {
        await assert.rejects(fetch(`${server.url}/z`));
      } finally {
        await dispatcher.destroy();
      }
    });
  });

  describe('describeNetworkFailure', () => {
    it('explains DNS, TLS trust and connection failures found anywhere in the cause chain', () => {
      const dns = describeNetworkFailure(
        Object.assign(new Error('getaddrinfo ENOTFOUND x'), { code: 'ENOTFOUND' }),
        'Service X',
      );
      assert.equal(dns?.message, 'Cannot reach Service X: the host name was not found (ENOTFOUND).');
      const tlsFail = describeNetworkFailure(
        new Error('wrapped', {
          cause: Object.assign(new Error('self-signed'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }),
        }),
        'Service X',
      );
      assert.equal(tlsFail?.subject, 'Agent.CAInfo');
      assert.equal(
        describeNetworkFailure(new Error('connect ECONNREFUSED 10.0.0.1:443'), 'Service X')?.message,
        'Cannot reach Service X: the connection failed (ECONNREFUSED).',
      );
      assert.equal(describeNetworkFailure(new Error('Bad Request'), 'Service X'), undefined);
    });
  });
});
