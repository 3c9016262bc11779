/**
 * The environment of the validation command: a whitelist of the task's own environment, with
 * anything that is or may hold a secret taken out. The command runs code a model wrote, which may
 * print its environment; a secret must not be there to print.
 *
 * Pure (no I/O): the agent's conventions (SECRET_*, ENDPOINT_*, INPUT_*, SYSTEM_ACCESSTOKEN) are
 * knowledge of this host, which is why it lives with the adapter and not in core/.
 */

/** Kept by exact name (compared in upper case: Windows names are case-insensitive). */
const KEEP_NAMES = new Set([
  // The shell and the user.
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'LANG',
  'LANGUAGE',
  'TZ',
  'TERM',
  'TMPDIR',
  'TEMP',
  'TMP',
  'CI',
  'TF_BUILD',
  'PIPELINE_WORKSPACE',
  // Windows.
  'SYSTEMROOT',
  'SYSTEMDRIVE',
  'WINDIR',
  'COMSPEC',
  'PATHEXT',
  'OS',
  'USERPROFILE',
  'USERNAME',
  'USERDOMAIN',
  'HOMEDRIVE',
  'HOMEPATH',
  'APPDATA',
  'LOCALAPPDATA',
  'PROGRAMDATA',
  'PROGRAMFILES',
  'PROGRAMFILES(X86)',
  'PROGRAMW6432',
  'COMMONPROGRAMFILES',
  'COMMONPROGRAMFILES(X86)',
  'ALLUSERSPROFILE',
  'PUBLIC',
  'COMPUTERNAME',
  'NUMBER_OF_PROCESSORS',
  'PROCESSOR_ARCHITECTURE',
  // Trust stores and proxy bypass: paths and host names.
  'NODE_EXTRA_CA_CERTS',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'REQUESTS_CA_BUNDLE',
  'CURL_CA_BUNDLE',
  'NO_PROXY',
  // Package caches and tool locations (paths and registry URLs, credentials stripped below).
  'NPM_CONFIG_CACHE',
  'NPM_CONFIG_REGISTRY',
  'YARN_CACHE_FOLDER',
  'PNPM_HOME',
  'PIP_CACHE_DIR',
  'PIP_INDEX_URL',
  'PIP_EXTRA_INDEX_URL',
  'PIP_DISABLE_PIP_VERSION_CHECK',
  'PYTHONUSERBASE',
  'PYTHONDONTWRITEBYTECODE',
  'VIRTUAL_ENV',
  'PIPX_HOME',
  'PIPX_BIN_DIR',
  'POETRY_CACHE_DIR',
  'UV_CACHE_DIR',
  'CONDA',
  'NUGET_PACKAGES',
  'NUGET_HTTP_CACHE_PATH',
  'DOTNET_ROOT',
  'DOTNET_CLI_HOME',
  'DOTNET_NOLOGO',
  'DOTNET_CLI_TELEMETRY_OPTOUT',
  'DOTNET_SKIP_FIRST_TIME_EXPERIENCE',
  'DOTNET_MULTILEVEL_LOOKUP',
  'GOPATH',
  'GOROOT',
  'GOCACHE',
  'GOMODCACHE',
  'GOPROXY',
  'GOFLAGS',
  'GOPRIVATE',
  'GONOPROXY',
  'GONOSUMDB',
  'GOTOOLCHAIN',
  'JAVA_HOME',
  'GRADLE_USER_HOME',
  'MAVEN_HOME',
  'M2_HOME',
  'CARGO_HOME',
  'RUSTUP_HOME',
]);

/** Kept by prefix: locale settings, Java installs, and the build variables the agent exports. */
const KEEP_PREFIXES = ['LC_', 'JAVA_HOME_', 'BUILD_', 'SYSTEM_', 'AGENT_'];

/** Never kept, whatever else holds: the agent's secret channels, task inputs, our own proxy settings. */
const DROP_PREFIXES = ['SECRET_', 'ENDPOINT_', 'INPUT_', 'VSTS_TASKVARIABLE_', 'AGENT_PROXY'];

/**
 * Names that smell of a secret. Broad on purpose: dropping a harmless variable costs little.
 * `AUTH` but not `AUTHOR` (Build.SourceVersionAuthor is a name, not a credential).
 */
const SECRET_NAME =
  /TOKEN|KEY|SECRET|PASSW|PWD|PASSPHRASE|CREDENTIAL|AUTH(?!OR)|PRIVATE|COOKIE|SESSION|SIGNATURE|CONNECTIONSTRING|_PAT$|^PAT_|_SAS/i;

/** `scheme://user:password@host...`: the credentials part of a URL. */
const URL_USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)[^/?#@\s]*@/i;

/** A secret of at least this length is also looked for inside longer values. */
const MIN_EMBEDDED_SECRET = 8;

export interface ChildEnvironmentOptions {
  /** Values known to be secret (API keys, client secrets, the proxy password, ...). */
  secrets: readonly string[];
  /** The agent's proxy URL; any credentials in it are dropped. */
  proxyUrl?: string;
}

/**
 * The environment for the validation command, from the task's environment:
 * 1. keep only KEEP_NAMES and KEEP_PREFIXES;
 * 2. drop DROP_PREFIXES and names matching SECRET_NAME (so SYSTEM_ACCESSTOKEN goes);
 * 3. drop any value equal to a known secret, or holding one of 8 characters or more;
 * 4. strip `user:password@` from URL values (a private registry keeps its address, not its key);
 * 5. set HTTP_PROXY/HTTPS_PROXY (and the lower-case forms) from `proxyUrl` without credentials, or
 *    keep an inherited proxy variable, also without credentials.
 */
export function childEnvironment(
  source: Readonly<Record<string, string | undefined>>,
  options: ChildEnvironmentOptions,
): Record<string, string> {
  const secrets = options.secrets.filter((s) => s.length > 0);
  const holdsSecret = (value: string): boolean =>
    secrets.some((s) => value === s || (s.length >= MIN_EMBEDDED_SECRET && value.includes(s)));
  const env: Record<string, string> = {};
  let inheritedProxy: { http?: string; https?: string } = {};

  for (const [name, value] of Object.entries(source)) {
    if (value === undefined) continue;
    const upper = name.toUpperCase();
    if (upper === 'HTTP_PROXY' || upper === 'HTTPS_PROXY') {
      if (!holdsSecret(value))
        inheritedProxy = { ...inheritedProxy, [upper === 'HTTP_PROXY' ? 'http' : 'https']: value };
      continue;
    }
    if (!KEEP_NAMES.has(upper) && !KEEP_PREFIXES.some((p) => upper.startsWith(p))) continue;
    if (DROP_PREFIXES.some((p) => upper.startsWith(p)) || SECRET_NAME.test(upper)) continue;
    if (holdsSecret(value)) continue;
    env[name] = withoutCredentials(value);
  }

  const http = options.proxyUrl ?? inheritedProxy.http;
  const https = options.proxyUrl ?? inheritedProxy.https ?? inheritedProxy.http;
  if (http) env.HTTP_PROXY = env.http_proxy = withoutCredentials(http);
  if (https) env.HTTPS_PROXY = env.https_proxy = withoutCredentials(https);
  return env;
}

/** A URL without its `user:password@`; any other value as it is. */
export function withoutCredentials(value: string): string {
  return value.replace(URL_USERINFO, '$1');
}
