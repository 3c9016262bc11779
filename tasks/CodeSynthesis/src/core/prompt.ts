/**
 * Prompt building: the system and user messages and the JSON schema of the reply.
 */
import type { Intent, ServiceCard, ServiceEndpoint, StackCard } from './intent';
import type { ModelRequest, ModelSettings } from './ports';
import type { ParamType } from './route';
import { callEnvName } from './stack-card';
import { STACK_FILES, stackServiceCard } from './templates/stack';

/** The structured-output schema (strict): every property required, no others allowed. */
export const REPLY_SCHEMA = {
  name: 'generated_files',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['files', 'summary'],
    properties: {
      files: {
        type: 'array',
        description: 'Every file of the service, with a relative path using forward slashes.',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['path', 'content'],
          properties: {
            path: { type: 'string', description: 'Relative path, forward slashes, no "..".' },
            content: { type: 'string', description: 'The whole file content, UTF-8 text.' },
          },
        },
      },
      summary: { type: 'string', description: 'One paragraph: what was generated and how to run it.' },
    },
  },
} as const;

/** Limits the model is told about, so that it can stay within them. */
export interface PromptLimits {
  maxFiles: number;
  maxTotalBytes: number;
  deniedPaths: readonly string[];
}

const SYSTEM = `You are a senior software engineer generating a complete, buildable service from a specification.
Reply with JSON only, matching the given schema: {"files":[{"path":"relative/path","content":"..."}],"summary":"..."}.
Rules:
- Paths are relative, use forward slashes, never contain "..", never start with "/" or a drive letter.
- Never write into .git/, .github/, .azuredevops/, .synthesis/ or any azure-pipelines*.yml file.
- Include the source, a dependency manifest with pinned versions, unit tests, a Dockerfile running as a non-root user and a Kubernetes Deployment and Service.
- Read all configuration from environment variables. Never hard-code secrets, keys, passwords or connection strings.
- Put every file under a folder named after the service (for a stack, under the stack's folder, one subfolder per service).
If JSON output is not possible, write each file as a fenced code block whose opening line is three backticks, an optional language and path=<relative path>, for example:
\`\`\`python path=weather/app.py
print("hello")
\`\`\``;

/**
 * Build the request for an intent. Deterministic: the same inputs give byte-identical messages,
 * so the manifest's prompt hash identifies the prompt.
 * @param instructions organisation conventions (instructionsFile), appended to the system prompt.
 */
export function buildPrompt(
  intent: Intent,
  limits: PromptLimits,
  settings: ModelSettings,
  instructions?: string,
): ModelRequest {
  const rules = [
    `- At most ${limits.maxFiles} files and ${Math.floor(limits.maxTotalBytes / 1024)} KB in total.`,
    ...(limits.deniedPaths.length ? [`- Never write paths matching: ${limits.deniedPaths.join(', ')}.`] : []),
  ].join('\n');
  let system = `${SYSTEM}\n${rules}`;
  if (instructions?.trim()) system += `\n\nOrganisation conventions (follow them):\n${instructions.trim()}`;
  const user =
    intent.kind === 'card'
      ? `Generate the service described by this service card:\n\n${describeCard(intent.card)}\n\nThe card as written:\n${intent.text}`
      : intent.kind === 'stack'
        ? `Generate the stack described by this stack card: several services, each in its own folder, and the files they share.\n\n${describeStack(intent.stack)}\n\nThe card as written:\n${intent.text}`
        : `Generate the service described here:\n\n${intent.text}`;
  return {
    messages: [
      { role: 'system', content: system },
      { role: 'user', content: user },
    ],
    responseSchema: { name: REPLY_SCHEMA.name, schema: REPLY_SCHEMA.schema },
    settings,
    intent,
  };
}

/**
 * The text the manifest's prompt hash is of: the messages' contents and the schema together (for the
 * first request, the system and user messages: the same hash as before requests became message lists).
 */
export function promptText(request: ModelRequest): string {
  return JSON.stringify([...request.messages.map((m) => m.content), request.responseSchema]);
}

/** SHA-256 input of a request's messages, roles included, for the manifest's record of each call. */
export function messagesText(request: ModelRequest): string {
  return JSON.stringify(request.messages.map((m) => [m.role, m.content]));
}

function describeCard(card: ServiceCard): string {
  const lines = [
    `Name: ${card.name}`,
    `Language: ${card.language}`,
    `Framework: ${card.framework}`,
    `Port: ${card.port} (read from the PORT environment variable, this as the default)`,
  ];
  if (card.description) lines.push(`Description: ${card.description}`);
  if (card.endpoints.length)
    lines.push(
      'Endpoints:',
      ...card.endpoints.map(
        (e) => `  - ${e.method} ${e.path}${describeParams(e)}${e.description ? `: ${e.description}` : ''}`,
      ),
    );
  lines.push('  - GET /healthz: liveness and readiness probe');
  if (card.endpoints.some((e) => e.segments.some((s) => s.kind === 'param')))
    lines.push(
      "Path parameters are written as the card wrote them ({name}, :name, <name> or <type:name>): write each route in the framework's own syntax and convert typed parameters, answering 404 when a value does not fit its type.",
    );
  if (card.dependencies.length) lines.push(`Dependencies: ${card.dependencies.join(', ')}`);
  if (card.env.length)
    lines.push(
      'Environment variables:',
      ...card.env.map(
        (e) =>
          `  - ${e.name}${e.secret ? ' (secret: no default, from a Kubernetes secret)' : e.default !== undefined ? ` (default ${e.default})` : ''}${e.description ? `: ${e.description}` : ''}`,
      ),
    );
  return lines.join('\n');
}

/**
 * A stack for the model: where every file goes (the layout the offline templates render), each
 * service as its card describes it with the variables the stack gives it, the calls, the gateway.
 */
function describeStack(stack: StackCard): string {
  const { namespace, gateway, calls, env } = stack.shared;
  const dir = stack.name;
  const byName = new Map(stack.services.map((s) => [s.name, s]));
  const lines = [`Stack: ${stack.name}`];
  if (stack.description) lines.push(`Description: ${stack.description}`);
  lines.push(
    `Kubernetes namespace: ${namespace}`,
    '',
    `Files: put every file under the folder ${dir}/:`,
    ...stack.services.map(
      (s) =>
        `- ${dir}/${s.name}/: the service '${s.name}' with everything a single service has (source, dependency manifest, unit tests, Dockerfile, k8s/deployment.yaml with a Deployment and a ClusterIP Service named '${s.name}' whose port 80, named http, targets the service's port, README.md)`,
    ),
    `- ${dir}/${STACK_FILES.compose}: docker compose, one service per folder built from its Dockerfile (build context ./<service>), each port published on 127.0.0.1 only, the environment below, secrets left to the shell's environment`,
    `- ${dir}/${STACK_FILES.kustomization}: namespace ${namespace}; resources ${STACK_FILES.namespace}, each <service>/k8s/deployment.yaml${gateway ? ` and ${STACK_FILES.ingress}` : ''} (paths inside ${dir}/ only)`,
    `- ${dir}/${STACK_FILES.namespace}: the Namespace ${namespace}`,
    ...(gateway
      ? [`- ${dir}/${STACK_FILES.ingress}: the gateway below as a networking.k8s.io/v1 Ingress`]
      : []),
    `- ${dir}/${STACK_FILES.readme}: the map of services, a table and a mermaid diagram of the calls`,
  );
  stack.services.forEach((s, i) => {
    lines.push('', `Service ${i + 1} of ${stack.services.length}:`, describeCard(stackServiceCard(stack, s)));
  });
  if (calls.length)
    lines.push(
      '',
      'Calls (the caller reads the URL from the variable; on Kubernetes http://<service>, under docker compose http://<service>:<port>):',
      ...calls.map(
        (c) =>
          `  - ${c.from} calls ${c.to}: ${callEnvName(c.to)}=http://${c.to} (compose: http://${c.to}:${byName.get(c.to)?.port})`,
      ),
    );
  if (env.length)
    lines.push('', 'Values the stack sets:', ...env.map((e) => `  - ${e.service}: ${e.name}=${e.value}`));
  if (gateway)
    lines.push(
      '',
      `Gateway (Ingress, pathType Prefix, paths passed to the service unchanged)${gateway.host ? `, host ${gateway.host}` : ''}${gateway.className ? `, ingressClassName ${gateway.className}` : ''}${gateway.tlsSecret ? `, TLS from the Secret ${gateway.tlsSecret}` : ''}:`,
      ...gateway.routes.map((r) => `  - ${r.path} -> ${r.service}`),
    );
  return lines.join('\n');
}

const TYPE_WORDS: Record<ParamType, string> = {
  string: 'text, one path segment',
  int: 'unsigned integer',
  float: "unsigned decimal number with a '.'",
  path: "the rest of the path, '/' included",
  uuid: 'UUID',
};

/** ' (path parameters: id: unsigned integer; ...)', or '' for an endpoint without parameters. */
function describeParams(endpoint: ServiceEndpoint): string {
  const params = endpoint.segments.flatMap((s) =>
    s.kind === 'param' ? [`${s.name}: ${TYPE_WORDS[s.type]}`] : [],
  );
  return params.length ? ` (path parameters: ${params.join('; ')})` : '';
}
