/**
 * Chooses the adapters for the settings. SDKs are loaded with `await import()` only on the path that
 * needs them, so the offline path loads no Azure or OpenAI code, and no archive reader.
 */
import os from 'node:os';
import path from 'node:path';
import { FsFileReader } from './adapters/fs/file-reader';
import { FsTreeStore } from './adapters/fs/tree-store';
import { OfflineModelClient } from './adapters/model/offline-model-client';
import type { AgentHost } from './adapters/pipeline/agent-host';
import type { SignIn } from './compose-remote';
import type { BuildInfo, ModelClient } from './core/ports';
import { readBuildContext } from './core/review';
import type { ReviewPorts } from './core/review-stage';
import type { CommandRunner } from './core/validate';
import { showPath } from './core/paths';
import type { Settings } from './core/settings';
import type { SynthesisPorts } from './core/synthesize';
import { VERSION } from './version';

/**
 * What a front door other than the Azure Pipelines task (the GitHub Action, action-compose.ts) composes
 * its own way: the pull-request gate and the Entra ID sign-in.
 */
export interface FrontDoor {
  /** The review ports of reviewMode 'pullRequest', read before the model is called. */
  reviewPorts(): ReviewPorts;
  /** Loads the sign-in of authMode entraId and keyVault; the service connection's when absent. */
  signIn?(): Promise<SignIn>;
}

/** Build the ports for one run; `front` defaults to the Azure Pipelines task's (Azure Repos Git, service connections). */
export async function compose(
  settings: Settings,
  host: AgentHost,
  front: FrontDoor = { reviewPorts: () => reviewPorts(host) },
): Promise<SynthesisPorts> {
  // Inside the repository, the output directory must not be reached through a symlink.
  const sources = host.getVariable('Build.SourcesDirectory');
  const outputDirectory = path.resolve(settings.outputDirectory);
  return {
    log: host,
    reader: new FsFileReader(),
    tree: new FsTreeStore(outputDirectory, {
      log: host,
      ...(sources ? { confinedTo: sources } : {}),
    }),
    clock: { now: () => new Date() },
    ticker: (everyMs, tick) => {
      const timer = setInterval(tick, everyMs);
      // The progress lines must never keep the task alive.
      timer.unref();
      return { stop: () => clearInterval(timer) };
    },
    signal: host.signal,
    version: VERSION,
    connectModel: (_intent, signal) => connectModel(settings, host, signal, front),
    secretScanner: async () => {
      const { createSecretlintScanner } = await import('./adapters/scan/secretlint-scanner');
      return createSecretlintScanner();
    },
    ...(settings.validation ? { commandRunner: () => commandRunner(outputDirectory, host) } : {}),
    ...(settings.review.mode === 'pullRequest' ? { review: front.reviewPorts() } : {}),
    patternRunner: async () => {
      const { WorkerPatternRunner } = await import('./adapters/scan/worker-pattern-runner');
      return new WorkerPatternRunner();
    },
    report: host,
    build: buildInfo(host),
  };
}

/**
 * The pull-request gate: the build's variables now (a repository that is not Azure Repos Git fails here,
 * before the model is called), the Azure Repos publisher (azure-devops-node-api, in remote.js) only
 * when the push is due.
 */
function reviewPorts(host: AgentHost): ReviewPorts {
  return {
    context: readBuildContext((name) => host.getVariable(name)),
    publisher: async () => {
      const { createReviewPublisher } = await import('./compose-remote');
      return createReviewPublisher(host);
    },
  };
}

/**
 * The runner of validateCommand: a scratch copy in the agent's temp folder, an environment without the
 * secrets the host knows (read at each run: a key read during the run joins them), the agent's proxy
 * without its credentials, and a PID namespace where the machine allows one.
 */
async function commandRunner(outputDirectory: string, host: AgentHost): Promise<CommandRunner> {
  const { SandboxedRunner } = await import('./adapters/validate/sandboxed-runner');
  const inside = (dir: string): boolean => {
    const relative = path.relative(outputDirectory, dir);
    return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
  };
  const agentTemp = host.getVariable('Agent.TempDirectory');
  // The scratch copy must not land inside the folder it copies.
  const tempDirectory = agentTemp && !inside(path.resolve(agentTemp)) ? path.resolve(agentTemp) : os.tmpdir();
  const proxy = host.proxy();
  return new SandboxedRunner({
    outputDirectory,
    tempDirectory,
    secrets: () => host.secrets(),
    ...(proxy ? { proxyUrl: proxy.url } : {}),
    log: host,
  });
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

async function connectModel(
  settings: Settings,
  host: AgentHost,
  signal: AbortSignal,
  front: FrontDoor,
): Promise<ModelClient> {
  if (settings.provider === 'offline') return new OfflineModelClient();
  if (settings.provider === 'archive') return openArchive(settings, host, signal);
  const { connectRemoteModel } = await import('./compose-remote');
  return connectRemoteModel(settings, host, signal, await front.signIn?.());
}

/**
 * The archive provider: no sign-in, no network. The archive is read and checked here, so a hostile one
 * is refused before anything else runs, within the limits of maxFiles and maxTotalSizeKB. Its reader
 * (yauzl, tar-stream) is bundled in index.js and evaluated only on this path.
 */
async function openArchive(settings: Settings, host: AgentHost, signal: AbortSignal): Promise<ModelClient> {
  const file = settings.archiveFile;
  if (!file)
    throw new Error("compose: provider 'archive' needs settings.archiveFile; parseSettings sets it.");
  const { ArchiveModelClient, DEFAULT_MAX_RATIO } = await import('./adapters/model/archive-model-client');
  host.info(`Unpacking the archive ${showPath(file)}: no model is called.`);
  return ArchiveModelClient.open(
    file,
    { maxFiles: settings.maxFiles, maxTotalBytes: settings.maxTotalBytes, maxRatio: DEFAULT_MAX_RATIO },
    signal,
  );
}
