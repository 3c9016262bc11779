/**
 * Placeholder credentials: a key, secret, password or token variable given a value that stands for the
 * real one ('YOUR_API_KEY', 'changeme', '<your-key>', 'xxx...'). Generated code like that either does
 * not work or invites someone to paste the real secret into the source.
 */
import type { ScanRule } from '../scan';
import { patternRule } from './pattern';

/** A name that holds a credential: api_key, apiKey, DB_PASSWORD, client-secret, authToken, ... */
const NAME = String.raw`[\w$.-]*?(?:key|secret|passw(?:or)?d|pwd|token|credential)[\w$.-]*`;

/** Values that stand for a credential, matched against the whole value. */
const PLACEHOLDER = [
  String.raw`your[\w.-]*`,
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

export const PLACEHOLDER_RULES: readonly ScanRule[] = [
  patternRule({
    id: 'placeholder/credential',
    name: 'PlaceholderCredential',
    kind: 'placeholder',
    severity: 'error',
    description: 'a placeholder credential assigned in code',
    fix: 'Read the real value from the environment (os.environ, process.env) or a secret store, or use Microsoft Entra ID; never write it into the source.',
    pattern: new RegExp(
      String.raw`(?<![\w$-])${NAME}["'\]]?\s*(?::=|=>|=|:)\s*(?<q>["'\x60]?)(?<secret>${PLACEHOLDER})\k<q>(?![\w<>-])`,
      'i',
    ),
  }),
];
