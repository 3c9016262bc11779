/**
 * The offline provider's built-in templates: a validated service card in, a complete small service
 * out, byte-identical for the same card (no dates, randomness or machine details).
 */
import { bulletList, IntentError } from '../errors';
import type { ServiceCard } from '../intent';
import type { FileToWrite } from '../ports';
import { parseRoute, type RouteSegment } from '../route';
import { renderCsharpAspNetCore } from './csharp-aspnetcore';
import { renderGoNetHttp } from './go-net-http';
import { renderNodeExpress } from './node-express';
import { renderPythonFlask } from './python-flask';

/** A (language, framework) pair the offline provider can render. */
export interface TemplateChoice {
  readonly language: string;
  readonly framework: string;
  /** Other names a card may give the language and the framework (lower case). */
  readonly aliases?: { readonly language?: readonly string[]; readonly framework?: readonly string[] };
}

const TEMPLATES: readonly (TemplateChoice & { render(card: ServiceCard): FileToWrite[] })[] = [
  { language: 'python', framework: 'flask', render: renderPythonFlask },
  { language: 'node', framework: 'express', render: renderNodeExpress },
  { language: 'typescript', framework: 'express', render: renderNodeExpress },
  {
    language: 'go',
    framework: 'net-http',
    aliases: { language: ['golang'], framework: ['nethttp', 'net/http'] },
    render: renderGoNetHttp,
  },
  {
    language: 'csharp',
    framework: 'aspnetcore',
    aliases: { language: ['c#', 'dotnet'], framework: ['asp.net core', 'asp.net-core', 'aspnet-core'] },
    render: renderCsharpAspNetCore,
  },
];

/**
 * The (language, framework) pairs with an offline template, with the other names each accepts; node
 * and typescript both get TypeScript. The one list the README and the error message name.
 */
export const SUPPORTED_TEMPLATES: readonly TemplateChoice[] = TEMPLATES.map(
  ({ language, framework, aliases }) => ({ language, framework, ...(aliases ? { aliases } : {}) }),
);

const names = (canonical: string, aliases: readonly string[] | undefined) => [canonical, ...(aliases ?? [])];

/**
 * Render the service a card describes, every path relative, '/'-separated and under `card.name/`.
 * Card text is only ever placed inside quoted literals, so a description cannot inject code.
 * @throws IntentError when no template fits (language, framework), listing the supported pairs; when
 *   the card's dependencies do not fit the stack; or when the card was not validated by parseIntent.
 */
export function renderService(card: ServiceCard): FileToWrite[] {
  checkCard(card);
  const template = templateOf(card.language, card.framework);
  if (!template) {
    const supported = SUPPORTED_TEMPLATES.map((t) => `${t.language}/${t.framework}`).join(', ');
    throw new IntentError(
      `language '${card.language}' with framework '${card.framework}' has no offline template; supported: ${supported}.`,
      'Change service.language and service.framework, or use provider azureOpenAI or openAICompatible for other stacks.',
    );
  }
  return template.render(card);
}

/**
 * The offline template for a (language, framework) pair, by its own names or its aliases (any letter
 * case); undefined when there is none.
 */
export function findTemplate(language: string, framework: string): TemplateChoice | undefined {
  const template = templateOf(language, framework);
  return template && SUPPORTED_TEMPLATES[TEMPLATES.indexOf(template)];
}

function templateOf(language: string, framework: string) {
  const [lang, fw] = [language.toLowerCase(), framework.toLowerCase()];
  return TEMPLATES.find(
    (t) =>
      names(t.language, t.aliases?.language).includes(lang) &&
      names(t.framework, t.aliases?.framework).includes(fw),
  );
}

/**
 * Names go into paths, commands and identifiers unquoted, and route segments into framework routes;
 * parseIntent guarantees their shape, and this re-check keeps a hand-built card from reaching the
 * templates with a hostile name or with segments its path does not mean.
 */
function checkCard(card: ServiceCard): void {
  const problems: string[] = [];
  if (!/^[a-z][a-z0-9-]{0,62}$/.test(card.name))
    problems.push(`'service.name' must be lower-case letters, digits and '-' (got '${card.name}')`);
  if (!Number.isInteger(card.port) || card.port < 1 || card.port > 65535)
    problems.push(`'service.port' must be a whole number from 1 to 65535`);
  for (const e of card.env)
    if (!/^[A-Z_][A-Z0-9_]*$/.test(e.name)) problems.push(`env name '${e.name}' must be UPPER_SNAKE_CASE`);
  for (const e of card.endpoints) {
    const parsed = parseRoute(e.path);
    if (
      !/^(GET|POST|PUT|PATCH|DELETE)$/.test(e.method) ||
      !e.path.startsWith('/') ||
      parsed.problems.length > 0 ||
      routeKey(parsed.segments) !== routeKey(e.segments)
    )
      problems.push(`endpoint '${e.method} ${e.path}' is not valid`);
  }
  if (problems.length)
    throw new IntentError(
      `the service card cannot be rendered:${bulletList(problems)}`,
      'See "Service card" in the README for the fields and their format.',
    );
}

/** The segments as one string, to check that a card's segments are those its path means. */
function routeKey(segments: readonly RouteSegment[]): string {
  return JSON.stringify(segments.map((s) => (s.kind === 'literal' ? [s.text] : [s.name, s.type])));
}
