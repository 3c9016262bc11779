/**
 * The outline of a planned generation: the files of the service without their content (each path, its
 * purpose and the files whose names it uses), asked for first; then the requests for the files, each
 * naming its paths in its last user message. ("Plan" is the write plan, plan.ts: this is the outline.)
 *
 * Every request of a planned generation builds on the request for every file (prompt.ts): the same
 * system and user messages (rules, limits, the organisation's instructions, the intent), so the rules
 * are stated once and the services' prompt caching sees one prefix. The outline request adds a user
 * message asking for the outline; a file request adds the checked outline as the model's reply, then a
 * user message naming the paths it wants and what they must agree with.
 *
 * What a file must agree with is given by the purposes in the outline (of the files it depends on and
 * of those that depend on it), not by their contents: every file call can then start at once, and the
 * requests are the same whatever order the calls finish in, so a run is reproducible and reusable.
 */
import { PathError, ReplyError } from './errors';
import { checkPaths, showPath, type PathRules } from './paths';
import type { ChatMessage, FileToWrite, ModelReply, ModelRequest } from './ports';
import { parseReply } from './reply';

/** The structured-output schema of the outline (strict): every property required, no others allowed. */
export const OUTLINE_SCHEMA = {
  name: 'file_outline',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['files', 'summary'],
    properties: {
      files: {
        type: 'array',
        description: 'Every file of the service, without content.',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['path', 'purpose', 'dependsOn'],
          properties: {
            path: { type: 'string', description: 'Relative path, forward slashes, no "..".' },
            purpose: {
              type: 'string',
              description:
                'What the file is for, and the names other files use from it (functions, classes, routes, settings).',
            },
            dependsOn: {
              type: 'array',
              description: 'Paths of files of this outline whose names this file uses.',
              items: { type: 'string' },
            },
          },
        },
      },
      summary: { type: 'string', description: 'One paragraph: the design, and how the files fit together.' },
    },
  },
} as const;

/**
 * The version of the outline and file requests' wording, part of the reuse fingerprint: change it when
 * the texts below change.
 */
export const OUTLINE_PROMPT_VERSION = 1;

/** A file of the outline: a checked path, what it is for, and the outline's files it uses. */
export interface OutlineFile {
  path: string;
  purpose: string;
  dependsOn: string[];
}

export interface Outline {
  files: OutlineFile[];
  /** The model's summary of the design: untrusted text. */
  summary?: string;
}

/** The longest purpose kept: the outline goes into every file request. */
const MAX_PURPOSE_CHARS = 1000;

const ASK_OUTLINE = [
  'Do not write the files yet. First outline them: list every file the service needs, under the same rules, without any content.',
  'Reply with JSON only: {"files":[{"path":"relative/path","purpose":"...","dependsOn":["other/path"]}],"summary":"..."}.',
  'For each file, "purpose" says what it is for and the names other files use from it (functions, classes, routes, settings, commands); "dependsOn" lists the paths of this outline whose names it uses.',
  'Each file will then be written in a request of its own that sees this outline and not the other files: the purposes are the contract between the files.',
].join('\n');

/** The request for the outline: the request for every file, plus a user message asking for the outline. */
export function buildOutlineRequest(primary: ModelRequest): ModelRequest {
  return {
    ...primary,
    messages: [...primary.messages, { role: 'user', content: ASK_OUTLINE }],
    responseSchema: { name: OUTLINE_SCHEMA.name, schema: OUTLINE_SCHEMA.schema },
  };
}

/**
 * The outline as the file requests show it to the model: the checked paths, purposes and dependencies,
 * as JSON. Deterministic.
 */
export function outlineText(outline: Outline): string {
  return JSON.stringify({ files: outline.files, summary: outline.summary ?? '' });
}

/** The conversation every file request (and a repair) continues: the first request and the outline. */
export function outlineConversation(primary: ModelRequest, outline: Outline): ChatMessage[] {
  return [...primary.messages, { role: 'assistant', content: outlineText(outline) }];
}

/**
 * The request for some files of the outline. Its last user message names the paths (the last line is
 * them as a JSON array) and what they must agree with; the reply is the primary protocol
 * (`{"files":[{"path","content"}],"summary"}`) for exactly those paths.
 */
export function buildFileRequest(
  primary: ModelRequest,
  outline: Outline,
  paths: readonly string[],
): ModelRequest {
  const byPath = new Map(outline.files.map((f) => [f.path, f]));
  const asked = new Set(paths);
  const line = (path: string) => `- ${JSON.stringify(path)}: ${byPath.get(path)?.purpose ?? ''}`;
  const uses = unique(paths.flatMap((p) => byPath.get(p)?.dependsOn ?? [])).filter((p) => !asked.has(p));
  const usedBy = outline.files
    .filter((f) => !asked.has(f.path) && f.dependsOn.some((d) => asked.has(d)))
    .map((f) => f.path);
  const ask = [
    `Now write ${paths.length === 1 ? 'this file' : 'these files'} of the outline, complete, under the same rules:`,
    ...paths.map(line),
    ...(uses.length
      ? [
          'It must agree with these files of the outline, which are written at the same time from the same outline: use the names their purposes give.',
          ...uses.map(line),
        ]
      : []),
    ...(usedBy.length
      ? ['These files of the outline use it: give them the names their purposes expect.', ...usedBy.map(line)]
      : []),
    'Reply with JSON only: {"files":[{"path":"relative/path","content":"..."}],"summary":"..."}, holding exactly these paths and no other file:',
    JSON.stringify(paths),
  ].join('\n');
  return {
    ...primary,
    messages: [...outlineConversation(primary, outline), { role: 'user', content: ask }],
  };
}

/**
 * The outline in a reply, its paths checked as the files' will be (checkPaths: a hostile outline
 * cannot make a file call ask for `.git/config`); dependencies on paths not in the outline, and on the
 * file itself, are dropped.
 * @throws ReplyError when the reply was cut off, is not JSON of the outline's shape, or lists no file.
 * @throws PathError, LimitError (more files than maxFiles), InputError (a bad deniedPaths glob): see checkPaths.
 */
export function parseOutline(reply: ModelReply, rules: PathRules): Outline {
  if (reply.finishReason === 'length')
    throw new ReplyError(
      `the outline was cut off at the output token limit (${reply.usage.completionTokens} tokens).`,
      "Nothing was written. Raise 'maxOutputTokens' (or leave it empty for the model's maximum).",
    );
  const value = parseJson(reply.content);
  const root = value as { files?: unknown; summary?: unknown };
  if (typeof value !== 'object' || value === null || !Array.isArray(root.files))
    throw new ReplyError(
      'the outline is not JSON of the form {"files":[{"path","purpose","dependsOn"}],"summary"}.',
      'Nothing was written. Use a deployment that supports structured outputs (json_schema).',
    );
  const problems: string[] = [];
  const raw: { path: string; purpose: string; dependsOn: string[] }[] = [];
  root.files.forEach((item: unknown, i: number) => {
    const f = item as { path?: unknown; purpose?: unknown; dependsOn?: unknown };
    if (typeof item !== 'object' || item === null) problems.push(`files[${i}] is not an object`);
    else if (typeof f.path !== 'string') problems.push(`files[${i}].path is not a string`);
    else if (f.purpose !== undefined && typeof f.purpose !== 'string')
      problems.push(`files[${i}].purpose is not a string`);
    else if (
      f.dependsOn !== undefined &&
      (!Array.isArray(f.dependsOn) || f.dependsOn.some((d) => typeof d !== 'string'))
    )
      problems.push(`files[${i}].dependsOn is not a list of paths`);
    else
      raw.push({
        path: f.path,
        purpose: (f.purpose ?? '').trim().slice(0, MAX_PURPOSE_CHARS),
        dependsOn: (f.dependsOn as string[] | undefined) ?? [],
      });
  });
  if (problems.length)
    throw new ReplyError(
      `the outline does not match its schema: ${problems.slice(0, 10).join('; ')}.`,
      'Nothing was written.',
    );
  if (raw.length === 0)
    throw new ReplyError('the outline lists no file.', 'Nothing was written. Make the intent more specific.');
  const checked = checkPaths(
    raw.map((f) => ({ path: f.path, content: '' })),
    rules,
  );
  const normalised = new Map(raw.map((f, i) => [f.path, checked[i]!.path]));
  const known = new Set(checked.map((f) => f.path));
  const resolve = (path: string): string | undefined => {
    const found = normalised.get(path) ?? lightlyNormalised(path);
    return known.has(found) ? found : undefined;
  };
  const files = raw.map((f, i) => {
    const path = checked[i]!.path;
    const dependsOn = unique(
      f.dependsOn.map(resolve).filter((d): d is string => d !== undefined && d !== path),
    );
    return { path, purpose: f.purpose, dependsOn };
  });
  return typeof root.summary === 'string' ? { files, summary: root.summary } : { files };
}

/**
 * The files a file call's reply holds, when they are exactly the paths it asked for (after the same
 * normalisation as checkPaths), in the order asked.
 * @throws ReplyError when the reply is cut off, malformed, holds a path it was not asked for or an
 *   unusable one, or lacks an asked path: an error of that call, which is asked again.
 * @throws LimitError when the files alone are larger than maxTotalSizeKB.
 */
export function readFileReply(reply: ModelReply, asked: readonly string[], rules: PathRules): FileToWrite[] {
  const parsed = parseReply(reply);
  let files: FileToWrite[];
  try {
    files = checkPaths(parsed.files, { ...rules, maxFiles: Math.max(rules.maxFiles, parsed.files.length) });
  } catch (err) {
    if (!(err instanceof PathError)) throw err;
    throw new ReplyError(
      `the reply for ${listPaths(asked)} holds paths that cannot be written.`,
      'Nothing was written.',
    );
  }
  const got = new Map(files.map((f) => [f.path, f]));
  const missing = asked.filter((p) => !got.has(p));
  const extra = files.map((f) => f.path).filter((p) => !asked.includes(p));
  if (missing.length || extra.length)
    throw new ReplyError(
      `the reply for ${listPaths(asked)} ${[
        ...(missing.length ? [`lacks ${listPaths(missing)}`] : []),
        ...(extra.length ? [`holds ${listPaths(extra)}, which it was not asked for`] : []),
      ].join(' and ')}.`,
      'Nothing was written.',
    );
  return asked.map((p) => got.get(p)!);
}

/** Paths for a message: escaped (showPath), at most 5, then a count. */
export function listPaths(paths: readonly string[]): string {
  const shown = paths.slice(0, 5).map(showPath).join(', ');
  return paths.length > 5 ? `${shown} and ${paths.length - 5} more` : shown;
}

/** JSON text, maybe in a ```json fence as some models send it even in JSON mode; undefined when not JSON. */
function parseJson(text: string): unknown {
  const trimmed = text.trim();
  const unwrapped = /^```(?:json)?[ \t]*\n([\s\S]*)\n```$/.exec(trimmed)?.[1] ?? trimmed;
  try {
    return JSON.parse(unwrapped);
  } catch {
    return undefined;
  }
}

/** The harmless part of checkPaths' normalisation, to match a dependency to an outline path. */
function lightlyNormalised(path: string): string {
  return path
    .replace(/\\/g, '/')
    .split('/')
    .filter((s) => s !== '' && s !== '.')
    .join('/');
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}
