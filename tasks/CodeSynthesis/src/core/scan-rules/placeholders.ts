/**
 * Placeholder credentials: a key, secret, password or token variable given a value that stands for the
 * real one ('YOUR_API_KEY', 'changeme', '<your-key>', 'xxx...'). Generated code like that either does
 * not work or invites someone to paste the real secret into the source. Dotenv examples
 * (`.env.example`, ...) are documentation, where such values belong: they are not scanned for it.
 */
import type { ScanRule } from '../scan';
import { envListEntry, isDotenvExample, NAME_TOKEN, patternRule } from './pattern';

/** A name that holds a credential: api_key, apiKey, DB_PASSWORD, client-secret, authToken, ... */
const CREDENTIAL_NAME = /key|secret|passw(?:or)?d|pwd|token|credential/i;

/**
 * Values that stand for a credential, matched against the whole value. Linear: each alternative is a
 * fixed word or one run, and the words of 'your openai api key' are separated by exactly one space.
 */
const PLACEHOLDER = [
  String.raw`your[\w.-]*(?: [\w.-]+){0,8}`,
  String.raw`<[^<>\n'"]{1,60}>`,
  String.raw`change[_ -]?(?:me|it)(?:[_ -]?please)?`,
  String.raw`x{3,}`,
  String.raw`\*{3,}`,
  String.raw`replace[_ -]?(?:me|this|with[\w.-]*)`,
  String.raw`insert[_ -][\w.-]+`,
  String.raw`[\w.-]*[_-]here`,
  String.raw`todo|fixme|tbd|placeholder`,
  String.raw`(?:my|some|sample|example)[_-]?(?:api[_-]?)?(?:key|secret|password|token)`,
].join('|');

/** The value, quoted or not, ending where the quote closes or the word ends. */
const VALUE = String.raw`(?<q>["'\x60]?)(?<secret>${PLACEHOLDER})\k<q>(?![\w<>-])`;
const QUOTED_VALUE = String.raw`(?<q>["'\x60])(?<secret>${PLACEHOLDER})\k<q>`;

export const PLACEHOLDER_RULES: readonly ScanRule[] = [
  patternRule({
    id: 'placeholder/credential',
    name: 'PlaceholderCredential',
    kind: 'placeholder',
    severity: 'error',
    description: 'a placeholder credential assigned in code',
    fix: 'Read the real value from the environment (os.environ, process.env) or a secret store, or use Microsoft Entra ID; never write it into the source.',
    appliesTo: (path) => !isDotenvExample(path),
    pattern: [
      // api_key = "changeme", "ApiKey": "YOUR OPENAI API KEY", process.env.API_KEY || "YOUR_API_KEY", ... ?? '<your-token>'
      new RegExp(String.raw`${NAME_TOKEN}["'\]]?\s*(?::=|=>|=|:|\|\||\?\?)\s*${VALUE}`, 'i'),
      // os.getenv("SECRET_KEY", "changeme"), os.environ.get("DB_PASSWORD", "change-me"), headers.set('api-key', 'YOUR_KEY')
      new RegExp(String.raw`["'\x60]${NAME_TOKEN}["'\x60]\s*,\s*${QUOTED_VALUE}`, 'i'),
      // Dockerfile: ENV API_KEY changeme
      new RegExp(String.raw`^[ \t]*ENV[ \t]+${NAME_TOKEN}[ \t]+${VALUE}[ \t]*$`, 'im'),
      // Kubernetes: - name: DB_PASSWORD / value: "changeme"
      envListEntry(NAME_TOKEN, String.raw`(?<secret>${PLACEHOLDER})`, 'i'),
      // web.config: <add key="ApiKey" value="YOUR_API_KEY"/>
      new RegExp(
        String.raw`<add\s+key\s*=\s*(?<nq>["'])${NAME_TOKEN}\k<nq>\s+value\s*=\s*${QUOTED_VALUE}`,
        'i',
      ),
    ],
    accept: (_value, _line, { groups }) => CREDENTIAL_NAME.test(groups['name'] ?? ''),
  }),
];
