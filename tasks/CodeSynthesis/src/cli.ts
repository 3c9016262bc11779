/**
 * Local entry: the same core as the task, outside a pipeline.
 *   code-synthesis --intent examples/weather.yaml --out ./generated
 */
import { parseArgs } from 'node:util';
import { createCliHost, reportUsageError } from './adapters/pipeline/cli-host';
import { compose } from './compose';
import { INPUTS, type InputName } from './core/contract';
import { run } from './run';
import { VERSION } from './version';

const FLAGS: Record<string, InputName> = {
  'intent-file': INPUTS.intentFile,
  'intent-text': INPUTS.intent,
  out: INPUTS.outputDirectory,
  provider: INPUTS.provider,
  archive: INPUTS.archiveFile,
  'auth-mode': INPUTS.authMode,
  endpoint: INPUTS.endpoint,
  deployment: INPUTS.deployment,
  'api-version': INPUTS.apiVersion,
  'conflict-policy': INPUTS.conflictPolicy,
  'max-files': INPUTS.maxFiles,
  'max-total-size-kb': INPUTS.maxTotalSizeKB,
  temperature: INPUTS.temperature,
  'max-output-tokens': INPUTS.maxOutputTokens,
  seed: INPUTS.seed,
  instructions: INPUTS.instructionsFile,
  policy: INPUTS.policyFile,
  'fail-on-findings': INPUTS.failOnFindings,
  'max-file-size-kb': INPUTS.maxFileSizeKB,
  'provenance-headers': INPUTS.provenanceHeaders,
  'prompt-token-price': INPUTS.promptTokenPrice,
  'completion-token-price': INPUTS.completionTokenPrice,
  'timeout-seconds': INPUTS.timeoutSeconds,
  'validate-command': INPUTS.validateCommand,
  'repair-attempts': INPUTS.repairAttempts,
  'validate-timeout-seconds': INPUTS.validateTimeoutSeconds,
  'validate-working-directory': INPUTS.validateWorkingDirectory,
  'generation-strategy': INPUTS.generationStrategy,
  concurrency: INPUTS.concurrency,
  reuse: INPUTS.reuse,
};

export const HELP = `code-synthesis: turn an intent into source files (the CodeSynthesis@1 task, run locally).

Usage: code-synthesis --intent FILE --out DIR [options]
       code-synthesis --provider archive --archive FILE --out DIR [options]

  --intent FILE            intent file: a YAML service or stack card, or free text (alias --intent-file)
  --intent-text TEXT       the intent itself instead of a file
  --out DIR                output directory (required)
  --provider NAME          offline (default here), azureOpenAI, openAICompatible or archive
  --archive FILE           with --provider archive: the zip, tar or tar.gz to unpack through the same checks
                           (no model; --intent optional, recorded when given)
  --auth-mode MODE         apiKey (default here for remote providers); the key is read from CODE_SYNTHESIS_API_KEY
  --endpoint URL           Azure OpenAI resource endpoint, or the OpenAI-compatible base URL
  --deployment NAME        deployment (Azure) or model name
  --api-version VERSION    Azure OpenAI api-version
  --conflict-policy P      fail (default), overwrite, skip or merge (keep people's edits: three-way merge)
  --denied GLOB            a path glob never written (repeatable)
  --max-files N            default 200
  --max-total-size-kb N    default 5120
  --instructions FILE      organisation conventions appended to the system prompt
  --policy FILE            organisation scan rules (YAML, see the README)
  --fail-on-findings B     true (default): write nothing when the scan finds errors; false: warn and write
  --sarif FILE             write the scan's SARIF 2.1.0 log to FILE (none is written without it)
  --max-file-size-kb N     a file larger than this is a finding (default 1024)
  --provenance-headers B   true: a provenance comment at the top of each source file (default false)
  --prompt-token-price P, --completion-token-price P   prices per million tokens, for a cost estimate
  --validate-command CMD   run CMD (bash -c; cmd /c on Windows) over a scratch copy with the files; on failure
                           the model repairs them (--repair-attempts N, default 2); still failing: nothing written
  --validate-timeout-seconds N, --validate-working-directory DIR (relative to --out)
  --generation-strategy S  auto (default): planned for stack cards and services too big for one reply;
                           single: one reply; planned: an outline, then the files in parallel calls
  --concurrency N          file calls at once in a planned generation (1-16, default 4)
  --reuse B                true (default): when the last manifest's inputs are these and its files are
                           there, call no model and write nothing; false: always generate
  --temperature T, --max-output-tokens N, --seed N, --timeout-seconds N
  --json                   print one JSON object on stdout when the run ends (result, exitCode, message,
                           outputs); every other line goes to stderr
  --verbose                debug output and output variables
  --version                the version
  -h, --help               this text

Environment:
  CODE_SYNTHESIS_API_KEY   the API key for --provider azureOpenAI or openAICompatible; never printed

Exit codes:
  0  success (with scan warnings too; or a cancel once the files were moving into place: that move completes)
  1  the run failed; the output directory is unchanged unless the message says otherwise
  2  usage error: an unknown option, or --intent (--archive with --provider archive) / --out missing
  3  cancelled (SIGINT or SIGTERM) before the files started moving into place; nothing was written`;

/** Parse argv and run. Returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const options = Object.fromEntries(Object.keys(FLAGS).map((k) => [k, { type: 'string' as const }]));
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        ...options,
        intent: { type: 'string' },
        denied: { type: 'string', multiple: true },
        sarif: { type: 'string' },
        json: { type: 'boolean' },
        verbose: { type: 'boolean' },
        version: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    });
  } catch (err) {
    return reportUsageError((err as Error).message, HELP, { json: argv.includes('--json') });
  }
  const { values } = parsed;
  const json = values.json === true;
  if (values.help || values.version) {
    process.stdout.write((values.help ? HELP : VERSION) + '\n');
    return 0;
  }
  const inputs: Partial<Record<InputName, string>> = { [INPUTS.provider]: 'offline' };
  for (const [flag, input] of Object.entries(FLAGS)) {
    const value = (values as Record<string, unknown>)[flag];
    if (typeof value === 'string') inputs[input] = value;
  }
  if (typeof values.intent === 'string') inputs[INPUTS.intentFile] = values.intent;
  const archive = inputs[INPUTS.provider]?.toLowerCase() === 'archive';
  if (archive && !inputs[INPUTS.archiveFile]) {
    return reportUsageError('--archive FILE is required with --provider archive.', HELP, { json });
  }
  if (!archive && !inputs[INPUTS.intentFile] && !inputs[INPUTS.intent]) {
    return reportUsageError('--intent FILE or --intent-text TEXT is required.', HELP, { json });
  }
  if (!inputs[INPUTS.outputDirectory]) {
    return reportUsageError('--out DIR is required.', HELP, { json });
  }
  if (values.denied) inputs[INPUTS.deniedPaths] = values.denied.join('\n');
  if (inputs[INPUTS.provider] !== 'offline' && !archive) {
    inputs[INPUTS.authMode] ??= 'apiKey';
    if (process.env.CODE_SYNTHESIS_API_KEY) inputs[INPUTS.apiKey] = process.env.CODE_SYNTHESIS_API_KEY;
  }
  const host = createCliHost({
    inputs,
    verbose: values.verbose === true,
    json,
    ...(typeof values.sarif === 'string' ? { sarif: values.sarif } : {}),
  });
  const apiKey = inputs[INPUTS.apiKey];
  if (apiKey) host.setSecret(apiKey);
  await run(host, compose);
  return host.exitCode;
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
