/**
 * The draft: what the run knows so far, handed from stage to stage (synthesize.ts). Each stage adds to
 * it; nothing reaches the output directory until the commit stage.
 */
import type { Fingerprint } from './fingerprint';
import type { IntentSource } from './manifest';
import type { Intent } from './intent';
import type { WritePlan } from './plan';
import type { ChatMessage, FileToWrite, ModelClient, ModelReply, ModelRequest } from './ports';
import type { GenerationStrategy } from './settings';
import type { Finding, ScanReport, ScanRule } from './scan';
import type { ValidationRound } from './validate';

/**
 * Why a call was made: `generate`, the one request for every file (the single strategy); `outline`, the
 * outline of the files (planned); `file`, some files of the outline (planned); `repair`, corrected files
 * after validateCommand failed.
 */
export type CallPurpose = 'generate' | 'outline' | 'file' | 'repair';

/** One model call of the run: what was sent, what came back, when, and where its record is kept. */
export interface ModelCall {
  purpose: CallPurpose;
  /** A `file` call: the paths it asked for. */
  paths?: readonly string[];
  /** The reply could not be used and the call was made again: why (our text, paths escaped). */
  rejected?: string;
  request: ModelRequest;
  reply: ModelReply;
  startedAt: Date;
  finishedAt: Date;
  /** The prompt record's path, relative to the output directory (.synthesis/prompts/<id>.json). */
  promptFile: string;
}

/** A generated file and the call (an index into `calls`) its current content came from. */
export interface SourcedFile extends FileToWrite {
  call: number;
}

/** After reading the intent: what to ask for, and the files the user named. */
export interface Prepared {
  intent: Intent;
  intentSource: IntentSource;
  instructions?: { file: string; text: string };
  policy?: { file: string; text: string; rules: ScanRule[] };
  /**
   * The request for every file in one reply; its hash is the manifest's prompt hash. A planned
   * generation builds its outline and file requests on it, and a repair continues from it.
   */
  request: ModelRequest;
  /** What decides the output, for reuse (fingerprint.ts); set by synthesize. */
  fingerprint?: Fingerprint;
}

/** The phases of a generation, each a kind of call: see CallPurpose. */
export type Phase = 'generate' | 'outline' | 'files' | 'repair';

/** How the files were generated, for the manifest and the summary. */
export interface GenerationReport {
  requested: GenerationStrategy;
  strategy: 'single' | 'planned';
  concurrency: number;
  /** The most calls in flight at once, for each phase that runs calls in parallel (others: 1). */
  maxInFlight: Partial<Record<Phase, number>>;
}

/** After the model answered. */
export interface Generated extends Prepared {
  model: ModelClient;
  calls: ModelCall[];
  /** The files as the model proposed them (paths not checked yet, or checked by the check stage). */
  proposed: SourcedFile[];
  /** The model's own summary of the last reply: untrusted text. */
  modelSummary?: string;
  /** How the files were generated (strategy, parallelism). */
  generation?: GenerationReport;
  /**
   * The conversation a repair continues from; absent: the last call's request and reply. A planned
   * generation sets it to the request for every file and the outline, as no one call holds every file.
   */
  conversation?: readonly ChatMessage[];
}

/** After the check stage: checked paths, provenance headers, and what to write. */
export interface Checked extends Generated {
  /** The generated files as they would be written with no person's edits: checked, with headers. */
  generated: FileToWrite[];
  plan: WritePlan;
  /** conflictPolicy 'merge': the copies of the generated files to keep under .synthesis/base/. */
  baseCopies: FileToWrite[];
}

/** After the scan. */
export interface Scanned extends Checked {
  findings: Finding[];
  /** The last scan, for the issues and the SARIF log (reportFindings). */
  scanReport: ScanReport;
  /** The SARIF log, once published. */
  sarifPath?: string;
}

/** After validateCommand (empty when none is set). */
export interface Validated extends Scanned {
  validation: ValidationRound[];
}
