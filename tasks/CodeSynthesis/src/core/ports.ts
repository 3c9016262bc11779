/**
 * Ports: the interfaces, by role, through which the pure core reaches the world.
 * Adapters in ../adapters implement them, one technology each.
 */
import type { InputName, OutputName } from './contract';
import type { Intent } from './intent';

/** Where log text goes. `untrusted` is for text that came from outside (the model, a remote error body). */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  /** Print text we do not control; the host neutralises logging commands (`##vso[`) in it. */
  untrusted(message: string, level?: 'debug' | 'info' | 'warn'): void;
}

/**
 * How the run ended: SucceededWithIssues when the files were written with scan findings; Cancelled
 * when the agent cancelled it (nothing was written).
 */
export type TaskOutcome = 'Succeeded' | 'SucceededWithIssues' | 'Failed' | 'Cancelled';

/** Where an issue points: a path relative to the output directory and a 1-based line. */
export interface IssueLocation {
  path: string;
  line: number;
}

/** The build around the run, from the agent's variables; every field is absent outside a pipeline. */
export interface BuildInfo {
  buildId?: string;
  buildNumber?: string;
  definitionName?: string;
  repository?: string;
  commit?: string;
}

/**
 * The pipeline (or CLI) around the task, as the use case and run.ts need it: inputs, outputs, the
 * summary, issues, the SARIF log, the masker and the result. Service connections, variables, secrets and
 * the agent's network settings are the adapters' business (adapters/pipeline/agent-host.ts).
 */
export interface PipelineHost extends Logger {
  getInput(name: InputName): string | undefined;
  setOutput(name: OutputName, value: string): void;
  /** Attach markdown to the run's summary tab. */
  publishSummary(markdown: string): void;
  /** A task issue (error or warning) pointing at a generated file's line. `message` is safe to print. */
  logIssue(level: 'error' | 'warning', message: string, at?: IssueLocation): void;
  /**
   * Write a SARIF log and publish it where code-analysis tools look for it (the pipeline's
   * CodeAnalysisLogs artifact). Returns the file's absolute path, or undefined when none was written.
   */
  publishCodeAnalysisLog(content: string): string | undefined;
  /** `text` with every value registered as a secret replaced by '***'. */
  mask(text: string): string;
  /** Aborted when the agent cancels the run (SIGINT/SIGTERM). */
  readonly signal: AbortSignal;
  /** The task result. Only run.ts calls it. */
  setResult(result: TaskOutcome, message: string): void;
  /**
   * How far the run has come, 0-100, and what it is doing (`task.setprogress` in a pipeline, a line on
   * stderr from the CLI). `text` is our own text, safe to print.
   */
  progress(percent: number, text: string): void;
}

/** Reads a secret by name (Key Vault). Throws CredentialError naming the store and the permission. */
export interface SecretStore {
  /** `signal` aborts the read (cancellation or the time budget). */
  getSecret(name: string, signal?: AbortSignal): Promise<string>;
}

/** Model settings a user may set; undefined means "let the service decide". */
export interface ModelSettings {
  temperature?: number;
  maxOutputTokens?: number;
  seed?: number;
}

/** One message of a chat: the system prompt, the user's request, a reply of the model (`assistant`). */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/**
 * One request for files: the conversation so far. The first request is a system and a user message; a
 * repair request is the previous request plus the model's reply plus a user message with what failed.
 */
export interface ModelRequest {
  messages: readonly ChatMessage[];
  /** JSON schema for structured outputs (response_format json_schema, strict). */
  responseSchema: { name: string; schema: Record<string, unknown> };
  settings: ModelSettings;
  /** The parsed intent, for providers that render locally (offline). */
  intent: Intent;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

/** The raw reply; its content is untrusted text that reply.ts parses. */
export interface ModelReply {
  id: string;
  model: string;
  content: string;
  /** 'stop', 'length', 'content_filter', ... */
  finishReason: string;
  usage: TokenUsage;
  /** The service's system_fingerprint, when it sent one (id-shaped text only). */
  systemFingerprint?: string;
  /** The request body exactly as sent (messages, response_format, parameters), for the prompt store. */
  request?: Readonly<Record<string, unknown>>;
}

export type ProviderName = 'azureOpenAI' | 'openAICompatible' | 'offline' | 'archive';

/** What the manifest records about the model that answered. */
export interface ModelInfo {
  provider: ProviderName;
  endpointHost?: string;
  deployment?: string;
  apiVersion?: string;
  /** Provider 'archive': the archive the files were unpacked from, with the SHA-256 of its bytes. */
  archive?: { file: string; format: 'zip' | 'tar' | 'tar.gz'; sha256: string; bytes: number };
}

/**
 * Sees a reply while it streams in. `received` gets each piece of content as it arrives (untrusted
 * text, for counting: never printed); `restarted` says the stream broke and the call is being sent
 * again, so what was received so far is void.
 */
export interface ReplyObserver {
  received(text: string): void;
  restarted(): void;
}

/** A chat model that returns files. Throws ModelError for service failures. */
export interface ModelClient {
  readonly info: ModelInfo;
  /**
   * Send one request and return the whole reply; a streamed reply is returned only once it is complete
   * (a stream cut off is retried or fails, never returned in part).
   * @param observer sees the reply as it streams in, when the client streams.
   */
  complete(request: ModelRequest, signal: AbortSignal, observer?: ReplyObserver): Promise<ModelReply>;
}

/** A file ready to be written: a checked, normalised relative path with '/' separators. */
export interface FileToWrite {
  path: string;
  content: string;
}

/** What is at a relative path now, seen without following symlinks. */
export interface PathState {
  path: string;
  /** 'absent', 'file', 'directory', 'symlink' or 'other' (device, socket, ...). */
  kind: 'absent' | 'file' | 'directory' | 'symlink' | 'other';
  /** A parent folder on the way that is a symlink or not a directory, if any. */
  blockedBy?: string;
  /** An existing entry whose name differs only in letter case (collides on Windows and macOS). */
  caseTwin?: string;
  /** The existing regular file already holds exactly the generated bytes (set only when inspect was given the file's content). */
  sameContent?: boolean;
}

/** The output directory. Writes are all-or-nothing. */
export interface TreeStore {
  readonly root: string;
  /**
   * What is at each path now, in the order given. Pass a FileToWrite instead of a bare path to also
   * learn whether an existing file already holds that content (`sameContent`). The first call may
   * first put back a tree an interrupted commit left half-moved, or throw (naming what to do) when
   * it cannot tell how.
   */
  inspect(paths: readonly (string | FileToWrite)[]): Promise<PathState[]>;
  /**
   * The text of the regular file at a relative path, or undefined when there is none. Symlinks are
   * never followed (a path through one reads as undefined).
   */
  read(path: string): Promise<string | undefined>;
  /**
   * Stage every file, then move them into place. On any failure, or if `signal` aborts before the
   * move starts, the tree is left byte-for-byte as it was. Once the move starts it completes.
   */
  commit(files: readonly FileToWrite[], signal: AbortSignal): Promise<void>;
}

/** Reads a text file the user named in an input (intentFile, instructionsFile). */
export interface FileReader {
  readText(path: string, input: InputName): Promise<string>;
}

export interface Clock {
  now(): Date;
}

/** Calls `tick` every `everyMs` until stopped: the heartbeat of the progress lines. */
export type Ticker = (everyMs: number, tick: () => void) => { stop(): void };
