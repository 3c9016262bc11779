/**
 * The node/express template (also typescript/express): an Express 5 app in TypeScript, tests with
 * node's built-in runner over the compiled output, package.json, tsconfig, Dockerfile (non-root),
 * Kubernetes manifest and README, all under `<card.name>/`.
 */
import { IntentError } from '../errors';
import type { ServiceCard } from '../intent';
import type { FileToWrite } from '../ports';
import {
  endpointsOf,
  envOf,
  HEALTH_PATH,
  kubernetesManifest,
  quote,
  readmeParts,
  resourceName,
  samplePath,
  type RenderedEndpoint,
  type RoutePart,
} from './common';

/** Versions the template pins; card dependencies without a version are added as `latest`. */
export const NODE_PINS = {
  dependencies: { express: '5.3.0' },
  devDependencies: { '@types/express': '5.0.6', '@types/node': '24.19.2', typescript: '5.9.3' },
} as const;

const NODE_IMAGE = 'node:24-alpine';
/** The `node` user of the official images. */
const UID = 1000;
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Render an Express service.
 * @throws IntentError listing every card dependency that is not an npm package spec.
 */
export function renderNodeExpress(card: ServiceCard): FileToWrite[] {
  const dir = card.name;
  const endpoints = endpointsOf(card);
  return [
    { path: `${dir}/package.json`, content: packageJson(card) },
    { path: `${dir}/tsconfig.json`, content: TSCONFIG },
    { path: `${dir}/src/config.ts`, content: configTs(card) },
    { path: `${dir}/src/app.ts`, content: appTs(card, endpoints) },
    { path: `${dir}/src/server.ts`, content: SERVER_TS },
    { path: `${dir}/test/app.test.ts`, content: testTs(card, endpoints) },
    { path: `${dir}/Dockerfile`, content: dockerfile(card) },
    {
      path: `${dir}/.dockerignore`,
      content: [
        '.dockerignore',
        'Dockerfile',
        'README.md',
        'k8s/',
        'test/',
        'node_modules/',
        'dist/',
        'npm-debug.log*',
        '',
      ].join('\n'),
    },
    { path: `${dir}/k8s/deployment.yaml`, content: kubernetesManifest(card, { uid: UID }) },
    { path: `${dir}/README.md`, content: readme(card) },
  ];
}

const js = (value: string) => quote(value, 'js');

/**
 * The Express 5 (path-to-regexp 8) route. Parameters become `:name` (quoted when a name character
 * follows); literal `{` and `}` are matched percent-encoded because clients encode them and Express
 * matches the raw path; other characters path-to-regexp reserves are escaped with a backslash.
 * https://github.com/pillarjs/path-to-regexp#errors
 */
export function expressRoute(parts: readonly RoutePart[]): string {
  return parts
    .map((part, i) => {
      if (part.kind === 'text')
        return part.text
          .replace(/\{/g, '%7B')
          .replace(/\}/g, '%7D')
          .replace(/[()[\]+?!:*\\]/g, '\\$&');
      const next = parts[i + 1];
      return (
        ':' + (next?.kind === 'text' && /^[$\w]/.test(next.text) ? JSON.stringify(part.name) : part.name)
      );
    })
    .join('');
}

const TSCONFIG =
  JSON.stringify(
    {
      compilerOptions: {
        target: 'ES2022',
        module: 'node16',
        moduleResolution: 'node16',
        lib: ['ES2022'],
        types: ['node'],
        rootDir: '.',
        outDir: 'dist',
        strict: true,
        noUncheckedIndexedAccess: true,
        esModuleInterop: true,
        skipLibCheck: true,
      },
      include: ['src', 'test'],
    },
    null,
    2,
  ) + '\n';

function configTs(card: ServiceCard): string {
  const env = envOf(card);
  const settings = env.filter((e) => !e.secret);
  const secrets = env.filter((e) => e.secret);
  const shape = (lines: string[]) =>
    lines.length ? ['{', ...lines.map((l) => `    ${l}`), '  }'].join('\n') : 'Record<string, never>';
  return [
    `/** Configuration, read once from environment variables. */`,
    `export const DEFAULT_PORT = ${card.port};`,
    ``,
    `export interface Config {`,
    `  port: number;`,
    `  /** Settings, with their defaults. */`,
    `  settings: ${shape(settings.map((e) => `${js(e.name)}: string;`))};`,
    `  /** Secrets: read from the environment only, never given a default. */`,
    `  secrets: ${shape(secrets.map((e) => `${js(e.name)}: string | undefined;`))};`,
    `}`,
    ``,
    `export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {`,
    `  return {`,
    `    port: parsePort(env["PORT"]),`,
    `    settings: {${settings.map((e) => `\n      ${js(e.name)}: env[${js(e.name)}] ?? ${js(e.default ?? '')},`).join('')}${settings.length ? '\n    ' : ''}},`,
    `    secrets: {${secrets.map((e) => `\n      ${js(e.name)}: env[${js(e.name)}],`).join('')}${secrets.length ? '\n    ' : ''}},`,
    `  };`,
    `}`,
    ``,
    `/** Names of the secrets that are not set (never their values). */`,
    `export function missingSecrets(config: Config): string[] {`,
    `  return Object.entries(config.secrets as Record<string, string | undefined>)`,
    `    .filter(([, value]) => !value)`,
    `    .map(([name]) => name);`,
    `}`,
    ``,
    `function parsePort(value: string | undefined): number {`,
    `  if (value === undefined || value === "") return DEFAULT_PORT;`,
    `  const port = Number(value);`,
    `  if (!Number.isInteger(port) || port < 0 || port > 65535) {`,
    "    throw new Error(`PORT must be a whole number from 0 to 65535 (got '${value}').`);",
    `  }`,
    `  return port;`,
    `}`,
    ``,
  ].join('\n');
}

function appTs(card: ServiceCard, endpoints: readonly RenderedEndpoint[]): string {
  const routes = endpoints.map(
    (e) =>
      `  app.${e.method.toLowerCase()}(${js(expressRoute(e.route))}, placeholder(${js(e.method)}, ${js(e.path)}, ${js(e.description ?? '')}, ${e.method === 'POST' ? 201 : 200}));`,
  );
  return [
    `import express, { type Request, type RequestHandler, type Response } from "express";`,
    `import type { Config } from "./config";`,
    ``,
    `export const SERVICE_NAME = ${js(card.name)};`,
    ``,
    `const BODY_METHODS = new Set(["POST", "PUT", "PATCH"]);`,
    ``,
    `/** A JSON placeholder answer: replace it with the endpoint's real logic. */`,
    `function placeholder(method: string, endpoint: string, description: string, status: number): RequestHandler {`,
    `  return (req: Request, res: Response) => {`,
    `    const body: Record<string, unknown> = {`,
    `      service: SERVICE_NAME,`,
    `      endpoint,`,
    `      method,`,
    `      params: { ...req.params },`,
    `      query: req.query,`,
    `      message: "Placeholder response: implement this endpoint.",`,
    `    };`,
    `    if (description) body["description"] = description;`,
    `    if (BODY_METHODS.has(method)) body["received"] = req.body ?? null;`,
    `    res.status(status).json(body);`,
    `  };`,
    `}`,
    ``,
    `export function createApp(config: Config): express.Express {`,
    `  const app = express();`,
    `  app.disable("x-powered-by");`,
    `  app.use(express.json());`,
    `  app.locals["config"] = config;`,
    ``,
    `  app.get(${js(HEALTH_PATH)}, (_req: Request, res: Response) => {`,
    `    res.json({ status: "ok", service: SERVICE_NAME });`,
    `  });`,
    ...routes,
    `  return app;`,
    `}`,
    ``,
  ].join('\n');
}

const SERVER_TS = [
  `import { createApp, SERVICE_NAME } from "./app";`,
  `import { loadConfig, missingSecrets } from "./config";`,
  ``,
  `const config = loadConfig();`,
  `const missing = missingSecrets(config);`,
  `if (missing.length > 0) console.warn(\`secret environment variable(s) not set: \${missing.join(", ")}\`);`,
  ``,
  `const server = createApp(config).listen(config.port, (error?: Error) => {`,
  `  if (error) throw error;`,
  `  console.log(\`\${SERVICE_NAME} listening on port \${config.port}\`);`,
  `});`,
  ``,
  `for (const signal of ["SIGTERM", "SIGINT"] as const) {`,
  `  process.once(signal, () => server.close(() => process.exit(0)));`,
  `}`,
  ``,
].join('\n');

function testTs(card: ServiceCard, endpoints: readonly RenderedEndpoint[]): string {
  const env = envOf(card);
  const settings = env.filter((e) => !e.secret);
  const secrets = env.filter((e) => e.secret);
  const tests = endpoints.flatMap((e) => {
    const params = e.route.flatMap((p) =>
      p.kind === 'param' ? [`${js(p.name)}: ${js(`sample-${p.name}`)}`] : [],
    );
    const hasBody = BODY_METHODS.has(e.method);
    return [
      ``,
      `test(${js(`${e.method} ${e.path} answers with its placeholder`)}, async () => {`,
      `  const { status, body } = await call(${js(e.method)}, ${js(samplePath(e.route))}${hasBody ? ', { example: true }' : ''});`,
      `  assert.equal(status, ${e.method === 'POST' ? 201 : 200});`,
      `  assert.equal(body["service"], SERVICE_NAME);`,
      `  assert.equal(body["endpoint"], ${js(e.path)});`,
      `  assert.equal(body["method"], ${js(e.method)});`,
      `  assert.deepEqual(body["params"], {${params.join(', ')}});`,
      `  assert.deepEqual(body["query"], { q: "example" });`,
      ...(hasBody ? [`  assert.deepEqual(body["received"], { example: true });`] : []),
      `});`,
    ];
  });
  const secretTest = secrets.length
    ? [
        ``,
        `test("secrets have no default", () => {`,
        `  const config = loadConfig({});`,
        ...secrets.map((e) => `  assert.equal(config.secrets[${js(e.name)}], undefined);`),
        `  assert.deepEqual(missingSecrets(config), [${secrets.map((e) => js(e.name)).join(', ')}]);`,
        `  assert.deepEqual(missingSecrets(loadConfig({${secrets.map((e) => `${js(e.name)}: "set"`).join(', ')}})), []);`,
        `});`,
      ]
    : [];
  return [
    `import assert from "node:assert/strict";`,
    `import { once } from "node:events";`,
    `import type { Server } from "node:http";`,
    `import type { AddressInfo } from "node:net";`,
    `import { after, before, test } from "node:test";`,
    `import { createApp, SERVICE_NAME } from "../src/app";`,
    `import { loadConfig, missingSecrets } from "../src/config";`,
    ``,
    `let server: Server;`,
    `let base = "";`,
    ``,
    `before(async () => {`,
    `  server = createApp(loadConfig({})).listen(0, "127.0.0.1");`,
    `  await once(server, "listening");`,
    `  base = \`http://127.0.0.1:\${(server.address() as AddressInfo).port}\`;`,
    `});`,
    ``,
    `after(() => {`,
    `  server.closeAllConnections();`,
    `  server.close();`,
    `});`,
    ``,
    `async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {`,
    `  const response = await fetch(\`\${base}\${path}?q=example\`, {`,
    `    method,`,
    `    ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),`,
    `  });`,
    `  return { status: response.status, body: (await response.json()) as Record<string, unknown> };`,
    `}`,
    ``,
    `test(${js(`GET ${HEALTH_PATH} answers ok`)}, async () => {`,
    `  const { status, body } = await call("GET", ${js(HEALTH_PATH)});`,
    `  assert.equal(status, 200);`,
    `  assert.deepEqual(body, { status: "ok", service: SERVICE_NAME });`,
    `});`,
    ...tests,
    ``,
    `test("configuration comes from the environment, with the card's defaults", () => {`,
    `  const config = loadConfig({});`,
    `  assert.equal(config.port, ${card.port});`,
    ...settings.map((e) => `  assert.equal(config.settings[${js(e.name)}], ${js(e.default ?? '')});`),
    `  assert.equal(loadConfig({ PORT: "9090" }).port, 9090);`,
    `});`,
    ...secretTest,
    ``,
  ].join('\n');
}

/** An npm package name (lower case, optional scope), then an optional range: `@1.2`, `==1.2`, ` 1.2`, `^1.2`, `>=1 <2`. */
const NPM_SPEC =
  /^((?:@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*)(?:(?:\s*(?:@|==)\s*|\s+|(?=[<>=^~]))([0-9A-Za-z.^~<>=*| -]+))?$/;

function packageJson(card: ServiceCard): string {
  const dependencies: Record<string, string> = { ...NODE_PINS.dependencies };
  const devDependencies: Record<string, string> = { ...NODE_PINS.devDependencies };
  const problems: string[] = [];
  for (const dep of card.dependencies) {
    const match = NPM_SPEC.exec(dep);
    if (!match) {
      problems.push(
        `'${dep}' is not an npm package spec (use 'name', 'name@version' or '@scope/name@version')`,
      );
      continue;
    }
    const [, name = '', range] = match;
    const version = range?.trim();
    // A card dependency the template already pins keeps the pin unless the card names a version.
    const target = name in devDependencies ? devDependencies : dependencies;
    if (name in target && !version) continue;
    target[name] = version || 'latest';
  }
  if (problems.length) {
    throw new IntentError(
      `the service card's dependencies do not fit node/express:\n  - ${problems.join('\n  - ')}`,
      'List npm packages, e.g. zod or zod@3.24.1.',
    );
  }
  const sorted = (record: Record<string, string>) =>
    Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const pkg = {
    name: card.name,
    version: '0.1.0',
    private: true,
    ...(card.description ? { description: card.description } : {}),
    main: 'dist/src/server.js',
    scripts: {
      build: 'tsc -p .',
      start: 'node dist/src/server.js',
      test: 'tsc -p . && node --test dist/test/app.test.js',
    },
    engines: { node: '>=20' },
    dependencies: sorted(dependencies),
    devDependencies: sorted(devDependencies),
  };
  return JSON.stringify(pkg, null, 2) + '\n';
}

function dockerfile(card: ServiceCard): string {
  return [
    `FROM ${NODE_IMAGE} AS build`,
    `WORKDIR /app`,
    `COPY package*.json ./`,
    `RUN npm install --no-audit --no-fund`,
    `COPY tsconfig.json ./`,
    `COPY src ./src`,
    `RUN npm run build && npm prune --omit=dev`,
    ``,
    `FROM ${NODE_IMAGE}`,
    `ENV NODE_ENV=production \\`,
    `    PORT=${card.port}`,
    `WORKDIR /app`,
    `COPY --from=build /app/package.json ./`,
    `COPY --from=build /app/node_modules ./node_modules`,
    `COPY --from=build /app/dist/src ./dist/src`,
    `# ${UID} is the 'node' user of the official image; numeric so Kubernetes can check runAsNonRoot.`,
    `USER ${UID}`,
    `EXPOSE ${card.port}`,
    `CMD ["node", "dist/src/server.js"]`,
    ``,
  ].join('\n');
}

function readme(card: ServiceCard): string {
  const { head, config, kubernetes } = readmeParts(card, 'Node.js/Express (TypeScript)');
  return [
    head,
    config,
    `## Run and test`,
    ``,
    '```sh',
    `npm install`,
    `npm test                 # compiles, then runs node --test`,
    `npm run build && npm start`,
    '```',
    ``,
    `Commit the \`package-lock.json\` that \`npm install\` creates; the Dockerfile then installs exactly those versions.`,
    ``,
    `## Container`,
    ``,
    '```sh',
    `docker build -t ${resourceName(card)}:0.1.0 .`,
    `docker run --rm -p ${card.port}:${card.port} ${resourceName(card)}:0.1.0`,
    '```',
    ``,
    kubernetes,
  ].join('\n');
}
