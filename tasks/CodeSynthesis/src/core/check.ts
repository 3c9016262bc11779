/**
 * The check stage: every proposed path checked (paths.ts), the provenance headers added when asked for,
 * and the write planned against what is in the output directory now: plan.ts for the policies fail,
 * overwrite and skip; merge-plan.ts for 'merge', which reads the last manifest, the files people may
 * have edited and the last generated copies. Runs again after each repair, over the repaired files.
 */
import { archiveFileName } from './archive';
import { MANIFEST_PATH } from './contract';
import type { Checked, Generated } from './draft';
import { checkManifestLocation, sha256 } from './manifest';
import { basePath, mergeConflictError } from './merge';
import { baseCopies, lastGeneration, planMerge } from './merge-plan';
import { checkPaths, showPath } from './paths';
import { planWrite, type WritePlan } from './plan';
import type { FileToWrite, Logger, PathState, TreeStore } from './ports';
import { addProvenanceHeaders } from './provenance';
import type { Settings } from './settings';

export interface CheckPorts {
  log: Pick<Logger, 'warn'>;
  tree: Pick<TreeStore, 'inspect' | 'read' | 'root'>;
  version: string;
  /** Build.BuildId, for the provenance headers. */
  buildId?: string;
}

/**
 * Check the paths, add headers, plan the write.
 * @param keepConflicts under 'merge', return conflicts in the plan (for a pull request) instead of failing.
 * @throws LimitError, PathError (every unsafe path listed), ConflictError (conflictPolicy 'fail'),
 *   MergeConflictError (conflictPolicy 'merge', each file with its line ranges), InputError
 *   (outputDirectory) when the manifest's or a base copy's place is taken (checkManifestLocation).
 */
export async function checkAndPlan<T extends Generated>(
  draft: T,
  settings: Settings,
  ports: CheckPorts,
  keepConflicts = false,
): Promise<T & Checked> {
  const checked = checkPaths(draft.proposed, settings);
  const proposed = checked.map((f, i) => ({ ...f, call: draft.proposed[i]?.call ?? 0 }));
  const generated = settings.provenanceHeaders ? withHeaders(draft, proposed, ports) : checked;
  if (settings.conflictPolicy !== 'merge') {
    const [manifestState, ...states] = await ports.tree.inspect([MANIFEST_PATH, ...generated]);
    checkManifestLocation(manifestState, ports.tree.root);
    const plan = planWrite(generated, states, settings.conflictPolicy);
    return { ...draft, proposed, generated, plan, baseCopies: [] };
  }
  const { plan, baseCopies } = await mergePlan(generated, ports);
  if (plan.conflicts.length && !keepConflicts) throw mergeConflictError(plan.conflicts);
  return { ...draft, proposed, generated, plan, baseCopies };
}

/** The 'merge' plan, and the base copies to write (those not already holding the generated content). */
async function mergePlan(
  generated: readonly FileToWrite[],
  ports: CheckPorts,
): Promise<{ plan: WritePlan; baseCopies: FileToWrite[] }> {
  const { tree } = ports;
  const bases = generated.map((f) => ({ path: basePath(f.path), content: f.content }));
  const [manifestState, ...rest] = await tree.inspect([MANIFEST_PATH, ...generated, ...bases]);
  checkManifestLocation(manifestState, tree.root);
  const states = rest.slice(0, generated.length);
  const baseStates = rest.slice(generated.length);
  bases.forEach((b, i) =>
    checkManifestLocation(baseStates[i], tree.root, b.path, 'the last generated copy of a file'),
  );
  const last = manifestState?.kind === 'file' ? lastGeneration(await tree.read(MANIFEST_PATH)) : undefined;
  const current = new Map<string, string>();
  const storedBases = new Map<string, string>();
  for (const [i, file] of generated.entries()) {
    const state = states[i] as PathState;
    if (state.kind !== 'file' || state.sameContent || state.blockedBy !== undefined) continue;
    const text = await tree.read(file.path);
    if (text === undefined) continue;
    current.set(file.path, text);
    // Only a file a person edited merges: only its base copy is needed.
    if (sha256(text) !== last?.get(file.path) && baseStates[i]?.kind === 'file') {
      const base = await tree.read(basePath(file.path));
      if (base !== undefined) storedBases.set(file.path, base);
    }
  }
  const plan = planMerge({
    files: generated,
    states,
    current,
    bases: storedBases,
    ...(last ? { last } : {}),
  });
  if (plan.unbased.length)
    ports.log.warn(
      `No trustworthy copy of what was generated last time for ${plan.unbased.length} edited file(s) (${plan.unbased
        .slice(0, 5)
        .map(showPath)
        .join(
          ', ',
        )}${plan.unbased.length > 5 ? ', ...' : ''}): the copy under .synthesis/base/ is missing or differs from the manifest, so they merge as if both sides had added them; lines that differ conflict.`,
    );
  const unchangedBases = new Set(bases.filter((_, i) => baseStates[i]?.sameContent).map((b) => b.path));
  return {
    plan,
    baseCopies: baseCopies(generated, plan).filter((b) => !unchangedBases.has(b.path)),
  };
}

/** Each file with the header naming the call its content came from (or the archive it was unpacked from). */
function withHeaders(
  draft: Generated,
  files: readonly (FileToWrite & { call: number })[],
  ports: CheckPorts,
): FileToWrite[] {
  const { archive } = draft.model.info;
  return files
    .map((file) => {
      const call = draft.calls[file.call] ?? draft.calls[0]!;
      return addProvenanceHeaders([file], {
        version: ports.version,
        intentSha256: sha256(draft.intent.text),
        promptFile: call.promptFile,
        model: call.reply.model,
        ...(draft.model.info.deployment ? { deployment: draft.model.info.deployment } : {}),
        ...(ports.buildId ? { buildId: ports.buildId } : {}),
        ...(archive ? { archive: { name: archiveFileName(archive.file), sha256: archive.sha256 } } : {}),
      })[0]!;
    })
    .map((f) => ({ path: f.path, content: f.content }));
}
