/**
 * The record stage: what the run leaves beside the files, built before anything is written (so that a
 * review branch and the output directory get the same): the prompt record of every model call
 * (.synthesis/prompts/) and the manifest.
 */
import { MANIFEST_PATH } from './contract';
import { estimateCost } from './cost';
import type { Validated } from './draft';
import { buildManifest, checkManifestLocation, manifestContent, type Manifest } from './manifest';
import { baseCopies } from './merge-plan';
import { generationSection } from './phases';
import type { BuildInfo, Clock, FileToWrite, PipelineHost, TokenUsage, TreeStore } from './ports';
import { promptText } from './prompt';
import { recordCall } from './provenance';
import type { Settings } from './settings';

export interface RecordPorts {
  tree: Pick<TreeStore, 'inspect' | 'root'>;
  clock: Clock;
  version: string;
  report: Pick<PipelineHost, 'mask'>;
  build?: BuildInfo;
}

/** Everything one commit writes, and the manifest among it. */
export interface RunRecord {
  /**
   * The files to write (the plan's; with conflicts, the marked files too: they go to a review branch,
   * never to the output directory), the base copies (conflictPolicy 'merge'), then the prompt records,
   * then the manifest.
   */
  files: FileToWrite[];
  /**
   * Every file the run leaves, as it leaves it, whether written now or already there: each generated
   * file (created, replaced, merged, unchanged or with conflicts; not a skipped one), every base copy,
   * the prompt records and the manifest. What a review branch gets.
   */
  tree: FileToWrite[];
  manifest: Manifest;
}

/**
 * Build the prompt records and the manifest. With provider 'archive' nothing was sent: there is no
 * prompt record, `calls` is empty and the manifest has no prompt hash; its model.archive names the
 * archive, its format and the SHA-256 of its bytes.
 * @throws InputError (outputDirectory) when a prompt record's place is taken (checkManifestLocation).
 */
export async function recordRun(
  draft: Validated,
  settings: Settings,
  ports: RecordPorts,
): Promise<RunRecord> {
  const sent = draft.model.info.provider === 'archive' ? [] : draft.calls;
  const states = await ports.tree.inspect(sent.map((c) => c.promptFile));
  sent.forEach((c, i) =>
    checkManifestLocation(states[i], ports.tree.root, c.promptFile, 'the record of the prompt'),
  );
  const recorded = sent.map((c) =>
    recordCall({
      purpose: c.purpose,
      request: c.request,
      reply: c.reply,
      model: draft.model.info,
      promptFile: c.promptFile,
      startedAt: c.startedAt,
      finishedAt: c.finishedAt,
      limits: settings,
      mask: (text) => ports.report.mask(text),
    }),
  );
  const usage = totalUsage(draft);
  const { plan } = draft;
  const conflicted = plan.conflicts.map((c) => ({ path: c.path, content: c.content }));
  const written = [
    ...plan.write,
    ...conflicted,
    ...(plan.kept ?? []),
    ...draft.generated.filter(
      (f) => plan.unchanged.includes(f.path) && !plan.kept?.some((k) => k.path === f.path),
    ),
  ];
  const manifest = buildManifest({
    version: ports.version,
    now: ports.clock.now(),
    intent: draft.intent,
    intentSource: draft.intentSource,
    ...(draft.instructions ? { instructions: draft.instructions } : {}),
    ...(draft.policy
      ? { policy: { file: draft.policy.file, text: draft.policy.text, rules: draft.policy.rules.length } }
      : {}),
    ...(ports.build ? { build: ports.build } : {}),
    ...(sent.length ? { promptText: promptText(draft.request) } : {}),
    model: draft.model.info,
    reply: draft.calls[draft.calls.length - 1]!.reply,
    usage,
    calls: recorded.map((r, i) => {
      const { paths, rejected } = draft.calls[i]!;
      return { ...r.call, ...(paths ? { paths: [...paths] } : {}), ...(rejected ? { rejected } : {}) };
    }),
    ...(draft.generation ? { generation: generationSection(draft.calls, draft.generation)! } : {}),
    ...(draft.fingerprint ? { fingerprint: draft.fingerprint } : {}),
    findings: draft.findings,
    ...(draft.validation.length ? { validation: draft.validation } : {}),
    provenanceHeaders: settings.provenanceHeaders,
    ...(settings.prices ? { estimatedCost: estimateCost(usage, settings.prices) } : {}),
    conflictPolicy: settings.conflictPolicy,
    written,
    overwritten: plan.overwritten,
    unchanged: plan.unchanged,
    skipped: plan.skipped,
    merged: plan.merged,
    conflicted: conflicted.map((f) => f.path),
    generated: draft.generated,
  });
  const records = [
    ...recorded.map((r) => r.record),
    { path: MANIFEST_PATH, content: manifestContent(manifest) },
  ];
  return {
    files: [...plan.write, ...conflicted, ...draft.baseCopies, ...records],
    tree: [
      ...written,
      ...(settings.conflictPolicy === 'merge' ? baseCopies(draft.generated, plan) : []),
      ...records,
    ],
    manifest,
  };
}

/** The tokens of every call of the run. */
export function totalUsage(draft: Pick<Validated, 'calls'>): TokenUsage {
  return draft.calls.reduce(
    (sum, c) => ({
      promptTokens: sum.promptTokens + c.reply.usage.promptTokens,
      completionTokens: sum.completionTokens + c.reply.usage.completionTokens,
    }),
    { promptTokens: 0, completionTokens: 0 },
  );
}
