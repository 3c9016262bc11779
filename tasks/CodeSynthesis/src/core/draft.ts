/**
 * The draft: what the run knows so far, handed from stage to stage (synthesize.ts). Each stage adds to
 * it; nothing reaches the output directory until the commit stage.
 */
import type { IntentSource } from './manifest';
import type { Intent } from './intent';
import type { WritePlan } from './plan';
import type { FileToWrite, ModelClient, ModelReply, ModelRequest } from './ports';
import type { Finding, ScanReport, ScanRule } from './scan';
import type { ValidationRound } from './validate';

/** One model call of the run: what was sent, what came back, when, and where its record is kept. */
export interface ModelCall {
  purpose: 'generate' | 'repair';
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
  /** The first request for files; its hash is the manifest's prompt hash. */
  request: ModelRequest;
}

/** After the model answered. */
export interface Generated extends Prepared {
  model: ModelClient;
  calls: ModelCall[];
  /** The files as the model proposed them (paths not checked yet, or checked by the check stage). */
  proposed: SourcedFile[];
  /** The model's own summary of the last reply: untrusted text. */
  modelSummary?: string;
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
