/**
 * Chooses the adapters for the settings. SDKs are loaded with `await import()` only on the path that
 * needs them, so the offline path loads no Azure or OpenAI code.
 */
import path from 'node:path';
import { FsFileReader } from './adapters/fs/file-reader';
import { FsTreeStore } from './adapters/fs/tree-store';
import { OfflineModelClient } from './adapters/model/offline-model-client';
import type { BuildInfo, ModelClient, PipelineHost } from './core/ports';
import type { Settings } from './core/settings';
import type { SynthesisPorts } from './core/synthesize';
import { VERSION } from './version';

/** Build the ports for one run. */
export async function compose(settings: Settings, host: PipelineHost): Promise<SynthesisPorts> {
  // Inside the repository, the output directory must not be reached through a symlink.
  const sources = host.getVariable('Build.SourcesDirectory');
  return {
    log: host,
    files: new FsFileReader(),
    tree: new FsTreeStore(path.resolve(settings.outputDirectory), {
      log: host,
      ...(sources ? { confinedTo: sources } : {}),
    }),
    clock: { now: () => new Date() },
    signal: host.signal,
    version: VERSION,
    connectModel: (_intent, signal) => connectModel(settings, host, signal),
    secretScanner: async () => {
      const { createSecretlintScanner } = await import('./adapters/scan/secretlint-scanner');
      return createSecretlintScanner();
    },
    patternRunner: async () => {
      const { WorkerPatternRunner } = await import('./adapters/scan/worker-pattern-runner');
      return new WorkerPatternRunner();
    },
    report: host,
    build: buildInfo(host),
  };
}

/** The build around the run, from the agent's predefined variables (absent outside a pipeline). */
function buildInfo(host: PipelineHost): BuildInfo & { intentVariable?: string } {
  const entries: [keyof BuildInfo | 'intentVariable', string][] = [
    ['buildId', 'Build.BuildId'],
    ['buildNumber', 'Build.BuildNumber'],
    ['definitionName', 'Build.DefinitionName'],
    ['repository', 'Build.Repository.Name'],
    ['commit', 'Build.SourceVersion'],
    ['intentVariable', 'intent'],
  ];
  return Object.fromEntries(
    entries.flatMap(([key, variable]) => {
      const value = host.getVariable(variable);
      return value ? [[key, value]] : [];
    }),
  );
}

async function connectModel(
  settings: Settings,
  host: PipelineHost,
  signal: AbortSignal,
): Promise<ModelClient> {
  if (settings.provider === 'offline') return new OfflineModelClient();
  const { connectRemoteModel } = await import('./adapters/model/connect');
  return connectRemoteModel(settings, host, signal);
}
