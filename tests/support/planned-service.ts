/**
 * A model that knows a whole service and answers the way a planned generation asks: the outline request
 * (response schema `file_outline`) with the paths, purposes and dependencies of the files; a file
 * request with exactly the paths its last user message names (the JSON array on its last line); any
 * other request (one reply) with every file. Used by the in-process fake model (tests/fakes) and by the
 * fake Azure OpenAI (`respond`), so unit, bundle tests and the bench script the same service.
 */
import type { ModelRequest } from '../../tasks/CodeSynthesis/src/core/ports';
import { azureAnswers, completion, type FakeAnswer, type SeenChat } from '../fake-servers/azure-openai';

/** A file of the service: its content, and optionally its purpose and the files it uses. */
export interface ServiceFile {
  content: string;
  purpose?: string;
  dependsOn?: string[];
}

export type Service = Record<string, ServiceFile | string>;

/** What a request asks for. */
export type Asked = { kind: 'outline' } | { kind: 'files'; paths: string[] } | { kind: 'all' };

/** What a request (its messages and schema name) asks for. */
export function askedFor(messages: readonly { role: string; content: string }[], schemaName: string): Asked {
  if (schemaName === 'file_outline') return { kind: 'outline' };
  const last = [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  const line = last.trimEnd().split('\n').at(-1) ?? '';
  if (/^Now write/.test(last) && line.startsWith('[')) return { kind: 'files', paths: JSON.parse(line) };
  return { kind: 'all' };
}

/** The same, for a ModelRequest. */
export function askedIn(request: ModelRequest): Asked {
  return askedFor(request.messages, request.responseSchema.name);
}

/** The outline of the service, as the model writes it. */
export function outlineOf(service: Service): string {
  return JSON.stringify({
    files: Object.entries(service).map(([path, f]) => ({
      path,
      purpose: typeof f === 'string' ? `the ${path} file` : (f.purpose ?? `the ${path} file`),
      dependsOn: typeof f === 'string' ? [] : (f.dependsOn ?? []),
    })),
    summary: `A service of ${Object.keys(service).length} files.`,
  });
}

/** The reply with these files of the service (the primary protocol). */
export function filesOf(service: Service, paths: readonly string[] = Object.keys(service)): string {
  return JSON.stringify({
    files: paths.map((path) => {
      const f = service[path];
      return { path, content: typeof f === 'string' ? f : (f?.content ?? '') };
    }),
    summary: `${paths.length} file(s).`,
  });
}

/** The content of the reply the service gives to what was asked. */
export function answerTo(service: Service, asked: Asked): string {
  if (asked.kind === 'outline') return outlineOf(service);
  if (asked.kind === 'files') return filesOf(service, asked.paths);
  return filesOf(service);
}

/** A service of `count` files of about `bytes` bytes each, under `folder/`. */
export function sizedService(count: number, bytes: number, folder = 'svc'): Service {
  const service: Service = {};
  for (let i = 1; i <= count; i++) {
    const path = `${folder}/module_${String(i).padStart(2, '0')}.py`;
    const line = `value_${i} = ${JSON.stringify('x'.repeat(40))}\n`;
    service[path] = {
      content: line.repeat(Math.max(1, Math.round(bytes / line.length))),
      purpose: `module ${i}: defines value_${i}`,
      dependsOn: i > 1 ? [`${folder}/module_01.py`] : [],
    };
  }
  return service;
}

/** What a script may make the fake service do to some files' calls. */
export interface ServiceScript {
  /** Paths whose first file call gets a 500 (the client retries it). */
  failFirst?: readonly string[];
  /** Paths whose file calls always answer with another path: the file never comes. */
  never?: readonly string[];
  /** How fast the replies stream, in chunks per second. */
  tokensPerSecond?: number;
}

/**
 * The fake Azure OpenAI's `respond` for a service: each request gets what it asks for, streamed, with
 * `max_completion_tokens` honoured as the services do (a reply longer than it is cut there, finish_reason
 * `length`; a token is 4 characters here, as the fake streams them).
 */
export function serviceResponder(
  service: Service,
  script: ServiceScript = {},
): (chat: SeenChat) => FakeAnswer {
  const failed = new Set<string>();
  return (chat) => {
    const body = chat.body as {
      messages: { role: string; content: string }[];
      response_format?: { json_schema?: { name?: string } };
      max_completion_tokens?: number;
    };
    const asked = askedFor(body.messages, body.response_format?.json_schema?.name ?? '');
    const stream = script.tokensPerSecond ? { tokensPerSecond: script.tokensPerSecond } : {};
    if (asked.kind === 'files') {
      const first = asked.paths.find((p) => script.failFirst?.includes(p) && !failed.has(p));
      if (first) {
        failed.add(first);
        return azureAnswers.serverError();
      }
      if (asked.paths.some((p) => script.never?.includes(p)))
        return { ...completion(filesOf({ 'elsewhere/other.txt': 'x\n' })), stream };
    }
    let content = answerTo(service, asked);
    let finishReason = 'stop';
    const limit = body.max_completion_tokens;
    if (limit !== undefined && content.length > limit * 4) {
      content = content.slice(0, limit * 4);
      finishReason = 'length';
    }
    return {
      ...completion(content, {
        finishReason,
        promptTokens: 200,
        completionTokens: Math.ceil(content.length / 4),
      }),
      stream,
    };
  };
}
