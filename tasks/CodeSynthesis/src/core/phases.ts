/**
 * The phases of a generation, for the manifest and the summary: for each kind of call (the one reply,
 * the outline, the files, the repairs), how many calls, their tokens, the wall time from the first
 * call's start to the last one's end, and the most calls in flight at once.
 */
import type { CallPurpose, GenerationReport, ModelCall, Phase } from './draft';
import type { GenerationPhase, ManifestGeneration } from './manifest';

const PHASE_OF: Record<CallPurpose, Phase> = {
  generate: 'generate',
  outline: 'outline',
  file: 'files',
  repair: 'repair',
};
const ORDER: readonly Phase[] = ['generate', 'outline', 'files', 'repair'];

/** The manifest's generation section; undefined when the draft has no generation report. */
export function generationSection(
  calls: readonly ModelCall[],
  report: GenerationReport | undefined,
): ManifestGeneration | undefined {
  if (!report) return undefined;
  const phases = ORDER.flatMap((phase): GenerationPhase[] => {
    const of = calls.filter((c) => PHASE_OF[c.purpose] === phase);
    if (!of.length) return [];
    const start = Math.min(...of.map((c) => c.startedAt.getTime()));
    const end = Math.max(...of.map((c) => c.finishedAt.getTime()));
    return [
      {
        phase,
        calls: of.length,
        promptTokens: of.reduce((n, c) => n + c.reply.usage.promptTokens, 0),
        completionTokens: of.reduce((n, c) => n + c.reply.usage.completionTokens, 0),
        wallMs: end - start,
        maxInFlight: report.maxInFlight[phase] ?? 1,
      },
    ];
  });
  return { strategy: report.strategy, requested: report.requested, concurrency: report.concurrency, phases };
}
