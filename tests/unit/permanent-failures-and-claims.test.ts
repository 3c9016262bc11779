import assert from 'node:assert/strict';
import { oidcClaims } from '../../tasks/CodeSynthesis/src/adapters/azure/credential';
import { isPermanentNetworkFailure as isPermanentConnectionFailure } from '../../tasks/CodeSynthesis/src/adapters/net/network-errors';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('isPermanentConnectionFailure', () => {
  it('is true for an untrusted certificate, however deep the cause', () => {
    assert.equal(isPermanentConnectionFailure(withCode('fetch failed', 'SELF_SIGNED_CERT_IN_CHAIN')), true);
    assert.equal(
      isPermanentConnectionFailure(
        new Error('fetch failed', { cause: withCode('x', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE') }),
      ),
      true,
    );
  });

  it('is true for a proxy asking for credentials (407)', () => {
    assert.equal(
      isPermanentConnectionFailure(
        new Error('fetch failed', { cause: new Error('Proxy response (407) !== 200 when HTTP Tunneling') }),
      ),
      true,
    );
  });

  it('is false for failures a retry may cure', () => {
    assert.equal(isPermanentConnectionFailure(withCode('socket hang up', 'ECONNRESET')), false);
    assert.equal(isPermanentConnectionFailure(withCode('refused', 'ECONNREFUSED')), false);
    assert.equal(
      isPermanentConnectionFailure(new Error('Proxy response (502) !== 200 when HTTP Tunneling')),
      false,
    );
  });
});

describe('oidcClaims', () => {
  const token = (payload: unknown) => `e30.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.sig`;

  it('reads the issuer and subject of a pipeline OIDC token', () => {
    assert.deepEqual(
      oidcClaims(
        token({ iss: 'https://vstoken.dev.azure.com/0000', sub: 'sc://contoso/web/prod-arm', aud: 'x' }),
      ),
      {
        iss: 'https://vstoken.dev.azure.com/0000',
        sub: 'sc://contoso/web/prod-arm',
      },
    );
  });

  it('drops what it cannot print safely, and survives garbage', () => {
    assert.deepEqual(oidcClaims(token({ iss: 'http://not-https', sub: 'a\nb##vso[task.complete]' })), {});
    assert.deepEqual(oidcClaims('not-a-jwt'), {});
    assert.deepEqual(oidcClaims('a.%%%.c'), {});
    assert.deepEqual(oidcClaims(token('just a string')), {});
  });
});
