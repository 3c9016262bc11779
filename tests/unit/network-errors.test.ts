/**
 * The one classification of network failures, used by the model clients, the Entra ID sign-in, Key
 * Vault and Azure DevOps alike: the codes the copies used to disagree on are known to all.
 */
import assert from 'node:assert/strict';
import {
  classifyNetworkError,
  describeNetworkFailure,
  isPermanentNetworkFailure,
} from '../../tasks/CodeSynthesis/src/adapters/net/network-errors';
import { ProxyTunnelError } from '../../tasks/CodeSynthesis/src/adapters/net/network';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });
const wrapped = (cause: unknown) =>
  new Error('fetch failed', { cause: new Error('request failed', { cause }) });

describe('network error classification', () => {
  it('finds the code anywhere in the cause chain, or in a message when an SDK kept only that', () => {
    assert.deepEqual(classifyNetworkError(wrapped(withCode('x', 'ECONNRESET'))), {
      kind: 'connect',
      code: 'ECONNRESET',
    });
    assert.deepEqual(classifyNetworkError(new Error('getaddrinfo EAI_AGAIN kv.vault.azure.net')), {
      kind: 'dns',
      code: 'EAI_AGAIN',
    });
    assert.equal(classifyNetworkError(new Error('Bad Request')), undefined);
  });

  it('knows every certificate code, for every caller', () => {
    for (const code of [
      'CERT_REVOKED',
      'CERT_NOT_YET_VALID',
      'SELF_SIGNED_CERT_IN_CHAIN',
      'CERT_HAS_EXPIRED',
    ])
      assert.equal(classifyNetworkError(wrapped(withCode('tls', code)))?.kind, 'tls-trust', code);
    assert.equal(classifyNetworkError(withCode('altname', 'ERR_TLS_CERT_ALTNAME_INVALID'))?.kind, 'tls-host');
    assert.equal(classifyNetworkError(withCode('dns', 'EAI_NONAME'))?.kind, 'dns');
  });

  it("reads both proxies' refusals: our CONNECT tunnel's and undici's", () => {
    const ours = new ProxyTunnelError(
      'The proxy http://p:8080 requires authentication (HTTP 407) for x:443.',
      'EPROXYAUTH',
      407,
    );
    assert.deepEqual(classifyNetworkError(wrapped(ours)), {
      kind: 'proxy-auth',
      code: 'EPROXYAUTH',
      proxyStatus: 407,
    });
    assert.deepEqual(
      classifyNetworkError(wrapped(new Error('Proxy response (407) !== 200 when HTTP Tunneling'))),
      {
        kind: 'proxy-auth',
        code: 'EPROXYAUTH',
        proxyStatus: 407,
      },
    );
    assert.deepEqual(classifyNetworkError(new Error('Proxy response (502) !== 200 when HTTP Tunneling')), {
      kind: 'proxy-refused',
      code: 'EPROXYREFUSED',
      proxyStatus: 502,
    });
  });

  it('calls permanent only what a retry cannot cure', () => {
    assert.equal(isPermanentNetworkFailure(withCode('x', 'CERT_REVOKED')), true);
    assert.equal(isPermanentNetworkFailure(withCode('x', 'ERR_TLS_CERT_ALTNAME_INVALID')), true);
    assert.equal(
      isPermanentNetworkFailure(new Error('Proxy response (407) !== 200 when HTTP Tunneling')),
      true,
    );
    assert.equal(isPermanentNetworkFailure(withCode('x', 'EAI_AGAIN')), false);
    assert.equal(
      isPermanentNetworkFailure(new Error('Proxy response (502) !== 200 when HTTP Tunneling')),
      false,
    );
  });

  it('describes a certificate for another host as such, not as untrusted', () => {
    const d = describeNetworkFailure(withCode('x', 'ERR_TLS_CERT_ALTNAME_INVALID'), 'Service X');
    assert.equal(
      d?.message,
      'Cannot reach Service X: its TLS certificate is for another host name (ERR_TLS_CERT_ALTNAME_INVALID).',
    );
    assert.equal(d?.subject, 'Agent.CAInfo');
  });
});
