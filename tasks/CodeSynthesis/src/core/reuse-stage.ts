/**
 * Reuse: an unchanged intent costs nothing. When the output directory's manifest holds this run's
 * fingerprint (fingerprint.ts) and every file it lists is there, the run neither signs in nor calls the
 * model: it succeeds saying the files are up to date, writes nothing and sets the output `reused` to
 * true. Files people edited since the last generation are kept as they are (a reuse never overwrites
 * them) and listed. Any changed input, a missing file, or a manifest that cannot be read makes a normal
 * run, and the log says why.
 *
 * Nothing is scanned, validated or pushed on a reuse: the run that generated the files did that with the
 * same inputs (validateCommand and the scan's settings are part of the fingerprint), and in reviewMode
 * 'pullRequest' its pull request already holds them. Edited files are the editors' own.
 */
import { MANIFEST_PATH, OUTPUTS } from './contract';
import type { Prepared } from './draft';
import { changedParts, type Fingerprint } from './fingerprint';
import { sha256, type Manifest, type ManifestFile } from './manifest';
import { checkPaths, showPath } from './paths';
import type { Logger, PipelineHost, TreeStore } from './ports';
import { attachSummary, type SynthesisResult } from './publish';
import { escapeMarkdown } from './summary';

export interface ReusePorts {
  log: Logger;
  tree: Pick<TreeStore, 'inspect' | 'read' | 'root'>;
}

/** A generation to reuse. */
export interface Reuse {
  /** Its manifest, as read (the fields used are checked). */
  manifest: Manifest;
  /** Files people changed since (their SHA-256 is not the manifest's): kept, and listed. */
  edited: string[];
}

/**
 * The last generation, when it can be reused as it is; undefined (the reason logged) when the run must
 * generate. Reads the output directory only.
 */
export async function findReuse(
  draft: Prepared & { fingerprint: Fingerprint },
  ports: ReusePorts,
): Promise<Reuse | undefined> {
  const { log, tree } = ports;
  const [state] = await tree.inspect([MANIFEST_PATH]);
  if (state?.kind !== 'file' || state.blockedBy !== undefined) {
    log.debug(`Reuse: no manifest at ${MANIFEST_PATH}; generating.`);
    return undefined;
  }
  const last = readManifest(await tree.read(MANIFEST_PATH));
  if (!last) {
    log.info(`Reuse: ${MANIFEST_PATH} cannot be read as a manifest of this task; generating.`);
    return undefined;
  }
  const recorded = (last as { fingerprint?: unknown }).fingerprint;
  if (!isRecord(recorded) || recorded['sha256'] !== draft.fingerprint.sha256) {
    const changed = isRecord(recorded) ? changedParts(recorded, draft.fingerprint) : [];
    log.info(
      changed.length
        ? `Reuse: ${changed.join(', ')} changed since the last generation; generating.`
        : 'Reuse: the last generation recorded no fingerprint (an earlier version of the task); generating.',
    );
    return undefined;
  }
  const files = last.files.filter((f) => f.action !== 'conflict');
  const states = await tree.inspect(files.map((f) => f.path));
  const edited: string[] = [];
  const missing: string[] = [];
  for (const [i, file] of files.entries()) {
    const text = states[i]?.kind === 'file' && !states[i]?.blockedBy ? await tree.read(file.path) : undefined;
    if (text === undefined) missing.push(file.path);
    else if (sha256(text) !== file.sha256) edited.push(file.path);
  }
  if (missing.length) {
    log.info(
      `Reuse: ${missing.length} file(s) of the last generation are missing (${missing.slice(0, 5).map(showPath).join(', ')}${missing.length > 5 ? ', ...' : ''}); generating.`,
    );
    return undefined;
  }
  return { manifest: last, edited };
}

/**
 * The result of a reused run, its log lines, output variables and summary.
 * @param reviewing reviewMode 'pullRequest': say there is nothing to push.
 */
export function publishReuse(
  reuse: Reuse,
  where: { manifestPath: string; outputDirectory: string; reviewing: boolean },
  draft: Prepared,
  ports: { log: Logger; report: Pick<PipelineHost, 'setOutput' | 'publishSummary'> },
): SynthesisResult {
  const { manifest, edited } = reuse;
  const { log, report } = ports;
  log.info(
    `The files are up to date: the intent and settings are those of the generation of ${manifest.generatedAt}${manifest.build?.buildNumber ? ` (build ${manifest.build.buildNumber})` : ''}. No model was called and nothing was written.`,
  );
  if (where.reviewing)
    log.info(
      "reviewMode 'pullRequest': nothing to push; the last generation's pull request holds these files.",
    );
  if (edited.length) {
    log.info(`Kept ${edited.length} file(s) people edited since the last generation:`);
    for (const p of edited) log.untrusted(`  kept (edited): ${p}`, 'info');
  }
  const set = (name: (typeof OUTPUTS)[keyof typeof OUTPUTS], value: string) => report.setOutput(name, value);
  set(OUTPUTS.filesWritten, '0');
  set(OUTPUTS.manifestPath, where.manifestPath);
  set(OUTPUTS.outputDirectory, where.outputDirectory);
  set(OUTPUTS.serviceName, manifest.intent.serviceName ?? '');
  set(OUTPUTS.language, manifest.intent.language ?? '');
  set(OUTPUTS.promptTokens, '0');
  set(OUTPUTS.completionTokens, '0');
  set(OUTPUTS.sarifPath, '');
  set(OUTPUTS.pullRequestId, '');
  set(OUTPUTS.pullRequestUrl, '');
  set(OUTPUTS.reviewBranch, '');
  set(OUTPUTS.reused, 'true');
  attachSummary(ports, renderReusedSummary(reuse, where));
  return {
    intent: draft.intent,
    manifest,
    manifestPath: where.manifestPath,
    outputDirectory: where.outputDirectory,
    findings: [],
    conflicts: [],
    written: false,
    reused: { edited, generatedAt: manifest.generatedAt },
  };
}

/** The task's message for a reused run. */
export function describeReuse(result: SynthesisResult): string {
  const edited = result.reused?.edited ?? [];
  return (
    `The files in ${result.outputDirectory} are up to date (the same inputs as the generation of ${result.reused?.generatedAt ?? ''}): no model was called and nothing was written` +
    (edited.length
      ? `; kept ${edited.length} file(s) people edited since (${edited.slice(0, 5).map(showPath).join(', ')}${edited.length > 5 ? ', ...' : ''})`
      : '') +
    '.'
  );
}

function renderReusedSummary(reuse: Reuse, where: { manifestPath: string; outputDirectory: string }): string {
  const { manifest: m, edited } = reuse;
  const code = (text: string) => `\`${text.replace(/`/g, "'")}\``;
  const kept = new Set(edited);
  return (
    [
      '## Code synthesis',
      '',
      `**Up to date:** the intent and settings are those of the generation of ${escapeMarkdown(m.generatedAt)}${m.build?.buildNumber ? ` (build ${escapeMarkdown(m.build.buildNumber)})` : ''}: no model was called and nothing was written.  `,
      `**Output:** ${code(where.outputDirectory)}  `,
      `**Manifest:** ${code(where.manifestPath)}`,
      '',
      '| File | Bytes | State |',
      '|---|---:|---|',
      ...m.files.map(
        (f) =>
          `| ${escapeMarkdown(f.path)} | ${f.bytes} | ${kept.has(f.path) ? 'edited since, kept' : 'as generated'} |`,
      ),
    ].join('\n') + '\n'
  );
}

/**
 * The manifest in `text`, when it is one this task wrote: its files' paths (checked as generated paths
 * are: the file is untrusted, a person may have edited it), SHA-256, sizes and actions, the time of the
 * generation, and the intent's names, each of the expected type.
 */
function readManifest(text: string | undefined): Manifest | undefined {
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(parsed) || !Array.isArray(parsed['files']) || typeof parsed['generatedAt'] !== 'string')
    return undefined;
  const files: ManifestFile[] = [];
  for (const f of parsed['files'] as unknown[]) {
    if (
      !isRecord(f) ||
      typeof f['path'] !== 'string' ||
      typeof f['sha256'] !== 'string' ||
      !/^[0-9a-f]{64}$/.test(f['sha256']) ||
      typeof f['bytes'] !== 'number' ||
      typeof f['action'] !== 'string'
    )
      return undefined;
    files.push({ ...(f as unknown as ManifestFile) });
  }
  try {
    const checked = checkPaths(
      files.map((f) => ({ path: f.path, content: '' })),
      { deniedPaths: [], maxFiles: Number.MAX_SAFE_INTEGER, maxTotalBytes: Number.MAX_SAFE_INTEGER },
    );
    if (checked.some((f, i) => f.path !== files[i]!.path)) return undefined;
  } catch {
    return undefined;
  }
  // Only these fields are read from here on: each is of its type, or absent.
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const intent = isRecord(parsed['intent']) ? parsed['intent'] : {};
  const buildNumber = str(isRecord(parsed['build']) ? parsed['build']['buildNumber'] : undefined);
  return {
    ...(parsed as unknown as Manifest),
    files,
    skipped: Array.isArray(parsed['skipped']) ? parsed['skipped'].filter((p) => typeof p === 'string') : [],
    intent: {
      ...(intent as unknown as Manifest['intent']),
      serviceName: str(intent['serviceName']),
      language: str(intent['language']),
    },
    build: buildNumber !== undefined ? { buildNumber } : undefined,
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
