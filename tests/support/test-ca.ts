/**
 * A certificate authority made at test time, and a server certificate it signs for the host names
 * the fakes answer to (Azure's real ones included). Nothing here is written to the repository.
 */
import { generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';

export interface TestPki {
  caPem: string;
  certPem: string;
  keyPem: string;
}

/** Host names the fake servers present certificates for. */
export const FAKE_HOSTS = [
  'localhost',
  'login.partner.microsoftonline.cn',
  'login.microsoftonline.com',
  'login.microsoftonline.us',
  'login.chinacloudapi.cn',
  '*.vault.azure.net',
  '*.vault.usgovcloudapi.net',
  '*.vault.azure.cn',
  '*.openai.azure.com',
  '*.openai.azure.us',
  '*.openai.azure.cn',
  '*.cognitiveservices.azure.com',
  'dev.azure.com',
  '*.visualstudio.com',
  'management.azure.com',
  'api.github.com',
  'pipelines.actions.githubusercontent.com',
];

function makeKey(): { pub: forge.pki.PublicKey; priv: forge.pki.PrivateKey; pem: string } {
  // Node's native key generation is ~100x faster than forge's.
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return {
    pub: forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString()),
    priv: forge.pki.privateKeyFromPem(pem),
    pem,
  };
}

let cached: TestPki | undefined;
let caKey: forge.pki.rsa.PrivateKey | undefined;
let caSubject: forge.pki.CertificateField[] | undefined;

/** Create (once per process) a CA and a server certificate for FAKE_HOSTS and 127.0.0.1. */
export function testPki(): TestPki {
  if (cached) return cached;
  const ca = makeKey();
  const caCert = forge.pki.createCertificate();
  caCert.publicKey = ca.pub;
  caCert.serialNumber = '01';
  caCert.validity.notBefore = new Date(Date.now() - 3600_000);
  caCert.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
  const caName = [{ name: 'commonName', value: 'code-synthesis test CA' }];
  caCert.setSubject(caName);
  caCert.setIssuer(caName);
  caCert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  caCert.sign(ca.priv as forge.pki.rsa.PrivateKey, forge.md.sha256.create());

  const leaf = makeKey();
  const cert = forge.pki.createCertificate();
  cert.publicKey = leaf.pub;
  cert.serialNumber = '02';
  cert.validity.notBefore = caCert.validity.notBefore;
  cert.validity.notAfter = caCert.validity.notAfter;
  cert.setSubject([{ name: 'commonName', value: 'fake-azure' }]);
  cert.setIssuer(caName);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
    {
      name: 'subjectAltName',
      altNames: [...FAKE_HOSTS.map((value) => ({ type: 2, value })), { type: 7, ip: '127.0.0.1' }],
    },
  ]);
  cert.sign(ca.priv as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  cached = {
    caPem: forge.pki.certificateToPem(caCert),
    certPem: forge.pki.certificateToPem(cert),
    keyPem: leaf.pem,
  };
  caKey = ca.priv as forge.pki.rsa.PrivateKey;
  caSubject = caName;
  return cached;
}

/** A client certificate (TLS client auth) signed by the test CA, like an agent's Agent.ClientCert. */
export function testClientCertificate(commonName: string): { certPem: string; keyPem: string } {
  testPki();
  const leaf = makeKey();
  const cert = forge.pki.createCertificate();
  cert.publicKey = leaf.pub;
  cert.serialNumber = '03';
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
  cert.setSubject([{ name: 'commonName', value: commonName }]);
  cert.setIssuer(caSubject!);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', clientAuth: true },
  ]);
  cert.sign(caKey!, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: leaf.pem };
}
