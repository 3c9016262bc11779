/**
 * Chooses the adapters for the settings. SDKs are loaded with `await import()` only on the path that
 * needs them, so the offline path loads no Azure or OpenAI code.
 */
import path from 'node:path';
import { FsFileReader } from './adapters/fs/file-reader';
import { FsTreeStore } from './adapters/fs/tree-store';
import { OfflineModelClient } from './adapters/model/offline-model-client';
import type { AgentHost } from './adapters/pipeline/agent-host';
import type { BuildInfo, ModelClient } from './core/ports';
import type { Settings } from './core/settings';
import type { SynthesisPorts } from './core/synthesize';
import { VERSION } from './version';

/** Build the ports for one run. */
export async function compose(settings: Settings, host: AgentHost): Promise<SynthesisPorts> {
  // Inside the repository, the output directory must not be reached through a symlink.
  const sources = host.getVariable('Build.SourcesDirectory');
  return {
    log: host,
    reader: new FsFileReader(),
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
    report: host,
    build: buildInfo(host),
  };
}

/** The build around the run, from the agent's predefined variables (absent outside a pipeline). */
function buildInfo(host: AgentHost): BuildInfo & { intentVariable?: string } {
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

async function connectModel(settings: Settings, host: AgentHost, signal: AbortSignal): Promise<ModelClient> {
  if (settings.provider === 'offline') return new OfflineModelClient();
  const { connectRemoteModel } = await import('./compose-remote');
  return connectRemoteModel(settings, host, signal);
}
