/**
 * The python/flask template: a Flask app factory, pytest tests, requirements, Dockerfile (gunicorn,
 * non-root), Kubernetes manifest and README, all under `<card.name>/`.
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

/** Versions the template pins; card dependencies without a version are added unpinned. */
export const PYTHON_PINS = { flask: '3.1.3', gunicorn: '23.0.0', pytest: '9.0.3' } as const;

const PY_IMAGE = 'python:3.12-slim';
const UID = 10001;
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Render a Flask service.
 * @throws IntentError listing every card dependency that is not a pip requirement.
 */
export function renderPythonFlask(card: ServiceCard): FileToWrite[] {
  const dir = card.name;
  const endpoints = endpointsOf(card);
  return [
    { path: `${dir}/app.py`, content: appPy(card, endpoints) },
    { path: `${dir}/requirements.txt`, content: requirements(card) },
    { path: `${dir}/requirements-dev.txt`, content: `-r requirements.txt\npytest==${PYTHON_PINS.pytest}\n` },
    { path: `${dir}/pytest.ini`, content: '[pytest]\npythonpath = .\ntestpaths = tests\n' },
    { path: `${dir}/tests/test_app.py`, content: testPy(card, endpoints) },
    { path: `${dir}/Dockerfile`, content: dockerfile(card) },
    {
      path: `${dir}/.dockerignore`,
      content: [
        '.dockerignore',
        'Dockerfile',
        'README.md',
        'k8s/',
        'tests/',
        '**/__pycache__/',
        '**/*.pyc',
        '.pytest_cache/',
        '.venv/',
        '',
      ].join('\n'),
    },
    { path: `${dir}/k8s/deployment.yaml`, content: kubernetesManifest(card, { uid: UID }) },
    { path: `${dir}/README.md`, content: readme(card) },
  ];
}

const py = (value: string) => quote(value, 'py');

/**
 * The Flask (Werkzeug) rule: `<name>` for a string parameter, `<type:name>` otherwise; every card
 * type is a Werkzeug converter, so Flask converts the value and answers 404 when it does not match.
 * https://flask.palletsprojects.com/en/stable/quickstart/#variable-rules
 */
export function flaskRule(segments: readonly RouteSegment[]): string {
  return segments
    .map((s) =>
      s.kind === 'literal' ? s.text : s.type === 'string' ? `<${s.name}>` : `<${s.type}:${s.name}>`,
    )
    .join('');
}

function appPy(card: ServiceCard, endpoints: readonly RenderedEndpoint[]): string {
  const env = envOf(card);
  const defaults = env.filter((e) => !e.secret).map((e) => `    ${py(e.name)}: ${py(e.default ?? '')},`);
  const secrets = env.filter((e) => e.secret).map((e) => `    ${py(e.name)},`);
  const routes = endpoints.flatMap((e) => [
    ``,
    `    @app.route(${py(flaskRule(e.segments))}, methods=[${py(e.method)}], endpoint=${py(e.id)})`,
    `    def ${e.id}(**params):`,
    `        return placeholder(${py(e.method)}, ${py(e.path)}, ${py(e.description ?? '')}, params, ${e.method === 'POST' ? 201 : 200})`,
  ]);
  return [
    `"""HTTP service generated from a service card; see README.md. Configuration comes from the environment."""`,
    `import logging`,
    `import os`,
    ``,
    `from flask import Flask, jsonify, request`,
    ``,
    `SERVICE_NAME = ${py(card.name)}`,
    `DEFAULT_PORT = ${card.port}`,
    ``,
    `# Settings read from the environment, with their defaults.`,
    `ENV_DEFAULTS = {`,
    ...defaults,
    `}`,
    ``,
    `# Secrets are read from the environment only: they never have a default.`,
    `SECRET_NAMES = (`,
    ...secrets,
    `)`,
    ``,
    ``,
    `def load_config(environ=None):`,
    `    """Read the service configuration from environ (default: os.environ)."""`,
    `    environ = os.environ if environ is None else environ`,
    `    config = {"PORT": int(environ.get("PORT", DEFAULT_PORT))}`,
    `    for name, default in ENV_DEFAULTS.items():`,
    `        config[name] = environ.get(name, default)`,
    `    for name in SECRET_NAMES:`,
    `        config[name] = environ.get(name)`,
    `    return config`,
    ``,
    ``,
    `def missing_secrets(config):`,
    `    """Names of the secrets that are not set (never their values)."""`,
    `    return [name for name in SECRET_NAMES if not config.get(name)]`,
    ``,
    ``,
    `def placeholder(method, endpoint, description, params, status):`,
    `    """A JSON placeholder answer: replace it with the endpoint's real logic."""`,
    `    body = {`,
    `        "service": SERVICE_NAME,`,
    `        "endpoint": endpoint,`,
    `        "method": method,`,
    `        "params": params,`,
    `        "query": request.args.to_dict(),`,
    `        "message": "Placeholder response: implement this endpoint.",`,
    `    }`,
    `    if description:`,
    `        body["description"] = description`,
    `    if method in ("POST", "PUT", "PATCH"):`,
    `        body["received"] = request.get_json(silent=True)`,
    `    return jsonify(body), status`,
    ``,
    ``,
    `def create_app(config=None):`,
    `    """Build the Flask app; config defaults to load_config()."""`,
    `    app = Flask(__name__)`,
    `    app.config["SERVICE"] = load_config() if config is None else config`,
    `    missing = missing_secrets(app.config["SERVICE"])`,
    `    if missing:`,
    `        logging.getLogger(SERVICE_NAME).warning("secret environment variable(s) not set: %s", ", ".join(missing))`,
    ``,
    `    @app.get(${py(HEALTH_PATH)})`,
    `    def healthz():`,
    `        return jsonify(status="ok", service=SERVICE_NAME)`,
    ...routes,
    ``,
    `    return app`,
    ``,
    ``,
    `if __name__ == "__main__":`,
    `    settings = load_config()`,
    `    create_app(settings).run(host="0.0.0.0", port=settings["PORT"])`,
    ``,
  ].join('\n');
}

function testPy(card: ServiceCard, endpoints: readonly RenderedEndpoint[]): string {
  const env = envOf(card);
  const tests = endpoints.flatMap((e) => {
    const { url, params } = sampleRequest(e.segments);
    const values = params.map((p) => `${py(p.name)}: ${typeof p.value === 'number' ? p.value : py(p.value)}`);
    const hasBody = BODY_METHODS.has(e.method);
    const mismatch = mismatchedUrl(e.segments);
    return [
      ``,
      ``,
      `def test_${e.id}():`,
      `    response = make_client().open(${py(url)}, method=${py(e.method)}, query_string={"q": "example"}${hasBody ? ', json={"example": True}' : ''})`,
      `    assert response.status_code == ${e.method === 'POST' ? 201 : 200}`,
      `    body = response.get_json()`,
      `    assert body["service"] == SERVICE_NAME`,
      `    assert body["endpoint"] == ${py(e.path)}`,
      `    assert body["method"] == ${py(e.method)}`,
      `    assert body["params"] == {${values.join(', ')}}`,
      `    assert body["query"] == {"q": "example"}`,
      ...(hasBody ? [`    assert body["received"] == {"example": True}`] : []),
      ...(mismatch
        ? [
            ``,
            ``,
            `def test_${e.id}_refuses_a_value_its_converter_does_not_match():`,
            `    response = make_client().open(${py(mismatch)}, method=${py(e.method)})`,
            `    assert (response.get_json(silent=True) or {}).get("endpoint") != ${py(e.path)}`,
          ]
        : []),
    ];
  });
  const defaults = env
    .filter((e) => !e.secret)
    .map((e) => `    assert config[${py(e.name)}] == ${py(e.default ?? '')}`);
  const secrets = env.filter((e) => e.secret);
  const secretTest = secrets.length
    ? [
        ``,
        ``,
        `def test_secrets_have_no_default():`,
        `    config = load_config({})`,
        ...secrets.map((e) => `    assert config[${py(e.name)}] is None`),
        `    assert missing_secrets(config) == [${secrets.map((e) => py(e.name)).join(', ')}]`,
        `    assert missing_secrets(load_config({${secrets.map((e) => `${py(e.name)}: "set"`).join(', ')}})) == []`,
      ]
    : [];
  return [
    `from app import SERVICE_NAME, create_app, load_config, missing_secrets`,
    ``,
    ``,
    `def make_client():`,
    `    app = create_app(load_config({}))`,
    `    app.testing = True`,
    `    return app.test_client()`,
    ``,
    ``,
    `def test_healthz():`,
    `    response = make_client().get(${py(HEALTH_PATH)})`,
    `    assert response.status_code == 200`,
    `    assert response.get_json() == {"status": "ok", "service": SERVICE_NAME}`,
    ...tests,
    ``,
    ``,
    `def test_config_defaults():`,
    `    config = load_config({})`,
    `    assert config["PORT"] == ${card.port}`,
    ...defaults,
    `    assert load_config({"PORT": "9090"})["PORT"] == 9090`,
    ...secretTest,
    ``,
  ].join('\n');
}

/** PEP 503 normalised name, to compare a card dependency with a pinned one. */
const normalise = (name: string) => name.toLowerCase().replace(/[-_.]+/g, '-');

/** `name`, `name==1.2`, `name>=1.2`, `name 1.2` or `name@1.2` (the last two mean `==`). */
function pipRequirement(dep: string): { name: string; spec: string } | undefined {
  const match = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*)$/.exec(dep);
  if (!match) return undefined;
  const [, name = '', rest = ''] = match;
  if (!rest) return { name, spec: '' };
  const version = /^(===|==|>=|<=|~=|!=|<|>|@)?\s*([A-Za-z0-9][A-Za-z0-9.*+!]*)$/.exec(rest);
  if (!version) return undefined;
  const op = version[1] === undefined || version[1] === '@' ? '==' : version[1];
  return { name, spec: `${op}${version[2]}` };
}

function requirements(card: ServiceCard): string {
  const lines = new Map<string, string>([
    ['flask', `Flask==${PYTHON_PINS.flask}`],
    ['gunicorn', `gunicorn==${PYTHON_PINS.gunicorn}`],
  ]);
  const problems: string[] = [];
  for (const dep of card.dependencies) {
    const requirement = pipRequirement(dep);
    if (!requirement) {
      problems.push(`'${dep}' is not a pip requirement (use 'name' or 'name==version')`);
      continue;
    }
    const key = normalise(requirement.name);
    // A card dependency the template already pins keeps the pin unless the card names a version.
    if (lines.has(key) && !requirement.spec) continue;
    lines.set(key, requirement.name + requirement.spec);
  }
  if (problems.length) {
    throw new IntentError(
      `the service card's dependencies do not fit python/flask:\n  - ${problems.join('\n  - ')}`,
      'List pip packages, e.g. requests or requests==2.32.3.',
    );
  }
  return [...lines.values()].join('\n') + '\n';
}

function dockerfile(card: ServiceCard): string {
  return [
    `FROM ${PY_IMAGE}`,
    ``,
    `ENV PYTHONDONTWRITEBYTECODE=1 \\`,
    `    PYTHONUNBUFFERED=1 \\`,
    `    PORT=${card.port}`,
    ``,
    `WORKDIR /app`,
    `COPY requirements.txt .`,
    `RUN pip install --no-cache-dir -r requirements.txt`,
    `COPY app.py .`,
    ``,
    `RUN useradd --uid ${UID} --user-group --no-create-home --shell /usr/sbin/nologin app`,
    `USER ${UID}`,
    ``,
    `EXPOSE ${card.port}`,
    `# Shell form only to expand PORT; exec replaces the shell so gunicorn receives the stop signal.`,
    `CMD ["sh", "-c", "exec gunicorn --bind 0.0.0.0:\${PORT} --workers 2 --worker-tmp-dir /dev/shm 'app:create_app()'"]`,
    ``,
  ].join('\n');
}

function readme(card: ServiceCard): string {
  const { head, config, kubernetes } = readmeParts(card, 'Python/Flask');
  return [
    head,
    config,
    `## Run and test`,
    ``,
    '```sh',
    `python3 -m venv .venv && . .venv/bin/activate`,
    `pip install -r requirements-dev.txt`,
    `pytest`,
    `python app.py            # development server on $PORT`,
    '```',
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
