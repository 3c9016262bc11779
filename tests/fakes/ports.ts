/**
 * Hand-written fakes of our ports for in-process tests.
 */
import type { InputName, OutputName } from '../../tasks/CodeSynthesis/src/core/contract';
import { CancelledError } from '../../tasks/CodeSynthesis/src/core/errors';
import type { RuleInfo, SecretMatch, SecretScanner } from '../../tasks/CodeSynthesis/src/core/scan';
import type {
  CommandRequest,
  CommandResult,
  CommandRunner,
  Isolation,
} from '../../tasks/CodeSynthesis/src/core/validate';
import type {
  AgentHost,
  ServiceConnection,
} from '../../tasks/CodeSynthesis/src/adapters/pipeline/agent-host';
import type {
  FileReader,
  IssueLocation,
  FileToWrite,
  ModelClient,
  ModelInfo,
  ModelReply,
  ModelRequest,
  PathState,
  TaskOutcome,
  TreeStore,
} from '../../tasks/CodeSynthesis/src/core/ports';

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'untrusted';
  text: string;
}

export class FakeHost implements AgentHost {
  readonly lines: LogLine[] = [];
  readonly outputs: Partial<Record<OutputName, string>> = {};
  /** Every value passed to setSecret, in order. */
  readonly registered: string[] = [];
  readonly issues: { level: 'error' | 'warning'; message: string; at?: IssueLocation }[] = [];
  /** The SARIF logs published, in order. */
  readonly sarif: string[] = [];
  summary?: string;
  /** Every progress report, in order. */
  readonly progressed: { percent: number; text: string }[] = [];
  result?: { succeeded: boolean; outcome: TaskOutcome; message: string };
  readonly controller = new AbortController();
  readonly signal = this.controller.signal;
  constructor(
    public inputs: Partial<Record<InputName, string>> = {},
    public connections: Record<string, ServiceConnection> = {},
    public variables: Record<string, string> = {},
  ) {}
  getInput(name: InputName) {
    return this.inputs[name];
  }
  getVariable(name: string) {
    return this.variables[name];
  }
  getConnection(id: string): ServiceConnection {
    const c = this.connections[id];
    if (!c) throw new Error(`no connection ${id}`);
    return c;
  }
  setSecret(value: string) {
    this.registered.push(value);
  }
  secrets(): readonly string[] {
    return [...this.registered];
  }
  setOutput(name: OutputName, value: string) {
    this.outputs[name] = value;
  }
  publishSummary(markdown: string) {
    this.summary = markdown;
  }
  logIssue(level: 'error' | 'warning', message: string, at?: IssueLocation) {
    this.issues.push({ level, message, ...(at ? { at } : {}) });
  }
  publishCodeAnalysisLog(content: string) {
    this.sarif.push(content);
    return `/agent/_temp/CodeSynthesis-${this.sarif.length}.sarif`;
  }
  mask(text: string) {
    return this.registered.reduce((t, s) => (s ? t.split(s).join('***') : t), text);
  }
  proxy() {
    return undefined;
  }
  certificates() {
    return undefined;
  }
  debug(text: string) {
    this.lines.push({ level: 'debug', text });
  }
  info(text: string) {
    this.lines.push({ level: 'info', text });
  }
  warn(text: string) {
    this.lines.push({ level: 'warn', text });
  }
  untrusted(text: string) {
    this.lines.push({ level: 'untrusted', text });
  }
  progress(percent: number, text: string) {
    this.progressed.push({ percent, text });
  }
  setResult(outcome: TaskOutcome, message: string) {
    this.result = { succeeded: outcome === 'Succeeded', outcome, message };
  }
  /** Everything the host printed, the result message included. */
  allText(): string {
    return [
      ...this.lines.map((l) => l.text),
      ...this.issues.map((i) => i.message),
      this.result?.message ?? '',
      this.summary ?? '',
      JSON.stringify(this.outputs),
    ].join('\n');
  }
}

/** An in-memory output directory. */
export class MemoryTree implements TreeStore {
  readonly root = '/work/out';
  commits = 0;
  constructor(public files: Map<string, string> = new Map()) {}
  async inspect(items: readonly (string | FileToWrite)[]): Promise<PathState[]> {
    return items.map((item) => {
      const path = typeof item === 'string' ? item : item.path;
      const existing = this.files.get(path);
      if (existing === undefined) return { path, kind: 'absent' };
      return {
        path,
        kind: 'file',
        ...(typeof item !== 'string' && existing === item.content ? { sameContent: true } : {}),
      };
    });
  }
  async read(path: string): Promise<string | undefined> {
    return this.files.get(path);
  }
  async commit(files: readonly FileToWrite[], signal: AbortSignal): Promise<void> {
    if (signal.aborted) throw new CancelledError();
    this.commits++;
    for (const f of files) this.files.set(f.path, f.content);
  }
}

export class FakeModel implements ModelClient {
  readonly requests: ModelRequest[] = [];
  /** Replies served first, in order, before `reply` (which answers every request after them). */
  readonly queue: (Partial<ModelReply> & { content: string })[] = [];
  constructor(
    public reply: Partial<ModelReply> & { content: string },
    public info: ModelInfo = {
      provider: 'azureOpenAI',
      endpointHost: 'res.openai.azure.com',
      deployment: 'gpt',
      apiVersion: '2024-10-21',
    },
  ) {}
  async complete(request: ModelRequest): Promise<ModelReply> {
    this.requests.push(request);
    return {
      id: `chatcmpl-${this.requests.length}`,
      model: 'gpt-4o',
      finishReason: 'stop',
      usage: { promptTokens: 10, completionTokens: 20 },
      ...(this.queue.shift() ?? this.reply),
    };
  }
}

/** A CommandRunner that answers from a script, keeping every request (files included). */
export class FakeRunner implements CommandRunner {
  readonly requests: CommandRequest[] = [];
  /** Results served in order; the last one answers every run after them. */
  constructor(
    public results: Partial<CommandResult>[] = [{}],
    public isolation: Isolation = { kind: 'pid-namespace', mechanism: 'fake', readOnly: [] },
  ) {}
  async run(request: CommandRequest): Promise<CommandResult> {
    this.requests.push({ ...request, files: request.files.map((f) => ({ ...f })) });
    const scripted = this.results.length > 1 ? this.results.shift()! : (this.results[0] ?? {});
    return {
      exitCode: 0,
      durationMs: 1234,
      outputTail: '',
      timedOut: false,
      cancelled: false,
      isolation: this.isolation,
      ...scripted,
    };
  }
}

/** A secret scanner with fixed rules that finds each rule's `needle` text, for tests that need no secretlint. */
export class FakeSecretScanner implements SecretScanner {
  readonly rules: RuleInfo[];
  constructor(private readonly needles: Record<string, string> = {}) {
    this.rules = Object.keys(needles).map((id) => ({
      id,
      name: id.replace(/\W/g, ''),
      kind: 'secret' as const,
      severity: 'error' as const,
      description: `a fake secret (${id})`,
      fix: 'Remove it.',
    }));
  }
  async scan(files: readonly FileToWrite[]): Promise<SecretMatch[]> {
    return files.flatMap((f) =>
      Object.entries(this.needles).flatMap(([ruleId, needle]) => {
        const start = f.content.indexOf(needle);
        return start < 0 ? [] : [{ path: f.path, ruleId, start, end: start + needle.length }];
      }),
    );
  }
}

export class MemoryFiles implements FileReader {
  constructor(public files: Record<string, string> = {}) {}
  async readText(path: string): Promise<string> {
    const text = this.files[path];
    if (text === undefined) throw new Error(`no file ${path}`);
    return text;
  }
}

/** A model reply whose content is the structured JSON of these files. */
export function filesReply(files: Record<string, string>, summary = 'done'): { content: string } {
  return {
    content: JSON.stringify({
      files: Object.entries(files).map(([path, content]) => ({ path, content })),
      summary,
    }),
  };
}

/** The system message of a request. */
export function systemOf(request: ModelRequest): string {
  return request.messages.find((m) => m.role === 'system')?.content ?? '';
}

/** The last user message of a request. */
export function userOf(request: ModelRequest): string {
  return [...request.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
}

export const WEATHER_CARD = `service:
  name: weather
  language: python
  framework: flask
  endpoint: /weather
  description: Returns the current weather for a city
`;
