/**
 * Pieces every offline template shares: literal quoting, sample requests, endpoint and env
 * normalisation, the Kubernetes manifest and Markdown escaping. Pure and deterministic.
 */
import type { EnvSetting, ServiceCard, ServiceEndpoint } from '../intent';
import type { ParamType, RouteSegment } from '../route';

/**
 * Quote text as a double-quoted string literal that is valid, and means the same text, in
 * JavaScript/TypeScript, Python 3 and YAML. The result is printable ASCII only, so card text can
 * neither end the literal nor start a new line, comment or statement. Lone surrogates become U+FFFD.
 */
export function quote(value: string, language: 'js' | 'py' | 'yaml'): string {
  let out = '"';
  for (const ch of value) {
    let cp = ch.codePointAt(0) ?? 0xfffd;
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (cp >= 0x20 && cp < 0x7f) out += ch;
    else if (cp <= 0xffff) out += '\\u' + cp.toString(16).padStart(4, '0');
    else out += language === 'js' ? `\\u{${cp.toString(16)}}` : '\\U' + cp.toString(16).padStart(8, '0');
  }
  return out + '"';
}

/** A mismatch per type a framework must refuse: it does not convert and must not reach the handler. */
const MISMATCHES: Partial<Record<ParamType, string>> = { int: 'x42', float: '2', uuid: 'not-a-uuid' };
const WORDS = ['london', 'paris', 'tokyo'];

/** The n-th (0-based) sample of a type as requested, and its value once the service has converted it. */
function sample(type: ParamType, n: number): { text: string; value: string | number } {
  switch (type) {
    case 'int':
      return { text: String(42 + n), value: 42 + n };
    case 'float':
      return { text: `${2 + n}.5`, value: 2.5 + n };
    case 'path':
      return { text: `a/b${n || ''}/c.txt`, value: `a/b${n || ''}/c.txt` };
    case 'uuid': {
      const text = `123e4567-e89b-12d3-a456-${String(426614174000 + n).padStart(12, '0')}`;
      return { text, value: text };
    }
    case 'string': {
      const text = WORDS[n] ?? `value-${n}`;
      return { text, value: text };
    }
  }
}

/** The URL path a generated test requests, and each parameter's value as the service converts it. */
export interface Sample {
  url: string;
  params: { name: string; value: string | number }[];
}

/**
 * A concrete request for an endpoint: each parameter replaced by a sample of its type, different for
 * each parameter (`london`, `paris`, ...; `42`, `43`, ...; `2.5`; `a/b/c.txt`; a fixed UUID), so
 * `/weather/<city>` gives `/weather/london` and `/orders/<int:id>` gives `/orders/42` with id 42.
 */
export function sampleRequest(segments: readonly RouteSegment[]): Sample {
  return requestFor(segments, false);
}

/**
 * A request the endpoint must not answer: its first parameter whose type has a converter gets a
 * value that does not convert (`/orders/x42` for `/orders/<int:id>`); undefined when it has none.
 */
export function mismatchedUrl(segments: readonly RouteSegment[]): string | undefined {
  return segments.some((s) => s.kind === 'param' && MISMATCHES[s.type] !== undefined)
    ? requestFor(segments, true).url
    : undefined;
}

function requestFor(segments: readonly RouteSegment[], mismatch: boolean): Sample {
  let spoil = mismatch;
  const params: Sample['params'] = [];
  const counts = new Map<ParamType, number>();
  const url = segments
    .map((s) => {
      if (s.kind === 'literal') return s.text;
      const bad = MISMATCHES[s.type];
      if (spoil && bad !== undefined) {
        spoil = false;
        return bad;
      }
      const n = counts.get(s.type) ?? 0;
      counts.set(s.type, n + 1);
      const { text, value } = sample(s.type, n);
      params.push({ name: s.name, value });
      return text;
    })
    .join('');
  return { url, params };
}

/** An endpoint as the templates render it. */
export interface RenderedEndpoint extends ServiceEndpoint {
  /** A unique identifier made of the method and the path, e.g. `get_orders_id`. */
  id: string;
}

/** The built-in health route every service has. */
export const HEALTH_PATH = '/healthz';

/**
 * The card's endpoints, each once (two endpoints are one when a framework could not tell them apart:
 * same method, literals and parameter types, whatever the names and style), without `GET /healthz`
 * (the built-in health route answers it), each with a unique identifier.
 */
export function endpointsOf(card: ServiceCard): RenderedEndpoint[] {
  const out: RenderedEndpoint[] = [];
  const keys = new Set<string>([`GET ${HEALTH_PATH}`]);
  const ids = new Set<string>();
  for (const endpoint of card.endpoints) {
    const shape = endpoint.segments.map((s) => (s.kind === 'literal' ? s.text : `{:${s.type}}`)).join('');
    const key = `${endpoint.method} ${shape}`;
    if (keys.has(key)) continue;
    keys.add(key);
    const words = endpoint.segments
      .map((s) => (s.kind === 'literal' ? s.text : `_${s.name}_`))
      .join('')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '');
    const base = `${endpoint.method.toLowerCase()}_${words || 'root'}`;
    let id = base;
    for (let n = 2; ids.has(id); n++) id = `${base}_${n}`;
    ids.add(id);
    out.push({ ...endpoint, id });
  }
  return out;
}

/** The card's env entries without PORT, which every template already reads (default: card.port). */
export function envOf(card: ServiceCard): EnvSetting[] {
  return card.env.filter((e) => e.name !== 'PORT');
}

/** A name usable for Kubernetes objects and image names (DNS label: no trailing '-'). */
export function resourceName(card: ServiceCard): string {
  return card.name.replace(/-+$/, '') || 'service';
}

/** Text safe to place in Markdown prose or a table cell: one line, no HTML, no table breaks. */
export function markdownText(value: string): string {
  return value
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_[\]|])/g, '\\$1')
    .trim();
}

/** Settings of the container that differ between templates. */
export interface ContainerSpec {
  /** The numeric user the image runs as (Kubernetes can only verify a numeric user is not root). */
  uid: number;
}

/**
 * k8s/deployment.yaml: a Deployment and a ClusterIP Service. Probes use /healthz; non-secret env
 * entries get their card default (or "" when none); secret entries come from the Secret
 * `<name>-secrets` through secretKeyRef, so no secret value is ever written.
 */
export function kubernetesManifest(card: ServiceCard, container: ContainerSpec): string {
  const name = resourceName(card);
  const q = (s: string) => quote(s, 'yaml');
  const env = [`            - name: PORT`, `              value: ${q(String(card.port))}`];
  for (const e of envOf(card)) {
    env.push(`            - name: ${e.name}`);
    if (e.secret) {
      env.push(
        `              valueFrom:`,
        `                secretKeyRef:`,
        `                  name: ${q(`${name}-secrets`)}`,
        `                  key: ${e.name}`,
      );
    } else env.push(`              value: ${q(e.default ?? '')}`);
  }
  const probe = (kind: string, delay: number) => [
    `          ${kind}:`,
    `            httpGet:`,
    `              path: ${HEALTH_PATH}`,
    `              port: http`,
    `            initialDelaySeconds: ${delay}`,
    `            periodSeconds: 10`,
  ];
  return [
    `apiVersion: apps/v1`,
    `kind: Deployment`,
    `metadata:`,
    `  name: ${q(name)}`,
    `  labels:`,
    `    app.kubernetes.io/name: ${q(name)}`,
    ...(card.description ? [`  annotations:`, `    description: ${q(card.description)}`] : []),
    `spec:`,
    `  replicas: 2`,
    `  selector:`,
    `    matchLabels:`,
    `      app.kubernetes.io/name: ${q(name)}`,
    `  template:`,
    `    metadata:`,
    `      labels:`,
    `        app.kubernetes.io/name: ${q(name)}`,
    `    spec:`,
    `      automountServiceAccountToken: false`,
    `      securityContext:`,
    `        runAsNonRoot: true`,
    `        runAsUser: ${container.uid}`,
    `        runAsGroup: ${container.uid}`,
    `        seccompProfile:`,
    `          type: RuntimeDefault`,
    `      containers:`,
    `        - name: ${q(name)}`,
    `          image: ${q(`${name}:0.1.0`)}`,
    `          imagePullPolicy: IfNotPresent`,
    `          ports:`,
    `            - name: http`,
    `              containerPort: ${card.port}`,
    `          env:`,
    ...env,
    ...probe('readinessProbe', 2),
    ...probe('livenessProbe', 10),
    `          resources:`,
    `            requests:`,
    `              cpu: 50m`,
    `              memory: 64Mi`,
    `            limits:`,
    `              memory: 256Mi`,
    `          securityContext:`,
    `            allowPrivilegeEscalation: false`,
    `            readOnlyRootFilesystem: true`,
    `            capabilities:`,
    `              drop: ["ALL"]`,
    `          volumeMounts:`,
    `            - name: tmp`,
    `              mountPath: /tmp`,
    `      volumes:`,
    `        - name: tmp`,
    `          emptyDir: {}`,
    `---`,
    `apiVersion: v1`,
    `kind: Service`,
    `metadata:`,
    `  name: ${q(name)}`,
    `  labels:`,
    `    app.kubernetes.io/name: ${q(name)}`,
    `spec:`,
    `  type: ClusterIP`,
    `  selector:`,
    `    app.kubernetes.io/name: ${q(name)}`,
    `  ports:`,
    `    - name: http`,
    `      port: 80`,
    `      targetPort: http`,
    ``,
  ].join('\n');
}

/** README sections every template shares: title, description, endpoints, configuration, Kubernetes. */
export function readmeParts(
  card: ServiceCard,
  stack: string,
): { head: string; config: string; kubernetes: string } {
  const name = resourceName(card);
  const endpoints = endpointsOf(card)
    .map((e) => `| ${e.method} | \`${e.path}\` | ${markdownText(e.description ?? '')} |`)
    .join('\n');
  const head = [
    `# ${card.name}`,
    ``,
    card.description ? markdownText(card.description) : `A ${stack} service.`,
    ``,
    `Generated by CodeSynthesis from a service card with the built-in ${stack} template. Every endpoint`,
    `returns a JSON placeholder that names the service and the endpoint: replace it with the real logic.`,
    ``,
    `## Endpoints`,
    ``,
    `| Method | Path | Description |`,
    `| --- | --- | --- |`,
    `| GET | \`${HEALTH_PATH}\` | Health check used by the Kubernetes probes. |`,
    ...(endpoints ? [endpoints] : []),
    ``,
  ].join('\n');
  const rows = envOf(card).map(
    (e) =>
      `| \`${e.name}\` | ${markdownText(e.description ?? '')} | ${e.secret ? 'secret, no default' : e.default !== undefined ? `\`${markdownText(e.default)}\`` : ''} |`,
  );
  const config = [
    `## Configuration`,
    ``,
    `All configuration comes from environment variables.`,
    ``,
    `| Variable | Description | Default |`,
    `| --- | --- | --- |`,
    `| \`PORT\` | Port the service listens on. | \`${card.port}\` |`,
    ...rows,
    ``,
  ].join('\n');
  const secrets = envOf(card).filter((e) => e.secret);
  const kubernetes = [
    `## Kubernetes`,
    ``,
    `\`k8s/deployment.yaml\` holds a Deployment (probes on \`${HEALTH_PATH}\`, non-root, read-only root file system)`,
    `and a ClusterIP Service. Build and push the image, set \`image:\` to its reference, then:`,
    ``,
    '```sh',
    ...(secrets.length
      ? [
          `kubectl create secret generic ${name}-secrets ${secrets.map((e) => `--from-literal=${e.name}="$${e.name}"`).join(' ')}`,
        ]
      : []),
    `kubectl apply -f k8s/deployment.yaml`,
    '```',
    ...(secrets.length
      ? [``, `Secret values are read from the Secret \`${name}-secrets\`; none is stored in this repository.`]
      : []),
    ``,
  ].join('\n');
  return { head, config, kubernetes };
}
