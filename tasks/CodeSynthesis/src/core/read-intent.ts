/**
 * The first stage: the intent (inline, the pipeline variable, or a file), the organisation's
 * instructions and policy, and the first request for files. Everything here is checked before the
 * model is asked, so a broken input costs no tokens.
 */
import { archiveFileName, archiveIntent } from './archive';
import { INPUTS } from './contract';
import type { Prepared } from './draft';
import { describeIntent, parseIntent, type Intent } from './intent';
import type { IntentSource } from './manifest';
import { showPath } from './paths';
import { parsePolicyFile } from './policy-file';
import type { FileReader, Logger } from './ports';
import { buildPrompt } from './prompt';
import type { Settings } from './settings';

export interface ReadIntentPorts {
  log: Logger;
  reader: FileReader;
  /** The pipeline variable `intent`, to tell it from inline text in the manifest. */
  intentVariable?: string;
}

/**
 * Read and parse the intent, the instructions file and the policy file; build the first request.
 * @throws IntentError, PolicyFileError, and the reader's errors naming the input.
 */
export async function readIntent(settings: Settings, ports: ReadIntentPorts): Promise<Prepared> {
  const { log, reader } = ports;
  let intent: Intent;
  if (settings.intent.kind === 'archive') {
    intent = archiveIntent(settings.intent.file);
    log.info(
      `Intent: none given; the files come from the archive ${showPath(archiveFileName(settings.intent.file))}.`,
    );
  } else {
    intent = parseIntent(
      settings.intent.kind === 'file'
        ? await reader.readText(settings.intent.path, INPUTS.intentFile)
        : settings.intent.text,
    );
    log.info(`Intent: ${describeIntent(intent)}.`);
  }
  const instructions = settings.instructionsFile
    ? {
        file: settings.instructionsFile,
        text: await reader.readText(settings.instructionsFile, INPUTS.instructionsFile),
      }
    : undefined;
  const policy = settings.policyFile ? await readPolicy(reader, settings.policyFile) : undefined;
  return {
    intent,
    intentSource: intentSource(settings, ports.intentVariable),
    ...(instructions ? { instructions } : {}),
    ...(policy ? { policy } : {}),
    request: buildPrompt(intent, settings, settings.model, instructions?.text),
  };
}

async function readPolicy(reader: FileReader, file: string): Promise<NonNullable<Prepared['policy']>> {
  const text = await reader.readText(file, INPUTS.policyFile);
  return { file, text, rules: parsePolicyFile(text, file) };
}

function intentSource(settings: Settings, intentVariable: string | undefined): IntentSource {
  if (settings.intent.kind === 'file') return { kind: 'file', file: settings.intent.path };
  if (settings.intent.kind === 'archive') return { kind: 'archive', file: settings.intent.file };
  if (intentVariable !== undefined && intentVariable.trim() === settings.intent.text.trim())
    return { kind: 'variable', variable: 'intent' };
  return { kind: 'inline' };
}
