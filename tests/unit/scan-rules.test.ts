/**
 * The scan's rules as tables: every secret format found at its line and never printed; every clean
 * pattern (secrets from the environment, Kubernetes secret references, empty .env examples, tests that
 * set a fake value) not flagged at all; the seed's Flask sample flagged at app.py line 6.
 */
import assert from 'node:assert/strict';
import { redact } from '../../tasks/CodeSynthesis/src/core/scan';
import { fakeSecrets } from '../support/fake-secrets';
import { scanAll, SEED_FLASK_APP } from '../support/scan';

const S = fakeSecrets();

/** [what, path, line 3 of the file, rule expected, the secret that must not be printed]. */
const SECRETS: [string, string, string, string, string][] = [
  [
    'an identifiable storage account key',
    'app/settings.py',
    `STORAGE = "${S.storageKey}"`,
    'azure/storage-account-key',
    S.storageKey,
  ],
  [
    'a storage connection string with a legacy key (AccountKey=)',
    'app/config.js',
    `const conn = "DefaultEndpointsProtocol=https;AccountName=acct1;AccountKey=${S.storageLegacyKey};EndpointSuffix=core.windows.net";`,
    'azure/storage-account-key',
    S.storageLegacyKey,
  ],
  [
    'a SAS token in a storage URL (sig=)',
    'app/blob.ts',
    `const url = "https://acct1.blob.core.windows.net/c/b.txt?sv=2022-11-02&ss=b&srt=o&sp=r&se=2030-01-01T00:00:00Z&sig=${S.sasSignature}";`,
    'azure/storage-sas-token',
    S.sasSignature,
  ],
  [
    'an Entra ID client secret (8Q~)',
    'app/auth.cs',
    `var secret = "${S.entraSecret}";`,
    'azure/entra-client-secret',
    S.entraSecret,
  ],
  [
    'an Entra ID client secret (7Q~)',
    'app/auth.go',
    `secret := "${S.entraSecret7}"`,
    'azure/entra-client-secret',
    S.entraSecret7,
  ],
  [
    'an Azure DevOps PAT (identifiable, AZDO)',
    'scripts/push.sh',
    `export AZDO_TOKEN=${S.devopsPat}`,
    'azure/devops-pat',
    S.devopsPat,
  ],
  [
    'an Azure DevOps PAT (legacy 52 characters)',
    'scripts/clone.py',
    `pat = "${S.devopsLegacyPat}"`,
    'azure/devops-pat',
    S.devopsLegacyPat,
  ],
  [
    'an Azure OpenAI key (identifiable, ACOG)',
    'app/llm.py',
    `client = AzureOpenAI(api_key="${S.openAIKey}")`,
    'azure/ai-services-key',
    S.openAIKey,
  ],
  [
    'an Azure OpenAI key (32 hex, assigned to api-key)',
    'app/llm.ts',
    `const headers = { "api-key": "${S.openAIHexKey}" };`,
    'azure/ai-services-key',
    S.openAIHexKey,
  ],
  [
    'a Service Bus connection string (SharedAccessKey=)',
    'app/bus.py',
    `CONN = "Endpoint=sb://ns1.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=${S.serviceBusKey}"`,
    'azure/messaging-key',
    S.serviceBusKey,
  ],
  [
    'an Event Hubs identifiable key (+AEh)',
    'app/hub.js',
    `const key = '${S.eventHubsKey}';`,
    'azure/messaging-key',
    S.eventHubsKey,
  ],
  [
    'a Cosmos DB connection string',
    'app/db.py',
    `COSMOS = "AccountEndpoint=https://acct1.documents.azure.com:443/;AccountKey=${S.cosmosLegacyKey};"`,
    'azure/cosmos-db-key',
    S.cosmosLegacyKey,
  ],
  [
    'an identifiable Cosmos DB key (ACDb)',
    'app/db.ts',
    `const key = "${S.cosmosKey}";`,
    'azure/cosmos-db-key',
    S.cosmosKey,
  ],
  [
    'another Azure annotated key',
    'app/other.py',
    `KEY = "${S.otherAnnotatedKey}"`,
    'azure/annotated-key',
    S.otherAnnotatedKey,
  ],
  [
    'a GitHub token (secretlint)',
    'app/gh.py',
    `token = "${S.githubToken}"`,
    'secretlint/github',
    S.githubToken,
  ],
  [
    'an AWS secret access key (secretlint)',
    'app/aws.py',
    `aws_secret_access_key = "${S.awsSecretKey}"`,
    'secretlint/aws',
    S.awsSecretKey,
  ],
  [
    'an npm token (secretlint)',
    '.npmrc',
    `//registry.npmjs.org/:_authToken=${S.npmToken}`,
    'secretlint/npm',
    S.npmToken,
  ],
  [
    'a Slack token (secretlint)',
    'app/slack.js',
    `const t = "${S.slackToken}";`,
    'secretlint/slack',
    S.slackToken,
  ],
  [
    'a database connection string with a password (secretlint)',
    'app/db.js',
    `const url = "postgres://app:${S.dbPassword}@db.internal:5432/orders";`,
    'secretlint/database-connection-string',
    S.dbPassword,
  ],
  ['a private key', 'certs/key.pem', S.privateKey.trim(), 'secret/private-key', S.privateKey.split('\n')[1]!],
];

describe('scan: secrets, each at its line, never printed', () => {
  for (const [what, path, line, ruleId, secret] of SECRETS) {
    it(`finds ${what}`, async () => {
      const content = `# generated\n\n${line}\n# end\n`;
      const report = await scanAll([{ path, content }]);
      const found = report.findings.filter((f) => f.ruleId === ruleId);
      // One finding, or more when the rule matches two parts of one line (npm's authToken and token).
      assert.ok(found.length >= 1, JSON.stringify(report.findings, null, 1));
      assert.deepEqual([...new Set(found.map((f) => f.line))], [3]);
      assert.equal(found[0]!.severity, 'error');
      assert.equal(found[0]!.kind, 'secret');
      for (const f of report.findings) {
        assert.ok(!f.message.includes(secret), `the secret is in the message: ${f.message}`);
        assert.ok(!f.excerpt.includes(secret.slice(4, 12)), f.excerpt);
      }
      assert.match(found[0]!.message, new RegExp(`^${ruleId}: .+: .+ \\(\\d+ characters\\)\\. .+`));
    });
  }

  it('ignores secretlint-disable comments in generated code (the model cannot switch the scan off)', async () => {
    const content = `// secretlint-disable\nconst t = "${S.githubToken}"; // secretlint-disable-line\n`;
    const report = await scanAll([{ path: 'a.js', content }]);
    assert.deepEqual(
      report.findings.map((f) => [f.ruleId, f.line]),
      [['secretlint/github', 2]],
    );
  });

  it('lists every rule it ran, secretlint and ours, for the SARIF log', async () => {
    const report = await scanAll([]);
    const ids = report.rules.map((r) => r.id);
    for (const id of [
      'secretlint/github',
      'secretlint/aws',
      'azure/storage-account-key',
      'placeholder/credential',
    ])
      assert.ok(ids.includes(id), id);
    assert.ok(!ids.includes('secretlint/filter-comments'));
    assert.equal(new Set(ids).size, ids.length);
  });
});

describe('scan: placeholders and policy', () => {
  it("flags the seed's Flask sample at app.py line 6", async () => {
    const report = await scanAll([{ path: 'weather/app.py', content: SEED_FLASK_APP }]);
    assert.deepEqual(
      report.findings.map((f) => [f.path, f.line, f.ruleId, f.severity]),
      [['weather/app.py', 6, 'placeholder/credential', 'error']],
    );
    assert.match(report.findings[0]!.message, /: "YO"… \(12 characters\)\. /);
  });

  const FLAGGED: [string, string, string, string, number?][] = [
    ['changeme', 'app.js', `const dbPassword = "changeme";`, 'placeholder/credential'],
    ['<your-key>', 'config.yaml', `apiKey: "<your-key>"`, 'placeholder/credential'],
    ['xxx...', 'Program.cs', `var clientSecret = "xxxxxxxx";`, 'placeholder/credential'],
    ['a Go placeholder token', 'main.go', `token := "REPLACE_ME"`, 'placeholder/credential'],
    ['verify=False', 'client.py', `r = requests.get(url, verify=False)`, 'policy/tls-verification-off'],
    [
      'rejectUnauthorized: false',
      'client.ts',
      `const agent = new https.Agent({ rejectUnauthorized: false });`,
      'policy/tls-verification-off',
    ],
    [
      'NODE_TLS_REJECT_UNAUTHORIZED=0',
      'Dockerfile',
      `ENV NODE_TLS_REJECT_UNAUTHORIZED=0`,
      'policy/tls-verification-off',
    ],
    [
      'InsecureSkipVerify: true',
      'client.go',
      `tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}`,
      'policy/tls-verification-off',
    ],
    [
      'a certificate callback returning true',
      'Client.cs',
      `handler.ServerCertificateCustomValidationCallback = (m, c, ch, e) => true;`,
      'policy/tls-verification-off',
    ],
    ['an escape character', 'a.py', `print("\u001b[31mred")`, 'policy/control-characters'],
    ['a bidi override (Trojan Source)', 'a.js', `const ok = "\u202e" + access;`, 'policy/control-characters'],
    ['a .env file with a value', '.env', `LOG_LEVEL=debug`, 'policy/dotenv-values'],
    [
      'a .env.production file with a secret value',
      'svc/.env.production',
      `DB_PASSWORD=hunter2hunter2`,
      'policy/dotenv-values',
    ],
  ];
  for (const [what, path, line, ruleId] of FLAGGED) {
    it(`flags ${what}`, async () => {
      const report = await scanAll([{ path, content: `first\n${line}\nlast\n` }]);
      assert.deepEqual(
        report.findings.map((f) => [f.ruleId, f.line]),
        [[ruleId, 2]],
      );
    });
  }

  it('gives TLS verification off and size the severity warning, the others error', async () => {
    const report = await scanAll(
      [
        { path: 'big.txt', content: 'x'.repeat(2048) },
        { path: 'c.py', content: 'requests.get(u, verify=False)\n' },
        { path: '.env', content: 'A=1\n' },
      ],
      1024,
    );
    assert.deepEqual(
      report.findings.map((f) => [f.ruleId, f.severity, f.excerpt]),
      [
        ['policy/dotenv-values', 'error', '… (1 character)'],
        ['policy/file-too-large', 'warning', '2 KB; maxFileSizeKB is 1'],
        ['policy/tls-verification-off', 'warning', '"ve"… (12 characters)'],
      ],
    );
  });
});

describe('scan: clean code is not flagged', () => {
  const CLEAN: [string, string, string][] = [
    [
      'os.environ[...]',
      'app.py',
      `api_key = os.environ["API_KEY"]\npassword = os.environ.get("DB_PASSWORD")`,
    ],
    ['os.getenv', 'app.py', `token = os.getenv("GITHUB_TOKEN")\nsecret = os.getenv("CLIENT_SECRET", "")`],
    [
      'process.env.X',
      'app.ts',
      `const apiKey = process.env.API_KEY;\nconst { DB_PASSWORD: password } = process.env;`,
    ],
    [
      'a Kubernetes secretKeyRef',
      'k8s/deployment.yaml',
      `env:\n  - name: API_KEY\n    valueFrom:\n      secretKeyRef:\n        name: weather-secrets\n        key: API_KEY\n  - name: DB_PASSWORD\n    valueFrom:\n      secretKeyRef: {name: db, key: password}`,
    ],
    [
      'an .env.example with empty values',
      '.env.example',
      `# Copy to .env and fill in\nAPI_KEY=\nDB_PASSWORD=\nLOG_LEVEL=\n`,
    ],
    [
      'a test that sets a fake value through the environment (pytest)',
      'tests/test_app.py',
      `def test_key(monkeypatch):\n    monkeypatch.setenv("API_KEY", "test-key")\n    os.environ["DB_PASSWORD"] = "fake-password"\n    assert load_config({"API_KEY": "set"})`,
    ],
    [
      'a test that sets a fake value through the environment (node)',
      'test/app.test.ts',
      `process.env.API_KEY = "test-key";\nconst config = loadConfig({ API_KEY: "fake" });`,
    ],
    [
      'templated SAS and keys',
      'blob.ts',
      'const url = `${base}?${sas}&sig=${encodeURIComponent(signature)}`;\nconst conn = `AccountName=${name};AccountKey=${key}`;',
    ],
    [
      'TLS verification on',
      'c.py',
      `requests.get(url, verify=True, timeout=5)\nhttps.Agent({ rejectUnauthorized: true })`,
    ],
    ['a long lower-case identifier', 'words.txt', 'abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz'],
    [
      'hashes and ids',
      'lock.txt',
      'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\nid: 3fa85f64-5717-4562-b3fc-2c963f66afa6',
    ],
    [
      'a password prompt',
      'cli.py',
      `password = getpass.getpass("Password: ")\nsecret_name = "openai-api-key"`,
    ],
    ['an author field', 'pyproject.toml', `authors = ["Your Name <you@example.com>"]`],
  ];
  for (const [what, path, content] of CLEAN) {
    it(`does not flag ${what}`, async () => {
      const report = await scanAll([{ path, content: content + '\n' }]);
      assert.deepEqual(report.findings, []);
    });
  }
});

describe('redact', () => {
  it('shows at most the first 4 characters and the length', () => {
    assert.equal(redact('AKIAABCDEFGHIJKLMNOP'), '"AKIA"… (20 characters)');
    assert.equal(redact('hunter22'), '"hu"… (8 characters)');
    assert.equal(redact('abc'), '… (3 characters)');
    assert.equal(redact('\u001b[31m'), '… (5 characters)');
    assert.equal(redact('\n\nab\u202ecdefghijklmnopq'), '"\\n\\nab"… (20 characters)');
  });
});
