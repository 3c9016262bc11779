/**
 * A manifest as the use case builds it, for tests of what is made from one (summaries, descriptions).
 */
import type { Manifest, ManifestFile } from '../../tasks/CodeSynthesis/src/core/manifest';
import type { ReviewFile } from '../../tasks/CodeSynthesis/src/core/review';

/** A manifest for service 'weather' (python/flask) listing `files`. */
export function sampleManifest(files: ManifestFile[], over: Partial<Manifest> = {}): Manifest {
  return {
    schemaVersion: 1,
    tool: { name: 'code-synthesis', version: '1.0.0' },
    generatedAt: '2026-11-05T10:00:00.000Z',
    intent: {
      sha256: 'a'.repeat(64),
      kind: 'card',
      source: 'inline',
      serviceName: 'weather',
      language: 'python',
      framework: 'flask',
    },
    prompt: { sha256: 'b'.repeat(64) },
    model: {
      provider: 'azureOpenAI',
      endpointHost: 'res.openai.azure.com',
      deployment: 'gpt-4o',
      apiVersion: '2024-10-21',
      model: 'gpt-4o-2024-08-06',
      replyId: 'chatcmpl-1',
      finishReason: 'stop',
    },
    usage: { promptTokens: 1200, completionTokens: 3400 },
    calls: [],
    findings: { error: 0, warning: 0, byRule: {} },
    provenanceHeaders: false,
    conflictPolicy: 'fail',
    files,
    skipped: [],
    ...over,
  };
}

/** `n` generated files under src/, each `bytes` long. */
export function manyFiles(n: number, bytes = 100): ManifestFile[] {
  return Array.from({ length: n }, (_, i) => ({
    path: `src/module_${String(i).padStart(4, '0')}/handler.py`,
    sha256: 'c'.repeat(64),
    bytes,
    action: 'created' as const,
  }));
}

/** A generated service and its manifest at their paths in the repository, as the publishers push them. */
export const REVIEW_FILES: readonly ReviewFile[] = [
  { path: 'services/weather/app.py', content: 'from flask import Flask\napp = Flask(__name__)\n' },
  { path: 'services/weather/requirements.txt', content: 'flask==3.1.0\n' },
  { path: 'services/weather/.synthesis/manifest.json', content: '{ "schemaVersion": 1 }\n' },
];
