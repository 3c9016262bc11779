/**
 * Reply parsing. The model's text is untrusted: it is parsed, never evaluated, and its shape checked.
 */
import { ModelError, ReplyError } from './errors';
import { showPath } from './paths';
import type { ModelReply } from './ports';

/** A file as the model proposed it; the path is not checked yet (see paths.ts). */
export interface ProposedFile {
  path: string;
  content: string;
}

export interface ParsedReply {
  files: ProposedFile[];
  summary?: string;
  /** 'json' for structured output, 'fences' for fenced code blocks. */
  format: 'json' | 'fences';
}

/** Opening fence: three or more backticks, an optional language, then path=<path> (quotes optional). */
const FENCE_OPEN = /^(`{3,})[ \t]*([\w+#.-]*)[ \t]+(?:path|file)=(?:"([^"\n]+)"|'([^'\n]+)'|(\S+))[ \t]*$/;

/**
 * Turn a reply into proposed files.
 * @throws ReplyError when the reply was cut off (finish_reason 'length'), is not JSON of the expected
 *   shape and has no path-tagged fenced blocks, or has no files.
 * @throws ModelError when the service's content filter stopped the reply.
 */
export function parseReply(reply: ModelReply): ParsedReply {
  if (reply.finishReason === 'length') {
    throw new ReplyError(
      `the reply was cut off at the output token limit (${reply.usage.completionTokens} tokens).`,
      "Nothing was written. Raise 'maxOutputTokens' (or leave it empty for the model's maximum), or ask for a smaller service.",
    );
  }
  if (reply.finishReason === 'content_filter') {
    throw new ModelError(
      'the content filter stopped the reply.',
      'Nothing was written. Rephrase the intent.',
    );
  }
  const text = reply.content.trim();
  if (!text)
    throw new ReplyError('the reply is empty.', 'Nothing was written. Run again or check the deployment.');

  const json = parseJson(text);
  if (json !== undefined) return { ...checkShape(json), format: 'json' };
  const fenced = parseFences(text);
  if (fenced.length > 0) return { files: fenced, format: 'fences' };
  throw new ReplyError(
    'the reply is neither JSON of the form {"files":[{"path","content"}]} nor fenced code blocks tagged with path=.',
    'Nothing was written. Use a deployment that supports structured outputs (json_schema), or check the model follows the format in the README.',
  );
}

function parseJson(text: string): unknown {
  // Some models wrap JSON in a ```json fence even in JSON mode.
  const unwrapped = /^```(?:json)?[ \t]*\n([\s\S]*)\n```$/.exec(text)?.[1] ?? text;
  if (!unwrapped.startsWith('{')) return undefined;
  try {
    return JSON.parse(unwrapped);
  } catch {
    throw new ReplyError(
      'the reply starts as JSON but is not valid JSON.',
      'Nothing was written. Run again; if it persists, raise maxOutputTokens or use a deployment with structured outputs.',
    );
  }
}

function checkShape(value: unknown): { files: ProposedFile[]; summary?: string } {
  const problems: string[] = [];
  const root = value as { files?: unknown; summary?: unknown };
  if (typeof value !== 'object' || value === null || !Array.isArray(root.files)) {
    throw new ReplyError(
      "the JSON has no 'files' array.",
      'Nothing was written. The reply must be {"files":[{"path":"…","content":"…"}]}.',
    );
  }
  const files: ProposedFile[] = [];
  root.files.forEach((item: unknown, i: number) => {
    const f = item as { path?: unknown; content?: unknown };
    if (typeof item !== 'object' || item === null) problems.push(`files[${i}] is not an object`);
    else if (typeof f.path !== 'string') problems.push(`files[${i}].path is not a string`);
    else if (typeof f.content !== 'string') problems.push(`files[${i}].content is not a string`);
    else files.push({ path: f.path, content: f.content });
  });
  if (problems.length)
    throw new ReplyError(
      `the JSON does not match the schema: ${problems.slice(0, 10).join('; ')}.`,
      'Nothing was written.',
    );
  if (files.length === 0)
    throw new ReplyError('the reply has no files.', 'Nothing was written. Make the intent more specific.');
  return typeof root.summary === 'string' ? { files, summary: root.summary } : { files };
}

function parseFences(text: string): ProposedFile[] {
  const lines = text.split(/\r?\n/);
  const files: ProposedFile[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE_OPEN.exec(lines[i]!);
    if (!open) continue;
    const fence = open[1]!;
    const path = open[3] ?? open[4] ?? open[5]!;
    const body: string[] = [];
    let closed = false;
    for (i++; i < lines.length; i++) {
      if (lines[i]!.trimEnd() === fence) {
        closed = true;
        break;
      }
      body.push(lines[i]!);
    }
    if (!closed)
      throw new ReplyError(
        `the fenced block for ${showPath(path)} is not closed (the reply may be cut off).`,
        'Nothing was written. Raise maxOutputTokens and run again.',
      );
    files.push({ path, content: body.length ? body.join('\n') + '\n' : '' });
  }
  return files;
}
