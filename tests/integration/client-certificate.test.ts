/**
 * The agent's client certificate (Agent.ClientCert / Agent.ClientCertKey) is presented by both HTTP
 * stacks the task uses: the https.Agent given to every @azure SDK client, and the undici fetch given to
 * the openai client; directly and through the corporate proxy. The server requires a certificate
 * signed by the test CA, as a TLS-inspecting corporate gateway may.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import {
  azureClientOptions,
  createFetch,
  loadNetwork,
  type Network,
} from '../../tasks/CodeSynthesis/src/adapters/net/network';
import { startFakeProxy, type FakeProxy } from '../support/fake-azure';
import { testClientCertificate, testPki } from '../support/test-ca';

describe('integration: the agent client certificate', () => {
  let server: https.Server;
  let url: string;
  let proxy: FakeProxy;
  let dir: string;
  const secrets: string[] = [];

  before(async () => {
    const pki = testPki();
    server = https.createServer(
      { key: pki.keyPem, cert: pki.certPem, ca: pki.caPem, requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate();
        res.end(`hello ${peer.subject?.CN}`);
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    url = `https://127.0.0.1:${port}/`;
    proxy = await startFakeProxy({ port });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-client-cert-'));
    const client = testClientCertificate('build-agent-01');
    fs.writeFileSync(path.join(dir, 'ca.pem'), pki.caPem);
    fs.writeFileSync(path.join(dir, 'client.pem'), client.certPem);
    fs.writeFileSync(path.join(dir, 'client-key.pem'), client.keyPem);
  });
  after(async () => {
    await proxy.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const network = (withClientCert: boolean, viaProxy: boolean): Promise<Network> =>
    loadNetwork(
      viaProxy ? { url: proxy.url, bypass: [] } : undefined,
      {
        caFile: path.join(dir, 'ca.pem'),
        ...(withClientCert
          ? { certFile: path.join(dir, 'client.pem'), keyFile: path.join(dir, 'client-key.pem') }
          : {}),
      },
      (p) => fs.promises.readFile(p, 'utf8'),
      (s) => secrets.push(s),
    );

  function getWithAgent(agent: https.Agent): Promise<string> {
    return new Promise((resolve, reject) => {
      https
        .get(url, { agent }, (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve(body));
        })
        .on('error', reject);
    });
  }

  for (const viaProxy of [false, true]) {
    const how = viaProxy ? 'through the proxy' : 'directly';
    it(`openai's fetch presents it ${how}`, async () => {
      const before = proxy.tunnels.length;
      const { fetch } = createFetch(await network(true, viaProxy));
      const response = await fetch(url);
      assert.equal(await response.text(), 'hello build-agent-01');
      assert.equal(proxy.tunnels.length > before, viaProxy);
    });

    it(`the Azure SDK agent presents it ${how}`, async () => {
      const before = proxy.tunnels.length;
      const { agent } = azureClientOptions(await network(true, viaProxy));
      assert.equal(await getWithAgent(agent), 'hello build-agent-01');
      assert.equal(proxy.tunnels.length > before, viaProxy);
    });
  }

  it('without it the server refuses both stacks (the test can fail)', async () => {
    const net = await network(false, false);
    await assert.rejects(createFetch(net).fetch(url));
    await assert.rejects(getWithAgent(azureClientOptions(net).agent));
  });

  it('masks the client key the moment it is read', async () => {
    await network(true, false);
    assert.ok(secrets.includes(fs.readFileSync(path.join(dir, 'client-key.pem'), 'utf8')));
  });
});
