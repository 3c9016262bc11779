/**
 * The check stage: every proposed path checked (paths.ts), the provenance headers added when asked for,
 * and the write planned against what is in the output directory now (plan.ts). Runs again after each
 * repair, over the repaired files.
 */
import { MANIFEST_PATH } from './contract';
import type { Checked, Generated } from './draft';
import { checkManifestLocation, sha256 } from './manifest';
import { checkPaths } from './paths';
import { planWrite } from './plan';
import type { FileToWrite, TreeStore } from './ports';
import { addProvenanceHeaders } from './provenance';
import type { Settings } from './settings';

export interface CheckPorts {
  tree: Pick<TreeStore, 'inspect' | 'root'>;
  version: string;
  /** Build.BuildId, for the provenance headers. */
  buildId?: string;
}

/**
 * Check the paths, add headers, plan the write.
 * @throws LimitError, PathError (every unsafe path listed), ConflictError (conflictPolicy 'fail'),
 *   InputError (outputDirectory) when the manifest's place is taken (checkManifestLocation).
 */
export async function checkAndPlan<T extends Generated>(
  draft: T,
  settings: Settings,
  ports: CheckPorts,
): Promise<T & Checked> {
  const checked = checkPaths(draft.proposed, settings);
  const proposed = checked.map((f, i) => ({ ...f, call: draft.proposed[i]?.call ?? 0 }));
  const generated = settings.provenanceHeaders ? withHeaders(draft, proposed, ports) : checked;
  const [manifestState, ...states] = await ports.tree.inspect([MANIFEST_PATH, ...generated]);
  checkManifestLocation(manifestState, ports.tree.root);
  const plan = planWrite(generated, states, settings.conflictPolicy);
  return { ...draft, proposed, generated, plan };
}

/** Each file with the header naming the call its content came from. */
function withHeaders(
  draft: Generated,
  files: readonly (FileToWrite & { call: number })[],
  ports: CheckPorts,
): FileToWrite[] {
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
      })[0]!;
    })
    .map((f) => ({ path: f.path, content: f.content }));
}
