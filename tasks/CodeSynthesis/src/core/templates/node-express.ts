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
  mismatchedUrl,
  quote,
  readmeParts,
  resourceName,
  sampleRequest,
  type RenderedEndpoint,
} from './common';
import type { RouteSegment } from '../route';

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
 * The Express 5 (path-to-regexp 8) route. A `path` parameter becomes the wildcard `*name` (one or more
 * segments, which Express hands over as an array), any other parameter `:name`; a name is quoted when
 * a name character follows it. Characters path-to-regexp reserves are escaped with a backslash
 * (`/items:batchUpdate` keeps its literal colon). Express has no typed parameters: the handler
 * converts them (see appTs).
 * https://github.com/pillarjs/path-to-regexp#parameters
 */
export function expressRoute(segments: readonly RouteSegment[]): string {
  return segments
    .map((s, i) => {
      if (s.kind === 'literal') return s.text.replace(/[()[\]{}+?!:*\\]/g, '\\$&');
      const next = segments[i + 1];
      const name = next?.kind === 'literal' && /^[$\w]/.test(next.text) ? JSON.stringify(s.name) : s.name;
      return (s.type === 'path' ? '*' : ':') + name;
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

/**
 * The endpoints in the order Express should try them. Express takes the first route that matches, Flask
 * the most specific one (https://werkzeug.palletsprojects.com/en/stable/routing/): so
 * routes without parameters come first, then those with typed parameters, those with string parameters,
 * and those with a `path` wildcard last, keeping the card's order otherwise. `/orders/latest`,
 * `/orders/<int:id>` and `/orders/<name>` then answer as in Flask whatever order the card lists them in
 * (a typed parameter that does not convert passes the request on, see convertParam).
 */
export function expressOrder(endpoints: readonly RenderedEndpoint[]): RenderedEndpoint[] {
  const rank = (e: RenderedEndpoint) => {
    const params = e.segments.flatMap((s) => (s.kind === 'param' ? [s.type] : []));
    return [
      params.includes('path') ? 1 : 0,
      params.filter((t) => t === 'string').length,
      params.filter((t) => t !== 'string' && t !== 'path').length,
    ];
  };
  const ranked = endpoints.map((e) => ({ e, rank: rank(e) }));
  // Array.prototype.sort is stable (ES2019), so equal ranks keep the card's order.
  return ranked.sort((a, b) => compareRanks(a.rank, b.rank)).map((r) => r.e);
}

function compareRanks(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

function appTs(card: ServiceCard, endpoints: readonly RenderedEndpoint[]): string {
  const routes = expressOrder(endpoints).map((e) => {
    const types = e.segments.flatMap((s) => (s.kind === 'param' ? [`${js(s.name)}: ${js(s.type)}`] : []));
    return `  app.${e.method.toLowerCase()}(${js(expressRoute(e.segments))}, placeholder(${js(e.method)}, ${js(e.path)}, ${js(e.description ?? '')}, ${e.method === 'POST' ? 201 : 200}, {${types.length ? ` ${types.join(', ')} ` : ''}}));`;
  });
  return [
    `import express, { type NextFunction, type Request, type RequestHandler, type Response } from "express";`,
    `import type { Config } from "./config";`,
    ``,
    `export const SERVICE_NAME = ${js(card.name)};`,
    ``,
    `const BODY_METHODS = new Set(["POST", "PUT", "PATCH"]);`,
    `const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;`,
    ``,
    `/** The path parameter types of the service card (Flask's converters). */`,
    `export type ParamType = "string" | "int" | "float" | "path" | "uuid";`,
    ``,
    `/**`,
    ` * A path parameter converted as Flask's converter of the same type does: int and float are unsigned`,
    ` * digits (a float has a "."), uuid is lower-cased, path joins the segments of a wildcard.`,
    ` * Undefined when the value does not fit the type.`,
    ` */`,
    `export function convertParam(type: ParamType, raw: unknown): string | number | undefined {`,
    `  if (Array.isArray(raw)) return type === "path" ? raw.join("/") : undefined;`,
    `  if (typeof raw !== "string") return undefined;`,
    `  switch (type) {`,
    `    case "int":`,
    `      return /^\\d+$/.test(raw) && Number.isSafeInteger(Number(raw)) ? Number(raw) : undefined;`,
    `    case "float":`,
    `      return /^\\d+\\.\\d+$/.test(raw) ? Number(raw) : undefined;`,
    `    case "uuid":`,
    `      return UUID.test(raw) ? raw.toLowerCase() : undefined;`,
    `    default:`,
    `      return raw;`,
    `  }`,
    `}`,
    ``,
    `/** A JSON placeholder answer: replace it with the endpoint's real logic. */`,
    `function placeholder(`,
    `  method: string,`,
    `  endpoint: string,`,
    `  description: string,`,
    `  status: number,`,
    `  types: Record<string, ParamType>,`,
    `): RequestHandler {`,
    `  return (req: Request, res: Response, next: NextFunction) => {`,
    `    const params: Record<string, string | number> = {};`,
    `    for (const [name, type] of Object.entries(types)) {`,
    `      const value = convertParam(type, (req.params as Record<string, unknown>)[name]);`,
    `      // Not a value of this type: leave the request to a later route or the 404, as Flask does.`,
    `      if (value === undefined) return next("route");`,
    `      params[name] = value;`,
    `    }`,
    `    const body: Record<string, unknown> = {`,
    `      service: SERVICE_NAME,`,
    `      endpoint,`,
    `      method,`,
    `      params,`,
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
    const { url, params } = sampleRequest(e.segments);
    const values = params.map((p) => `${js(p.name)}: ${typeof p.value === 'number' ? p.value : js(p.value)}`);
    const hasBody = BODY_METHODS.has(e.method);
    const mismatch = mismatchedUrl(e.segments);
    return [
      ``,
      `test(${js(`${e.method} ${e.path} answers with its placeholder`)}, async () => {`,
      `  const { status, body } = await call(${js(e.method)}, ${js(url)}${hasBody ? ', { example: true }' : ''});`,
      `  assert.equal(status, ${e.method === 'POST' ? 201 : 200});`,
      `  assert.equal(body["service"], SERVICE_NAME);`,
      `  assert.equal(body["endpoint"], ${js(e.path)});`,
      `  assert.equal(body["method"], ${js(e.method)});`,
      `  assert.deepEqual(body["params"], {${values.length ? ` ${values.join(', ')} ` : ''}});`,
      `  assert.deepEqual(body["query"], { q: "example" });`,
      ...(hasBody ? [`  assert.deepEqual(body["received"], { example: true });`] : []),
      `});`,
      ...(mismatch
        ? [
            ``,
            `test(${js(`${e.method} ${e.path} refuses ${mismatch}: its parameter does not convert`)}, async () => {`,
            `  const { body } = await call(${js(e.method)}, ${js(mismatch)});`,
            `  assert.notEqual(body["endpoint"], ${js(e.path)});`,
            `});`,
          ]
        : []),
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
    `  // Express's own 404 page is HTML: its body counts as empty.`,
    `  const json = response.headers.get("content-type")?.includes("application/json");`,
    `  return { status: response.status, body: json ? ((await response.json()) as Record<string, unknown>) : {} };`,
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
