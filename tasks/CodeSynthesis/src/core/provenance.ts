/**
 * Provenance: from any generated line back to the prompt that made it. Each model call is stored as
 * `.synthesis/prompts/<reply id>.json` (the request as sent and the reply's metadata, secrets masked);
 * the manifest points to it; on request (provenanceHeaders) each source file starts with a one- or
 * two-line comment naming the task, the intent's hash, the prompt file, the model and the build.
 */
import { sha256, type ManifestCall } from './manifest';
import type { FileToWrite, ModelInfo, ModelReply, ModelRequest } from './ports';
import { messagesText } from './prompt';

/** Folder of the prompt store, relative to the output directory. */
export const PROMPTS_DIR = '.synthesis/prompts';

const RESERVED = /^(con|prn|aux|nul|com\d|lpt\d)$/i;

/**
 * The prompt file's path for a reply. The reply id is the service's text: only letters, digits, '-' and
 * '_' are kept (at most 100), so it cannot leave the folder, hide, or name a Windows device; an id
 * with nothing left becomes `reply-<sha256 of the reply's content, 12 hex>`. A name already `taken` by an
 * earlier call of the run (a service that reuses ids) gets `-2`, `-3`, ... (compared case-insensitively).
 */
export function promptFilePath(
  reply: Pick<ModelReply, 'id' | 'content'>,
  taken: readonly string[] = [],
): string {
  let name = reply.id
    .replace(/[^A-Za-z0-9_-]+/g, '_')
    .slice(0, 100)
    .replace(/^_+|_+$/g, '');
  if (!name) name = `reply-${sha256(reply.content).slice(0, 12)}`;
  if (RESERVED.test(name)) name = `reply-${name}`;
  const used = new Set(taken.map((t) => t.toLowerCase()));
  let file = `${PROMPTS_DIR}/${name}.json`;
  for (let n = 2; used.has(file.toLowerCase()); n++) file = `${PROMPTS_DIR}/${name}-${n}.json`;
  return file;
}

/**
 * The reply with every string the service chose (id, model, system fingerprint, finish reason) passed
 * through the host's masker of registered secrets: a service that echoes the API key in them must not
 * put it in a file name, the manifest, the log or the summary.
 */
export function maskReplyFields(reply: ModelReply, mask: (text: string) => string): ModelReply {
  return {
    ...reply,
    id: mask(reply.id),
    model: mask(reply.model),
    finishReason: mask(reply.finishReason),
    ...(reply.systemFingerprint !== undefined ? { systemFingerprint: mask(reply.systemFingerprint) } : {}),
  };
}

export interface PromptRecordInput {
  request: ModelRequest;
  reply: ModelReply;
  provider: string;
  deployment?: string;
  startedAt: Date;
  finishedAt: Date;
  limits: { maxFiles: number; maxTotalBytes: number };
}

/**
 * The prompt record: what was sent (the exact request body when the client reports it, else the
 * messages, response format and settings as core built them) and what came back, without the reply's
 * content (the files are in the tree, hashed in the manifest). Pass the text through the host's
 * masker before writing it.
 */
export function buildPromptRecord(input: PromptRecordInput): Record<string, unknown> {
  const { request, reply } = input;
  const sent =
    reply.request ??
    ({
      messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: request.responseSchema.name,
          schema: request.responseSchema.schema,
          strict: true,
        },
      },
      ...(request.settings.maxOutputTokens !== undefined
        ? { max_completion_tokens: request.settings.maxOutputTokens }
        : {}),
      ...(request.settings.temperature !== undefined ? { temperature: request.settings.temperature } : {}),
      ...(request.settings.seed !== undefined ? { seed: request.settings.seed } : {}),
    } as Record<string, unknown>);
  return {
    schemaVersion: 1,
    provider: input.provider,
    ...(input.deployment ? { deployment: input.deployment } : {}),
    request: sent,
    limits: {
      maxFiles: input.limits.maxFiles,
      maxTotalSizeKB: Math.floor(input.limits.maxTotalBytes / 1024),
      ...(request.settings.maxOutputTokens !== undefined
        ? { maxOutputTokens: request.settings.maxOutputTokens }
        : {}),
    },
    reply: {
      id: reply.id,
      model: reply.model,
      ...(reply.systemFingerprint ? { systemFingerprint: reply.systemFingerprint } : {}),
      finishReason: reply.finishReason,
      usage: { ...reply.usage },
      contentSha256: sha256(reply.content),
    },
    startedAt: input.startedAt.toISOString(),
    durationMs: input.finishedAt.getTime() - input.startedAt.getTime(),
  };
}

export interface CallInput {
  /** Why the call was made: the first request for files, or a repair after validateCommand failed. */
  purpose: ManifestCall['purpose'];
  request: ModelRequest;
  reply: ModelReply;
  model: ModelInfo;
  /** From promptFilePath(reply). */
  promptFile: string;
  startedAt: Date;
  finishedAt: Date;
  limits: { maxFiles: number; maxTotalBytes: number };
  /** The host's masker of registered secrets. */
  mask(text: string): string;
}

/**
 * One model call as the task records it: the prompt record to write (every string masked) and the
 * manifest's entry pointing to it.
 */
export function recordCall(input: CallInput): { record: FileToWrite; call: ManifestCall } {
  const { reply } = input;
  const record = maskStrings(
    buildPromptRecord({
      request: input.request,
      reply,
      provider: input.model.provider,
      ...(input.model.deployment ? { deployment: input.model.deployment } : {}),
      startedAt: input.startedAt,
      finishedAt: input.finishedAt,
      limits: input.limits,
    }),
    input.mask,
  );
  return {
    record: { path: input.promptFile, content: JSON.stringify(record, null, 2) + '\n' },
    call: {
      purpose: input.purpose,
      replyId: reply.id,
      promptFile: input.promptFile,
      model: reply.model,
      ...(reply.systemFingerprint ? { systemFingerprint: reply.systemFingerprint } : {}),
      finishReason: reply.finishReason,
      startedAt: input.startedAt.toISOString(),
      durationMs: input.finishedAt.getTime() - input.startedAt.getTime(),
      usage: { ...reply.usage },
      messages: input.request.messages.length,
      messagesSha256: sha256(messagesText(input.request)),
    },
  };
}

/** Every string in a JSON-shaped value passed through `mask` (masking the serialised text would miss escaped secrets). */
function maskStrings<T>(value: T, mask: (text: string) => string): T {
  if (typeof value === 'string') return mask(value) as T;
  if (Array.isArray(value)) return value.map((v) => maskStrings(v, mask)) as T;
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskStrings(v, mask)])) as T;
  return value;
}

/** How a file's language writes a comment, by file name; undefined for JSON and other comment-less formats. */
type CommentStyle = { open: string; close?: string };

const HASH: CommentStyle = { open: '#' };
const SLASHES: CommentStyle = { open: '//' };
const BLOCK: CommentStyle = { open: '/*', close: '*/' };
const MARKUP: CommentStyle = { open: '<!--', close: '-->' };

const BY_EXTENSION: Record<string, CommentStyle> = {
  ...Object.fromEntries(
    [
      'py',
      'sh',
      'bash',
      'rb',
      'pl',
      'r',
      'ps1',
      'psm1',
      'yaml',
      'yml',
      'toml',
      'tf',
      'cfg',
      'conf',
      'mk',
    ].map((e) => [e, HASH]),
  ),
  ...Object.fromEntries(
    [
      'js',
      'mjs',
      'cjs',
      'jsx',
      'ts',
      'mts',
      'cts',
      'tsx',
      'go',
      'java',
      'kt',
      'kts',
      'scala',
      'cs',
      'fs',
      'swift',
      'rs',
      'c',
      'h',
      'cc',
      'cpp',
      'hpp',
      'dart',
      'scss',
      'less',
      'proto',
    ].map((e) => [e, SLASHES]),
  ),
  css: BLOCK,
  ...Object.fromEntries(
    ['html', 'htm', 'xml', 'csproj', 'props', 'targets', 'svg', 'md', 'vue'].map((e) => [e, MARKUP]),
  ),
};
const BY_NAME: Record<string, CommentStyle> = {
  dockerfile: HASH,
  makefile: HASH,
  '.dockerignore': HASH,
  '.gitignore': HASH,
  'requirements.txt': HASH,
  'requirements-dev.txt': HASH,
};

/** The comment style for a path, or undefined when the format has no comments (JSON, plain text, ...). */
export function commentStyle(path: string): CommentStyle | undefined {
  const name = path.slice(path.lastIndexOf('/') + 1).toLowerCase();
  if (BY_NAME[name]) return BY_NAME[name];
  if (name.startsWith('dockerfile.') || name.endsWith('.dockerfile')) return HASH;
  const dot = name.lastIndexOf('.');
  return dot > 0 ? BY_EXTENSION[name.slice(dot + 1)] : undefined;
}

export interface HeaderFacts {
  version: string;
  intentSha256: string;
  promptFile: string;
  model: string;
  deployment?: string;
  buildId?: string;
  /** Files unpacked from an archive (provider 'archive'): no prompt; the second line names the archive. */
  archive?: { name: string; sha256: string };
}

/** Keep a value from the service or the agent to a safe character set inside a comment (no `*\/`, `-->`, line breaks). */
function clean(value: string): string {
  return value
    .replace(/[^\w.:@+/-]+/g, '_')
    .replace(/\*\/|-->|--/g, '_')
    .slice(0, 80);
}

/** The header's two lines of text, without comment markers. */
export function headerLines(facts: HeaderFacts): [string, string] {
  const build = facts.buildId ? ` in build ${clean(facts.buildId)}` : '';
  const deployment =
    facts.deployment && facts.deployment !== facts.model ? ` (deployment ${clean(facts.deployment)})` : '';
  return [
    `Generated by CodeSynthesis ${clean(facts.version)}${build} from intent sha256:${facts.intentSha256.slice(0, 12)}.`,
    facts.archive
      ? `Unpacked from archive ${clean(facts.archive.name)} sha256:${clean(facts.archive.sha256).slice(0, 12)}; no model.`
      : `Prompt: ${clean(facts.promptFile)}; model ${clean(facts.model)}${deployment}.`,
  ];
}

/**
 * Add the provenance header to each file whose format has comments; others are returned unchanged.
 * The header goes after what must stay first: a shebang, an encoding line, an XML declaration or
 * doctype, Dockerfile parser directives. Line endings follow the file's first line break.
 */
export function addProvenanceHeaders(files: readonly FileToWrite[], facts: HeaderFacts): FileToWrite[] {
  const [first, second] = headerLines(facts);
  return files.map((file) => {
    const style = commentStyle(file.path);
    // Markdown front matter must open the file; such a file keeps its text as written.
    if (!style || (/\.md$/i.test(file.path) && file.content.startsWith('---'))) return file;
    const eol = /\r\n/.test(file.content.slice(0, 4096)) ? '\r\n' : '\n';
    const comment = (text: string) => `${style.open} ${text}${style.close ? ' ' + style.close : ''}`;
    const header = comment(first) + eol + comment(second) + eol;
    const lines = file.content.split(/(?<=\n)/);
    let keep = 0;
    while (keep < lines.length && keep < 3 && mustStayFirst(lines[keep]!, file.path)) keep++;
    const head = lines.slice(0, keep).join('');
    const gap = head && !head.endsWith('\n') ? eol : '';
    return { path: file.path, content: head + gap + header + lines.slice(keep).join('') };
  });
}

function mustStayFirst(line: string, path: string): boolean {
  return (
    /^#!/.test(line) ||
    /^#.*coding[:=]/.test(line) ||
    /^\s*<\?xml\b/.test(line) ||
    /^\s*<!doctype\b/i.test(line) ||
    /^%YAML\b/.test(line) ||
    (/dockerfile/i.test(path) && /^#\s*(syntax|escape|check)\s*=/i.test(line))
  );
}
