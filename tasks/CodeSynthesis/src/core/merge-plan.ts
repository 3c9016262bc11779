/**
 * The write plan under conflictPolicy 'merge' (regeneration that keeps people's edits), from what the
 * check stage read: the last manifest, each existing file, and the last generated copy of each
 * (`.synthesis/base/<path>`, see merge.ts). Pure: every read is done by the caller.
 */
import { PathError } from './errors';
import { sha256 } from './manifest';
import { basePath, decideMergeAction, mergeFile } from './merge';
import { showPath } from './paths';
import type { WritePlan } from './plan';
import type { FileToWrite, PathState } from './ports';

/** What the last run generated for each path: the SHA-256 of the model's content (the base's). */
export type LastGeneration = ReadonlyMap<string, string>;

/**
 * The last generation, from the last manifest's text: each file's `generatedSha256`, or its `sha256`
 * when the file was written as generated. Undefined when there is no manifest or it cannot be read as
 * one (then every edited file merges with an empty base).
 */
export function lastGeneration(manifestText: string | undefined): LastGeneration | undefined {
  if (manifestText === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(manifestText);
  } catch {
    return undefined;
  }
  if (!isRecord(parsed) || !Array.isArray(parsed['files'])) return undefined;
  const hashes = new Map<string, string>();
  for (const f of parsed['files']) {
    if (!isRecord(f) || typeof f['path'] !== 'string') continue;
    const hash = typeof f['generatedSha256'] === 'string' ? f['generatedSha256'] : f['sha256'];
    if (typeof hash === 'string' && /^[0-9a-f]{64}$/.test(hash)) hashes.set(f['path'], hash);
  }
  return hashes;
}

export interface MergeInput {
  /** The generated files (checked paths). */
  files: readonly FileToWrite[];
  /** What inspect saw at each file's path (with `sameContent`), in any order. */
  states: readonly PathState[];
  /** The text of each existing file that is not already the generated content. */
  current: ReadonlyMap<string, string>;
  /** The last generated copy of each file that may merge, when it exists. */
  bases: ReadonlyMap<string, string>;
  last?: LastGeneration;
}

/** The plan, and the paths whose base copy was missing or did not match the manifest (merged from ''). */
export interface MergePlan extends WritePlan {
  unbased: string[];
}

/**
 * Per path: absent -> create; already the generated content -> unchanged; unchanged since the last
 * generation (its hash is the last generated one) -> replace; edited by a person -> three-way merge of
 * the last generated copy (its hash checked against the manifest; '' when missing or different), the
 * person's file and the new generation. A clean merge is written (`merged`); conflicts are returned
 * with their content, marked, for the caller to refuse or to send for review.
 * @throws PathError for paths that can never be written (through a symlink or a file, over a folder or
 *   a special file, a case twin), as planWrite does.
 */
export function planMerge(input: MergeInput): MergePlan {
  const states = new Map(input.states.map((s) => [s.path, s]));
  const plan: MergePlan = {
    write: [],
    skipped: [],
    overwritten: [],
    unchanged: [],
    merged: [],
    conflicts: [],
    unbased: [],
  };
  const unsafe: string[] = [];
  for (const file of input.files) {
    const state = states.get(file.path);
    if (!state)
      throw new Error(`planMerge: no state for ${showPath(file.path)}; inspect every planned path.`);
    if (state.blockedBy !== undefined || (state.kind !== 'absent' && state.kind !== 'file')) {
      unsafe.push(
        `${showPath(file.path)}: ${state.blockedBy !== undefined ? 'would write through a symlink or a file' : `is an existing ${state.kind === 'directory' ? 'folder' : state.kind === 'symlink' ? 'symlink' : 'special file'}`}`,
      );
      continue;
    }
    if (state.kind === 'absent' && state.caseTwin !== undefined) {
      unsafe.push(
        `${showPath(file.path)}: ${showPath(state.caseTwin)} exists and differs only in letter case; writing would leave both. Rename or remove it.`,
      );
      continue;
    }
    const current =
      state.kind === 'file' ? (state.sameContent ? file.content : input.current.get(file.path)) : undefined;
    if (state.kind === 'file' && current === undefined)
      throw new Error(`planMerge: no content for ${showPath(file.path)}; read every existing file.`);
    const lastHash = input.last?.get(file.path);
    const action = decideMergeAction(
      sha256(file.content),
      current === undefined ? undefined : sha256(current),
      lastHash,
    );
    if (action === 'create') plan.write.push(file);
    else if (action === 'unchanged') plan.unchanged.push(file.path);
    else if (action === 'replace') {
      plan.write.push(file);
      plan.overwritten.push(file.path);
    } else {
      const stored = input.bases.get(file.path);
      const trusted = stored !== undefined && lastHash !== undefined && sha256(stored) === lastHash;
      if (!trusted) plan.unbased.push(file.path);
      const merged = mergeFile(trusted ? stored : '', current!, file.content);
      // The new generation changed nothing the person kept: the file stays as it is.
      if (merged.clean && merged.content === current) {
        plan.unchanged.push(file.path);
        (plan.kept ??= []).push({ path: file.path, content: current });
      } else if (merged.clean) {
        plan.write.push({ path: file.path, content: merged.content });
        plan.merged.push(file.path);
      } else plan.conflicts.push({ path: file.path, content: merged.content, conflicts: merged.conflicts });
    }
  }
  if (unsafe.length) throw new PathError(unsafe);
  return plan;
}

/** The base copies the run keeps: what the model generated for each file the plan covers. */
export function baseCopies(files: readonly FileToWrite[], plan: WritePlan): FileToWrite[] {
  const skipped = new Set(plan.skipped);
  return files
    .filter((f) => !skipped.has(f.path))
    .map((f) => ({ path: basePath(f.path), content: f.content }));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
