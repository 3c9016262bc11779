/**
 * The scan as a hostile review tried it: secrets, placeholders and TLS switches written the way real
 * code, Dockerfiles, compose files, Kubernetes manifests and appsettings write them are found at their
 * line and never printed; the public development keys of Microsoft's emulators and documented
 * `.env.example` files are not findings.
 */
import assert from 'node:assert/strict';
import { EMULATOR_KEYS, fakeSecrets } from '../support/fake-secrets';
import { scanAll } from '../support/scan';

const S = fakeSecrets(11);
const HEX = S.openAIHexKey;
/** A PEM as a JavaScript string literal holds it: line breaks written as \n. */
const escapedPem = (pem: string) => pem.trim().replace(/\n/g, '\\n');

/** [what, path, content, rule, 1-based line of the finding, the secret that must not be printed]. */
type Case = [string, string, string, string, number, string?];

const ENTRA_AS_NAME_EQUALS: Case[] = [
  [
    'a Dockerfile ENV',
    'Dockerfile',
    `FROM python:3.12\nENV AZURE_CLIENT_SECRET=${S.entraSecret}\n`,
    'azure/entra-client-secret',
    2,
    S.entraSecret,
  ],
  [
    'a docker-compose environment list',
    'docker-compose.yml',
    `services:\n  api:\n    environment:\n      - AZURE_CLIENT_SECRET=${S.entraSecret}\n`,
    'azure/entra-client-secret',
    4,
    S.entraSecret,
  ],
  [
    'a shell export',
    'scripts/run.sh',
    `#!/bin/sh\nexport AZURE_CLIENT_SECRET=${S.entraSecret7}\n`,
    'azure/entra-client-secret',
    2,
    S.entraSecret7,
  ],
  [
    'a form body',
    'app/token.ts',
    `const body = "grant_type=client_credentials&client_id=abc&client_secret=${S.entraSecret}&scope=api%3A%2F%2Fx%2F.default";\n`,
    'azure/entra-client-secret',
    1,
    S.entraSecret,
  ],
];

ENTRA_AS_NAME_EQUALS.push([
  'a sentence ending in a full stop',
  'NOTES.md',
  `The app signs in with the client secret ${S.entraSecret}.\n`,
  'azure/entra-client-secret',
  1,
  S.entraSecret,
]);

const MISSES: Case[] = [
  [
    'an Azure OpenAI hex key set as a header (Go)',
    'main.go',
    `req.Header.Set("api-key", "${HEX}")\n`,
    'azure/ai-services-key',
    1,
    HEX,
  ],
  [
    'an Azure OpenAI hex key added to DefaultRequestHeaders (C#)',
    'Program.cs',
    `client.DefaultRequestHeaders.Add("api-key", "${HEX}");\n`,
    'azure/ai-services-key',
    1,
    HEX,
  ],
  [
    'an Azure OpenAI hex key set on Headers (JavaScript)',
    'client.js',
    `const headers = new Headers();\nheaders.set('api-key', '${HEX}');\n`,
    'azure/ai-services-key',
    2,
    HEX,
  ],
  [
    'an Azure OpenAI hex key in a Kubernetes env list (name, then value)',
    'k8s/deployment.yaml',
    `        env:\n          - name: AZURE_OPENAI_API_KEY\n            value: "${HEX}"\n`,
    'azure/ai-services-key',
    3,
    HEX,
  ],
  [
    'an Azure OpenAI hex key in new AzureKeyCredential(...)',
    'Client.cs',
    `var client = new OpenAIClient(endpoint, new AzureKeyCredential("${HEX}"));\n`,
    'azure/ai-services-key',
    1,
    HEX,
  ],
  [
    'a Cosmos DB key assigned without its endpoint on the line',
    'app/db.py',
    `COSMOS_ENDPOINT = os.environ["COSMOS_ENDPOINT"]\nCOSMOS_KEY = "${S.cosmosLegacyKey}"\n`,
    'azure/cosmos-db-key',
    2,
    S.cosmosLegacyKey,
  ],
  [
    'a Cosmos DB key in appsettings.json',
    'appsettings.json',
    `{\n  "CosmosDb": {\n    "Endpoint": "https://acct1.documents.azure.com:443/",\n    "Key": "${S.cosmosLegacyKey}"\n  }\n}\n`,
    'azure/cosmos-db-key',
    4,
    S.cosmosLegacyKey,
  ],
  [
    'an EC private key (SEC1)',
    'certs/ec.pem',
    S.ecPrivateKey,
    'secret/private-key',
    1,
    S.ecPrivateKey.split('\n')[1]!,
  ],
  [
    'an Ed25519 private key (PKCS#8) in a string literal',
    'app/sign.js',
    `const key = "${escapedPem(S.ed25519PrivateKey)}";\n`,
    'secret/private-key',
    1,
    S.ed25519PrivateKey.split('\n')[1]!,
  ],
  [
    'an RSA private key (PKCS#1)',
    'certs/key.pem',
    S.privateKey,
    'secret/private-key',
    1,
    S.privateKey.split('\n')[1]!,
  ],
  [
    'a storage key passed positionally to StorageSharedKeyCredential',
    'app/blob.ts',
    `const cred = new StorageSharedKeyCredential("acct1", "${S.storageLegacyKey}");\n`,
    'azure/storage-account-key',
    1,
    S.storageLegacyKey,
  ],
  [
    'a SAS URL in JSON with \\u0026sig=',
    'config.json',
    `{"url": "https://acct1.blob.core.windows.net/c/b?sv=2022-11-02\\u0026sp=r\\u0026sig=${S.sasSignature}"}\n`,
    'azure/storage-sas-token',
    1,
    S.sasSignature,
  ],
];

const PLACEHOLDERS: Case[] = [
  ['os.getenv with a placeholder default', 'app.py', `SECRET_KEY = os.getenv("SECRET_KEY", "changeme")\n`],
  [
    'os.environ.get with a placeholder default',
    'app.py',
    `password = os.environ.get("DB_PASSWORD", "change-me")\n`,
  ],
  ['process.env || a placeholder', 'app.js', `const apiKey = process.env.API_KEY || "YOUR_API_KEY";\n`],
  ['process.env ?? a placeholder', 'app.ts', `const token = process.env.TOKEN ?? '<your-token>';\n`],
  [
    'a Kubernetes env list (name, then value)',
    'k8s/deployment.yaml',
    `env:\n  - name: DB_PASSWORD\n    value: "changeme"\n`,
    'placeholder/credential',
    3,
  ],
  [
    'a placeholder with spaces in appsettings',
    'appsettings.json',
    `{\n  "ApiKey": "YOUR OPENAI API KEY"\n}\n`,
  ],
  ['a Dockerfile ENV without =', 'Dockerfile', `FROM node:22\nENV API_KEY changeme\n`],
  [
    'an appSettings entry in web.config',
    'web.config',
    `<appSettings>\n  <add key="ApiKey" value="YOUR_API_KEY"/>\n</appSettings>\n`,
  ],
].map(([what, path, content, rule, line]) => {
  const lines = (content as string).split('\n');
  const at = (line as number | undefined) ?? lines.findIndex((l) => /chang|your|YOUR/.test(l)) + 1;
  return [what!, path!, content!, (rule as string | undefined) ?? 'placeholder/credential', at] as Case;
});

const TLS_OFF: Case[] = [
  [
    'https.globalAgent.options.rejectUnauthorized = false',
    'app.js',
    `https.globalAgent.options.rejectUnauthorized = false;\n`,
  ],
  [
    'NODE_TLS_REJECT_UNAUTHORIZED "0" in a Kubernetes env list',
    'k8s/deployment.yaml',
    `env:\n  - name: NODE_TLS_REJECT_UNAUTHORIZED\n    value: "0"\n`,
    'policy/tls-verification-off',
    2,
  ],
  ['ENV NODE_TLS_REJECT_UNAUTHORIZED 0', 'Dockerfile', `FROM node:22\nENV NODE_TLS_REJECT_UNAUTHORIZED 0\n`],
  ['InsecureSkipVerify = true (Go)', 'client.go', `tr.TLSClientConfig.InsecureSkipVerify = true\n`],
  ['insecureSkipVerify: true (YAML)', 'traefik.yaml', `serversTransport:\n  insecureSkipVerify: true\n`],
  [
    'a certificate callback returning true in a block (one line)',
    'Client.cs',
    `handler.ServerCertificateCustomValidationCallback = (m, c, ch, e) => { return true; };\n`,
  ],
  [
    'a certificate callback returning true in a block (several lines)',
    'Client.cs',
    `handler.ServerCertificateCustomValidationCallback = (message, cert, chain, errors) =>\n{\n    return true;\n};\n`,
  ],
  ['aiohttp ssl=False', 'client.py', `async with session.get(url, ssl=False) as resp:\n`],
  ['aiohttp verify_ssl=False', 'client.py', `connector = aiohttp.TCPConnector(verify_ssl=False)\n`],
  [
    'a Java hostname verifier accepting every host',
    'Client.java',
    `HttpsURLConnection.setDefaultHostnameVerifier((h, s) -> true);\n`,
  ],
].map(([what, path, content, rule, line]) => {
  const lines = (content as string).split('\n');
  const at =
    (line as number | undefined) ??
    lines.findIndex((l) => /false|False|true|TRUE|Verif|Callback| 0$/.test(l)) + 1;
  return [what!, path!, content!, (rule as string | undefined) ?? 'policy/tls-verification-off', at] as Case;
});

function table(title: string, cases: readonly Case[]): void {
  describe(title, () => {
    for (const [what, path, content, ruleId, line, secret] of cases) {
      it(`finds ${what}`, async () => {
        const report = await scanAll([{ path, content }]);
        assert.deepEqual(
          report.findings.map((f) => [f.ruleId, f.line]),
          [[ruleId, line]],
          JSON.stringify(report.findings, null, 1),
        );
        if (secret) {
          const f = report.findings[0]!;
          assert.equal(f.severity, 'error');
          assert.ok(!f.message.includes(secret.slice(4, 16)), f.message);
        }
      });
    }
  });
}

table('scan: Entra ID client secrets written as NAME=secret', ENTRA_AS_NAME_EQUALS);
table('scan: secrets in the shapes real code writes them', MISSES);
table('scan: placeholder credentials in the shapes real code writes them', PLACEHOLDERS);
table('scan: TLS verification switched off, as real code does it', TLS_OFF);

describe('scan: documented development values are not findings', () => {
  const CLEAN: [string, string, string][] = [
    [
      "the Azurite emulator's connection string",
      'app/settings.py',
      `STORAGE = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${EMULATOR_KEYS.azurite};BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"`,
    ],
    [
      "the Azurite emulator's key alone",
      'app/config.ts',
      `const storageAccountKey = "${EMULATOR_KEYS.azurite}";`,
    ],
    [
      "the Cosmos DB emulator's connection string",
      'app/db.py',
      `COSMOS = "AccountEndpoint=https://localhost:8081/;AccountKey=${EMULATOR_KEYS.cosmos};"`,
    ],
    ["the Cosmos DB emulator's key assigned", 'app/db.js', `const cosmosKey = "${EMULATOR_KEYS.cosmos}";`],
    [
      '.env.example documenting a key',
      '.env.example',
      'OPENAI_API_KEY=your-api-key-here\nDB_PASSWORD=changeme',
    ],
    ['.env.sample', 'svc/.env.sample', 'OPENAI_API_KEY=<your-key>'],
    ['.env.template', '.env.template', 'API_KEY=YOUR_API_KEY'],
    ['.env.dist', '.env.dist', 'SECRET_KEY=change-me'],
    ['.env.local.example', 'web/.env.local.example', 'NEXT_PUBLIC_API_KEY=your-api-key-here'],
  ];
  for (const [what, path, content] of CLEAN) {
    it(`does not flag ${what}`, async () => {
      const report = await scanAll([{ path, content: content + '\n' }]);
      assert.deepEqual(report.findings, []);
    });
  }

  it('still flags a placeholder in a real .env file, and a real key next to the emulator key', async () => {
    const report = await scanAll([
      { path: '.env', content: 'OPENAI_API_KEY=your-api-key-here\n' },
      {
        path: 'app/both.py',
        content: `DEV = "AccountName=devstoreaccount1;AccountKey=${EMULATOR_KEYS.azurite};"\nPROD = "AccountName=acct1;AccountKey=${S.storageLegacyKey};"\n`,
      },
    ]);
    assert.deepEqual(
      report.findings.map((f) => [f.path, f.line, f.ruleId]),
      [
        ['.env', 1, 'placeholder/credential'],
        ['.env', 1, 'policy/dotenv-values'],
        ['app/both.py', 2, 'azure/storage-account-key'],
      ],
    );
  });
});
