import assert from 'node:assert/strict';
import {
  childEnvironment,
  withoutCredentials,
} from '../../tasks/CodeSynthesis/src/adapters/validate/child-environment';

/** An agent job's environment, as the task process sees it after task-lib started. */
const AGENT_ENV = {
  PATH: '/usr/local/bin:/usr/bin:/bin',
  HOME: '/home/vsts',
  LANG: 'C.UTF-8',
  LC_ALL: 'C.UTF-8',
  USER: 'vsts',
  SHELL: '/bin/bash',
  TMPDIR: '/tmp',
  TF_BUILD: 'True',
  BUILD_SOURCESDIRECTORY: '/home/vsts/work/1/s',
  BUILD_BUILDID: '42',
  BUILD_SOURCEVERSIONAUTHOR: 'Ada',
  SYSTEM_TEAMPROJECT: 'demo',
  SYSTEM_COLLECTIONURI: 'https://dev.azure.com/org/',
  AGENT_TEMPDIRECTORY: '/home/vsts/work/_temp',
  AGENT_OS: 'Linux',
  NPM_CONFIG_CACHE: '/home/vsts/.npm',
  GOMODCACHE: '/home/vsts/go/pkg/mod',
  JAVA_HOME_17_X64: '/usr/lib/jvm/17',
  // Secrets and things that may hold one.
  SYSTEM_ACCESSTOKEN: 'job-token-value',
  SECRET_FOO: 'secret-foo-value',
  ENDPOINT_AUTH_X: '{"scheme":"ServicePrincipal","parameters":{"serviceprincipalkey":"sp-key-value"}}',
  ENDPOINT_AUTH_PARAMETER_X_SERVICEPRINCIPALKEY: 'sp-key-value',
  ENDPOINT_URL_X: 'https://management.azure.com/',
  INPUT_APIKEY: 'input-api-key-value',
  INPUT_INTENT: 'service: weather',
  VSTS_TASKVARIABLE_X: 'task-variable',
  AGENT_PROXYURL: 'http://proxy.local:8080',
  AGENT_PROXYUSERNAME: 'proxy-user',
  AGENT_PROXYPASSWORD: 'proxy-password-value',
  BUILD_KEYVAULT_THING: 'x',
  SYSTEM_OIDCTOKEN: 'oidc-value',
  AGENT_SESSIONID: 'session-value',
  NPM_CONFIG__AUTH: 'npm-auth-value',
  'NPM_CONFIG_//registry.npmjs.org/:_authToken': 'npm-token-value',
  OPENAI_API_KEY: 'openai-value',
  AZURE_CLIENT_SECRET: 'azure-client-secret',
  GITHUB_TOKEN: 'gh-token',
  // Not whitelisted at all.
  NODE_OPTIONS: '--require /evil.js',
  BASH_ENV: '/evil.sh',
  LD_PRELOAD: '/evil.so',
  RANDOM_VARIABLE: 'x',
};

describe('childEnvironment', () => {
  const env = childEnvironment(AGENT_ENV, { secrets: [] });

  it('keeps PATH, HOME, locale, the usual build variables and tool caches', () => {
    for (const name of [
      'PATH',
      'HOME',
      'LANG',
      'LC_ALL',
      'USER',
      'SHELL',
      'TMPDIR',
      'TF_BUILD',
      'BUILD_SOURCESDIRECTORY',
      'BUILD_BUILDID',
      'BUILD_SOURCEVERSIONAUTHOR',
      'SYSTEM_TEAMPROJECT',
      'SYSTEM_COLLECTIONURI',
      'AGENT_TEMPDIRECTORY',
      'AGENT_OS',
      'NPM_CONFIG_CACHE',
      'GOMODCACHE',
      'JAVA_HOME_17_X64',
    ]) {
      assert.equal(env[name], AGENT_ENV[name as keyof typeof AGENT_ENV], name);
    }
  });

  it('holds no SECRET_*, ENDPOINT_*, INPUT_*, SYSTEM_ACCESSTOKEN, nor any name that smells of a secret', () => {
    for (const name of Object.keys(env)) {
      assert.doesNotMatch(name, /^(SECRET_|ENDPOINT_|INPUT_|VSTS_TASKVARIABLE_|AGENT_PROXY)/i, name);
      assert.doesNotMatch(name, /TOKEN|KEY|SECRET|PASSW|_AUTH$|SESSION/i, name);
    }
    const values = Object.values(env).join('\n');
    for (const value of [
      'job-token-value',
      'secret-foo-value',
      'sp-key-value',
      'input-api-key-value',
      'proxy-password-value',
      'oidc-value',
      'session-value',
      'npm-auth-value',
      'npm-token-value',
      'openai-value',
      'azure-client-secret',
      'gh-token',
    ]) {
      assert.ok(!values.includes(value), value);
    }
  });

  it('does not pass variables that change how the shell or node start', () => {
    for (const name of ['NODE_OPTIONS', 'BASH_ENV', 'LD_PRELOAD', 'RANDOM_VARIABLE'])
      assert.equal(env[name], undefined, name);
  });

  it('drops a whitelisted variable whose value is, or holds, a known secret', () => {
    const e = childEnvironment(
      { ...AGENT_ENV, BUILD_SOURCEVERSIONMESSAGE: 'oops sk-0123456789abcdef', SYSTEM_DEFINITIONNAME: 'abc' },
      { secrets: ['sk-0123456789abcdef', 'abc'] },
    );
    assert.equal(e.BUILD_SOURCEVERSIONMESSAGE, undefined);
    assert.equal(e.SYSTEM_DEFINITIONNAME, undefined);
    // A short secret is matched whole only: it would otherwise remove half the environment.
    assert.equal(e.SYSTEM_TEAMPROJECT, 'demo');
  });

  it('gives the agent proxy as HTTP(S)_PROXY without its credentials', () => {
    const e = childEnvironment(AGENT_ENV, {
      secrets: [],
      proxyUrl: 'http://proxy-user:proxy-password-value@proxy.local:8080',
    });
    for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy'])
      assert.equal(e[name], 'http://proxy.local:8080', name);
    assert.ok(!JSON.stringify(e).includes('proxy-password-value'));
  });

  it('keeps an inherited proxy variable, without credentials', () => {
    const e = childEnvironment(
      { PATH: '/bin', https_proxy: 'http://u:p@corp:3128', no_proxy: 'localhost' },
      { secrets: [] },
    );
    assert.equal(e.HTTPS_PROXY, 'http://corp:3128');
    assert.equal(e.HTTP_PROXY, undefined);
    assert.equal(e.no_proxy, 'localhost');
  });

  it('strips credentials from registry URLs but keeps the registry', () => {
    const e = childEnvironment(
      { PIP_INDEX_URL: 'https://build:pat123@pkgs.dev.azure.com/org/_packaging/feed/pypi/simple/' },
      { secrets: [] },
    );
    assert.equal(e.PIP_INDEX_URL, 'https://pkgs.dev.azure.com/org/_packaging/feed/pypi/simple/');
  });

  it('compares names case-insensitively (Windows)', () => {
    const e = childEnvironment(
      { Path: 'C:\\Windows', SystemRoot: 'C:\\Windows', Secret_X: 'y', System_AccessToken: 't' },
      { secrets: [] },
    );
    assert.deepEqual(e, { Path: 'C:\\Windows', SystemRoot: 'C:\\Windows' });
  });
});

describe('withoutCredentials', () => {
  it('removes user:password@ from URLs only', () => {
    assert.equal(withoutCredentials('https://a:b@host/x?y=1'), 'https://host/x?y=1');
    assert.equal(withoutCredentials('https://token@host'), 'https://host');
    assert.equal(withoutCredentials('user@example.com'), 'user@example.com');
    assert.equal(withoutCredentials('/home/vsts'), '/home/vsts');
  });
});
