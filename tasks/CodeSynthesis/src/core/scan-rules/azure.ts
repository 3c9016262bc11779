/**
 * Azure secrets: the formats secretlint's recommended preset does not know. Written from the formats
 * documented by Microsoft's security-utilities project (GeneratedRegexPatterns/*.json; the SEC101/nnn
 * ids below are its rule ids): identifiable keys carry a fixed signature (`+ASt`, `ACDb`, `JQQJ9`,
 * `8Q~`), older keys are recognisable only next to their connection-string keyword or variable name.
 */
import type { ScanRule } from '../scan';
import { envListEntry, NAME_TOKEN, patternRule, type MatchContext } from './pattern';

const HELP = 'https://github.com/microsoft/security-utilities';
const ROTATE =
  'Remove it from the generated code, read it from the environment or Azure Key Vault (or use Microsoft Entra ID instead of a key), and rotate it if it is real.';

/** Not part of a longer base64 or base64url run: the edges of a key. */
const B64_EDGE_BEFORE = '(?<![A-Za-z0-9+/_=-])';
const B64_EDGE_AFTER = '(?![A-Za-z0-9+/_=-])';

/**
 * Common annotated security keys (SEC101/200): 52 base62 characters, the signature `JQQJ9` with a
 * version character, a date (year, then month A-L), 12 more, a 4-character type and a 4-character
 * provider signature, then 4: 84 characters.
 */
function annotatedKey(provider: string): RegExp {
  return new RegExp(
    `(?<![A-Za-z0-9])(?<secret>[A-Za-z0-9]{52}JQQJ9[9DH][A-Za-z0-9][A-L][A-Za-z0-9]{12}[A-Za-z0-9]{4}${provider}[A-Za-z0-9]{4})(?![A-Za-z0-9])`,
  );
}

/** Offsets 76-79 of an annotated key: its provider signature. */
const providerOf = (key: string): string => key.slice(76, 80);

/** A value assigned to a variable, key or header whose name matches `name`, in code, YAML, JSON or .env. */
function assigned(name: string, value: string): RegExp {
  return new RegExp(
    `(?:${name})["'\\]]?\\s*(?::=|=>|=|:)\\s*["'\`]?(?<secret>${value})(?![A-Za-z0-9+/=])`,
    'i',
  );
}

/** Base64 text that is not one character repeated or a simple run (a placeholder such as AAAA...==). */
function looksRandom(value: string): boolean {
  return new Set(value.replace(/=+$/, '')).size >= 12;
}

/** Names an Azure OpenAI / AI services key is given: api-key, subscription-key, AZURE_OPENAI_API_KEY, ... */
const AI_KEY_NAMES =
  'api[_-]?key|subscription[_-]?key|openai[_-]?(?:api[_-]?)?key|cognitive[_-]?services[_-]?key|ocp-apim-subscription-key';
const HEX_KEY = '[0-9a-fA-F]{32}';

const LEGACY_ACCOUNT_KEY = '[A-Za-z0-9+/]{86}==';
const IS_COSMOS_LINE = /AccountEndpoint|\.documents\.azure\./i;
const COSMOS_NAME = /cosmos|documentdb/i;
const STORAGE_NAME = /storage|blob|azurite/i;
/** Text before a key that places it: the Cosmos DB section or endpoint, or a storage account. */
const COSMOS_CONTEXT = /cosmos|AccountEndpoint|\.documents\.azure\./i;
const STORAGE_CONTEXT = /storage|blob|AccountName|\.core\.windows\.net|devstoreaccount/i;

/**
 * A legacy key assigned to a name: `COSMOS_KEY = "..."`, `"Key": "..."` in appsettings.json,
 * `storage_account_key: ...`. Which service it belongs to is told by keyService.
 */
const KEY_ASSIGNED = new RegExp(
  String.raw`${NAME_TOKEN}["'\]]?\s*(?::=|=>|=|:)\s*["'\x60]?(?<secret>${LEGACY_ACCOUNT_KEY})(?![A-Za-z0-9+/=])`,
);

/**
 * The service of a legacy key assigned to a name holding 'key': the name says it (COSMOS_KEY,
 * storageKey), else the text before it does (the "CosmosDb" section, an AccountName=); a bare
 * AccountKey is storage's. Undefined when nothing tells: such a key is not reported.
 */
function keyService({ groups, before }: MatchContext): 'cosmos' | 'storage' | undefined {
  const name = groups['name'] ?? '';
  if (!/key/i.test(name)) return undefined;
  if (COSMOS_NAME.test(name)) return 'cosmos';
  if (STORAGE_NAME.test(name)) return 'storage';
  if (COSMOS_CONTEXT.test(before)) return 'cosmos';
  if (STORAGE_CONTEXT.test(before) || /account/i.test(name)) return 'storage';
  return undefined;
}

export const AZURE_RULES: readonly ScanRule[] = [
  patternRule({
    id: 'azure/storage-account-key',
    name: 'AzureStorageAccountKey',
    kind: 'secret',
    severity: 'error',
    description:
      'an Azure Storage account key (SEC101/152, SEC101/106), alone or in a connection string (AccountKey=)',
    fix: ROTATE,
    helpUri: HELP,
    pattern: [
      new RegExp(
        `${B64_EDGE_BEFORE}(?<secret>[A-Za-z0-9+/]{76}\\+ASt[A-Za-z0-9+/]{5}[AQgw]==)${B64_EDGE_AFTER}`,
      ),
      new RegExp(`(?:Account|Storage)Key\\s*=\\s*(?<secret>${LEGACY_ACCOUNT_KEY})(?!=)`, 'i'),
      KEY_ASSIGNED,
      // new StorageSharedKeyCredential("account", "<key>")
      new RegExp(
        String.raw`StorageSharedKeyCredential\(\s*["'][^"'\r\n]{1,64}["']\s*,\s*["'](?<secret>${LEGACY_ACCOUNT_KEY})["']`,
      ),
    ],
    accept: (value, line, context) =>
      looksRandom(value) &&
      (context.groups['name'] === undefined ? !IS_COSMOS_LINE.test(line) : keyService(context) === 'storage'),
  }),
  patternRule({
    id: 'azure/cosmos-db-key',
    name: 'AzureCosmosDbKey',
    kind: 'secret',
    severity: 'error',
    description: 'an Azure Cosmos DB account key (SEC101/160, SEC101/104), alone or in a connection string',
    fix: ROTATE,
    helpUri: HELP,
    pattern: [
      new RegExp(
        `${B64_EDGE_BEFORE}(?<secret>[A-Za-z0-9+/]{76}ACDb[A-Za-z0-9+/]{5}[AQgw]==)${B64_EDGE_AFTER}`,
      ),
      new RegExp(`AccountKey\\s*=\\s*(?<secret>${LEGACY_ACCOUNT_KEY})(?!=)`, 'i'),
      // Any legacy key on a line naming a Cosmos DB endpoint (the key's place on the line is free).
      new RegExp(`${B64_EDGE_BEFORE}(?<secret>${LEGACY_ACCOUNT_KEY})(?!=)`),
      KEY_ASSIGNED,
    ],
    accept: (value, line, context) =>
      looksRandom(value) &&
      (/ACDb[A-Za-z0-9+/]{5}[AQgw]==$/.test(value) ||
        (context.groups['name'] === undefined
          ? IS_COSMOS_LINE.test(line)
          : keyService(context) === 'cosmos')),
  }),
  patternRule({
    id: 'azure/storage-sas-token',
    name: 'AzureSasToken',
    kind: 'secret',
    severity: 'error',
    description:
      'an Azure shared access signature (SEC101/060): a sig= parameter in a storage URL or connection string',
    fix: 'Remove the SAS URL from the generated code; create short-lived SAS tokens at run time (user delegation SAS) or read the URL from Key Vault.',
    helpUri: HELP,
    // `\u0026` is '&' inside a JSON string.
    pattern: /(?:[?&;]|\\u0026)sig=(?<secret>(?:[A-Za-z0-9+/]|%2[BbFf]){42,126}(?:=|%3[Dd]))/,
  }),
  patternRule({
    id: 'azure/entra-client-secret',
    name: 'EntraIdClientSecret',
    kind: 'secret',
    severity: 'error',
    description: 'a Microsoft Entra ID application client secret (SEC101/156)',
    fix: 'Remove it; use a managed identity, workload identity federation or a certificate, or read the secret from Key Vault, and delete the client secret from the app registration.',
    helpUri: HELP,
    pattern:
      /(?<![A-Za-z0-9_~.+/-])(?<secret>[A-Za-z0-9_~.-]{3}[78]Q~[A-Za-z0-9_~.-]{31,34})(?![A-Za-z0-9_~+/=-]|\.[A-Za-z0-9_~.+/=-])/,
  }),
  patternRule({
    id: 'azure/devops-pat',
    name: 'AzureDevOpsPersonalAccessToken',
    kind: 'secret',
    severity: 'error',
    description:
      'an Azure DevOps personal access token (SEC101/200 with the AZDO signature, or the legacy 52-character SEC101/102 format)',
    fix: 'Remove it; in a pipeline use System.AccessToken or a service connection, elsewhere read the token from the environment, and revoke the token.',
    helpUri: HELP,
    pattern: [annotatedKey('AZDO'), /(?<![A-Za-z0-9])(?<secret>[a-z2-7]{52})(?![A-Za-z0-9])/],
    // The legacy format is base32: a real token mixes letters and digits; a 52-letter word does not.
    accept: (value) =>
      value.length === 84 || ((value.match(/[2-7]/g)?.length ?? 0) >= 3 && new Set(value).size >= 12),
  }),
  patternRule({
    id: 'azure/ai-services-key',
    name: 'AzureOpenAIKey',
    kind: 'secret',
    severity: 'error',
    description:
      'an Azure OpenAI or Azure AI services (Cognitive Services) key (SEC101/200 with the ACOG signature, or a 32-character hex key assigned to an api-key or subscription-key name)',
    fix: 'Remove it; call Azure OpenAI with Microsoft Entra ID (DefaultAzureCredential) or read the key from the environment or Key Vault, and regenerate the key.',
    helpUri: HELP,
    pattern: [
      annotatedKey('ACOG'),
      assigned(AI_KEY_NAMES, HEX_KEY),
      // req.Header.Set("api-key", "<hex>"), DefaultRequestHeaders.Add("api-key", ...), headers.set('api-key', ...)
      new RegExp(String.raw`["'](?:${AI_KEY_NAMES})["']\s*,\s*["'](?<secret>${HEX_KEY})["']`, 'i'),
      // new AzureKeyCredential("<hex>")
      new RegExp(String.raw`\b(?:AzureKeyCredential|ApiKeyCredential)\(\s*["'](?<secret>${HEX_KEY})["']`),
      // Kubernetes: - name: AZURE_OPENAI_API_KEY / value: "<hex>"
      envListEntry(String.raw`[\w.-]{0,60}?(?:${AI_KEY_NAMES})[\w.-]{0,60}`, `(?<secret>${HEX_KEY})`, 'i'),
    ],
  }),
  patternRule({
    id: 'azure/messaging-key',
    name: 'AzureServiceBusOrEventHubsKey',
    kind: 'secret',
    severity: 'error',
    description:
      'an Azure Service Bus, Event Hubs or Relay shared access key (SEC101/171-173, SEC101/105), alone or in a connection string (SharedAccessKey=)',
    fix: ROTATE,
    helpUri: HELP,
    pattern: [
      new RegExp(
        `${B64_EDGE_BEFORE}(?<secret>[A-Za-z0-9+/]{33}(?:\\+ASb|\\+AEh|\\+ARm)[A-P][A-Za-z0-9+/]{5}=)${B64_EDGE_AFTER}`,
      ),
      /SharedAccessKey\s*=\s*(?<secret>[A-Za-z0-9+/]{42,43}=)(?!=)/i,
    ],
    accept: looksRandom,
  }),
  patternRule({
    id: 'azure/annotated-key',
    name: 'AzureCommonAnnotatedSecurityKey',
    kind: 'secret',
    severity: 'error',
    description: 'an Azure common annotated security key of another service (SEC101/200)',
    fix: ROTATE,
    helpUri: HELP,
    pattern: annotatedKey('[A-Za-z][A-Za-z0-9]{3}'),
    accept: (value) => providerOf(value) !== 'AZDO' && providerOf(value) !== 'ACOG',
  }),
];
