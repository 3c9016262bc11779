/**
 * The csharp/aspnetcore template: an ASP.NET Core minimal API on .NET 8 (routes in aspnet-routes.ts),
 * an xunit test project that starts it in memory through WebApplicationFactory<Program>, Dockerfile
 * (SDK image to build, ASP.NET runtime image to run, non-root), Kubernetes manifest and README, all
 * under `<card.name>/`:
 *
 *     src/<Name>/<Name>.csproj  Program.cs  Endpoints.cs  ServiceConfig.cs  appsettings.json
 *     tests/<Name>.Tests/<Name>.Tests.csproj  ServiceTests.cs
 *
 * `dotnet test tests/<Name>.Tests` builds both; the DotNetCoreCLI task finds them with `**\/*.csproj`.
 */
import { bulletList, IntentError } from '../errors';
import type { ServiceCard } from '../intent';
import type { FileToWrite } from '../ports';
import { aspNetProblems, aspNetRoute, type AspNetRoute } from './aspnet-routes';
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

/** The target framework, and the versions the test project pins (all served for net8.0). */
export const DOTNET_PINS = {
  targetFramework: 'net8.0',
  test: {
    'Microsoft.AspNetCore.Mvc.Testing': '8.0.34',
    'Microsoft.NET.Test.Sdk': '17.14.1',
    xunit: '2.9.3',
    'xunit.runner.visualstudio': '3.1.5',
  },
} as const;

const SDK_IMAGE = 'mcr.microsoft.com/dotnet/sdk:8.0';
const RUNTIME_IMAGE = 'mcr.microsoft.com/dotnet/aspnet:8.0';
/** The `app` user of the .NET 8 images ($APP_UID). */
const UID = 1654;
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/**
 * The project and namespace name: the service name in PascalCase (`weather-api` -> `WeatherApi`),
 * with `Service` appended when that would shadow a namespace or type the code uses.
 */
export function projectName(card: ServiceCard): string {
  const pascal = card.name
    .split('-')
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
  return RESERVED_NAMES.has(pascal) ? `${pascal}Service` : pascal;
}
const RESERVED_NAMES = new Set([
  'System',
  'Microsoft',
  'Xunit',
  'Program',
  'Endpoints',
  'ServiceConfig',
  'ServiceTests',
  'Tests',
]);

/**
 * Render an ASP.NET Core service.
 * @throws IntentError listing every card dependency that is not a NuGet package with a version, and
 *   every endpoint ASP.NET Core cannot route as the card means it (see aspNetProblems).
 */
export function renderCsharpAspNetCore(card: ServiceCard): FileToWrite[] {
  const endpoints = endpointsOf(card);
  const problems = aspNetProblems(endpoints);
  const packages = nugetPackages(card, problems);
  if (problems.length)
    throw new IntentError(
      `the service card does not fit csharp/aspnetcore:${bulletList(problems)}`,
      'List NuGet packages with a version (Serilog@4.2.0), change the endpoints named above, or use provider azureOpenAI or openAICompatible.',
    );
  const name = projectName(card);
  const routes = endpoints.map((e) => ({ endpoint: e, route: aspNetRoute(e.segments) }));
  const dir = card.name;
  const src = `${dir}/src/${name}`;
  const tests = `${dir}/tests/${name}.Tests`;
  return [
    { path: `${src}/${name}.csproj`, content: serviceProject(name, packages) },
    { path: `${src}/Program.cs`, content: programCs(name, routes) },
    { path: `${src}/Endpoints.cs`, content: endpointsCs(card, name, routes) },
    { path: `${src}/ServiceConfig.cs`, content: configCs(card, name) },
    { path: `${src}/appsettings.json`, content: APPSETTINGS },
    { path: `${tests}/${name}.Tests.csproj`, content: testProject(name) },
    { path: `${tests}/ServiceTests.cs`, content: testsCs(card, name, endpoints) },
    { path: `${dir}/Dockerfile`, content: dockerfile(card, name) },
    {
      path: `${dir}/.dockerignore`,
      content: ['.dockerignore', 'Dockerfile', 'README.md', 'k8s/', 'tests/', '**/bin/', '**/obj/', ''].join(
        '\n',
      ),
    },
    { path: `${dir}/k8s/deployment.yaml`, content: kubernetesManifest(card, { uid: UID }) },
    { path: `${dir}/README.md`, content: readme(card, name) },
  ];
}

/** A C# regular string literal: C# reads `\"`, `\\`, `\n`, `\uXXXX` and `\UXXXXXXXX` as Python does. */
const cs = (value: string) => quote(value, 'py');
const xml = (value: string) =>
  value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** C# keywords, which need `@` to be identifiers (https://learn.microsoft.com/dotnet/csharp/language-reference/keywords/). */
const KEYWORDS = new Set(
  (
    'abstract as base bool break byte case catch char checked class const continue decimal default delegate do ' +
    'double else enum event explicit extern false finally fixed float for foreach goto if implicit in int interface ' +
    'internal is lock long namespace new null object operator out override params private protected public readonly ' +
    'ref return sbyte sealed short sizeof stackalloc static string struct switch this throw true try typeof uint ' +
    'ulong unchecked unsafe ushort using virtual void volatile while'
  ).split(' '),
);
const identifier = (name: string) => (KEYWORDS.has(name) ? `@${name}` : name);

/** A NuGet id, then `@`, `==` or a space and a version (a NuGet version or range). */
const NUGET_SPEC = /^([A-Za-z0-9_][A-Za-z0-9_.-]*)(?:\s*(?:@|==)\s*|\s+)([0-9A-Za-z.*+\-[\](),]+)$/;

function nugetPackages(card: ServiceCard, problems: string[]): [string, string][] {
  const packages: [string, string][] = [];
  for (const dep of card.dependencies) {
    const match = NUGET_SPEC.exec(dep);
    if (match) packages.push([match[1]!, match[2]!]);
    else problems.push(`'${dep}' is not a NuGet package with a version (use 'Name@1.2.3')`);
  }
  return packages;
}

function serviceProject(name: string, packages: readonly [string, string][]): string {
  return [
    `<Project Sdk="Microsoft.NET.Sdk.Web">`,
    ``,
    `  <PropertyGroup>`,
    `    <TargetFramework>${DOTNET_PINS.targetFramework}</TargetFramework>`,
    `    <Nullable>enable</Nullable>`,
    `    <ImplicitUsings>enable</ImplicitUsings>`,
    `    <RootNamespace>${name}</RootNamespace>`,
    `    <InvariantGlobalization>true</InvariantGlobalization>`,
    `  </PropertyGroup>`,
    ...(packages.length
      ? [
          ``,
          `  <ItemGroup>`,
          ...packages.map(
            ([id, version]) => `    <PackageReference Include="${xml(id)}" Version="${xml(version)}" />`,
          ),
          `  </ItemGroup>`,
        ]
      : []),
    ``,
    `</Project>`,
    ``,
  ].join('\n');
}

function testProject(name: string): string {
  return [
    `<Project Sdk="Microsoft.NET.Sdk">`,
    ``,
    `  <PropertyGroup>`,
    `    <TargetFramework>${DOTNET_PINS.targetFramework}</TargetFramework>`,
    `    <Nullable>enable</Nullable>`,
    `    <ImplicitUsings>enable</ImplicitUsings>`,
    `    <RootNamespace>${name}.Tests</RootNamespace>`,
    `    <IsPackable>false</IsPackable>`,
    `    <IsTestProject>true</IsTestProject>`,
    `  </PropertyGroup>`,
    ``,
    `  <ItemGroup>`,
    ...Object.entries(DOTNET_PINS.test).map(
      ([id, version]) => `    <PackageReference Include="${id}" Version="${version}" />`,
    ),
    `  </ItemGroup>`,
    ``,
    `  <ItemGroup>`,
    `    <ProjectReference Include="../../src/${name}/${name}.csproj" />`,
    `  </ItemGroup>`,
    ``,
    `</Project>`,
    ``,
  ].join('\n');
}

const APPSETTINGS =
  JSON.stringify(
    {
      Logging: { LogLevel: { Default: 'Information', 'Microsoft.AspNetCore': 'Warning' } },
      AllowedHosts: '*',
    },
    null,
    2,
  ) + '\n';

interface Routed {
  endpoint: RenderedEndpoint;
  route: AspNetRoute;
}

/** The static fields of Endpoints.cs holding the regexes handlers match route values with, by regex. */
function regexFields(routes: readonly Routed[]): Map<string, string> {
  const fields = new Map<string, string>();
  for (const { route } of routes)
    for (const m of route.matches)
      if (m.regex !== undefined && !fields.has(m.regex)) fields.set(m.regex, `Pattern${fields.size + 1}`);
  return fields;
}

function programCs(name: string, routes: readonly Routed[]): string {
  const fields = regexFields(routes);
  const maps = routes.map(({ endpoint: e, route }) => {
    const names = new Set(route.args.map((a) => a.name));
    // A lambda parameter hides a type of the same name: qualify Endpoints when a route value is so named.
    const helper = names.has('Endpoints') ? `global::${name}.Endpoints` : 'Endpoints';
    let request = 'request';
    while (names.has(request)) request += '_';
    const params = [...route.args.map((a) => `${a.type} ${identifier(a.name)}`), `HttpRequest ${request}`];
    const entries = route.direct.map((p) => `[${cs(p.name)}] = ${identifier(p.name)}`);
    let values = entries.length ? `new() { ${entries.join(', ')} }` : 'new()';
    for (const m of route.matches) {
      const pattern = m.regex === undefined ? 'null' : `${helper}.${fields.get(m.regex)}`;
      const names = m.params.map((p) => `(${cs(p.name)}, ${cs(p.type)})`).join(', ');
      values = `${helper}.Match(${values}, ${pattern}, ${identifier(m.name)}, ${names})`;
    }
    const method = e.method[0] + e.method.slice(1).toLowerCase();
    return [
      `app.Map${method}(${cs(route.template)}, (${params.join(', ')}) =>`,
      `    ${helper}.Placeholder(${request}, ${cs(e.method)}, ${cs(e.path)}, ${cs(e.description ?? '')}, ${e.method === 'POST' ? 201 : 200}, ${values}));`,
    ];
  });
  return [
    `// HTTP service generated from a service card; see README.md. Configuration comes from the environment.`,
    `using ${name};`,
    ``,
    `var config = ServiceConfig.Load(Environment.GetEnvironmentVariable);`,
    `var builder = WebApplication.CreateBuilder(args);`,
    `builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenAnyIP(config.Port));`,
    `builder.Services.AddSingleton(config);`,
    `var app = builder.Build();`,
    ``,
    `var missing = config.MissingSecrets();`,
    `if (missing.Count > 0)`,
    `{`,
    `    app.Logger.LogWarning("Secret environment variable(s) not set: {Names}", string.Join(", ", missing));`,
    `}`,
    ``,
    `app.MapGet(${cs(HEALTH_PATH)}, () =>`,
    `    Results.Json(new Dictionary<string, string> { ["status"] = "ok", ["service"] = Endpoints.ServiceName }));`,
    ...maps.flat(),
    ``,
    `app.Run();`,
    ``,
    `/// <summary>The entry point; public so that the tests' WebApplicationFactory can start the service.</summary>`,
    `public partial class Program { }`,
    ``,
  ].join('\n');
}

function endpointsCs(card: ServiceCard, name: string, routes: readonly Routed[]): string {
  const fields = [...regexFields(routes)].flatMap(([regex, field]) => [
    ``,
    `    /// <summary>Path parameters the route template cannot separate, one group each.</summary>`,
    `    public static readonly Regex ${field} = new(@"${regex}", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);`,
  ]);
  return [
    `using System.Globalization;`,
    `using System.Text.Json;`,
    `using System.Text.RegularExpressions;`,
    ``,
    `namespace ${name};`,
    ``,
    `/// <summary>The endpoints' placeholder answers, and the path parameters their route templates cannot convert.</summary>`,
    `public static class Endpoints`,
    `{`,
    `    /// <summary>The service name every answer carries.</summary>`,
    `    public const string ServiceName = ${cs(card.name)};`,
    ...fields,
    ``,
    `    /// <summary>`,
    `    /// A JSON placeholder answer that names the service and the endpoint: replace it with the`,
    `    /// endpoint's real logic. 404 when <paramref name="parameters"/> is null (a path value did not fit).`,
    `    /// </summary>`,
    `    public static async Task<IResult> Placeholder(HttpRequest request, string method, string endpoint, string description, int status, Dictionary<string, object?>? parameters)`,
    `    {`,
    `        if (parameters is null)`,
    `        {`,
    `            return Results.NotFound();`,
    `        }`,
    `        var body = new Dictionary<string, object?>`,
    `        {`,
    `            ["service"] = ServiceName,`,
    `            ["endpoint"] = endpoint,`,
    `            ["method"] = method,`,
    `            ["params"] = parameters,`,
    `            ["query"] = request.Query.ToDictionary(pair => pair.Key, pair => pair.Value.ToString()),`,
    `            ["message"] = "Placeholder response: implement this endpoint.",`,
    `        };`,
    `        if (description.Length > 0)`,
    `        {`,
    `            body["description"] = description;`,
    `        }`,
    `        if (method is "POST" or "PUT" or "PATCH")`,
    `        {`,
    `            body["received"] = await ReadJson(request);`,
    `        }`,
    `        return Results.Json(body, statusCode: status);`,
    `    }`,
    ``,
    `    /// <summary>`,
    `    /// Adds the path parameters held in one route value to <paramref name="parameters"/>: the whole`,
    `    /// text when <paramref name="pattern"/> is null, else each group of the pattern, converted to its`,
    `    /// type. Null when one does not fit, or when <paramref name="parameters"/> is already null.`,
    `    /// </summary>`,
    `    public static Dictionary<string, object?>? Match(Dictionary<string, object?>? parameters, Regex? pattern, string? text, params (string Name, string Type)[] names)`,
    `    {`,
    `        if (parameters is null || string.IsNullOrEmpty(text))`,
    `        {`,
    `            return null;`,
    `        }`,
    `        var values = new List<string>();`,
    `        if (pattern is null)`,
    `        {`,
    `            values.Add(text);`,
    `        }`,
    `        else`,
    `        {`,
    `            var match = pattern.Match(text);`,
    `            if (!match.Success)`,
    `            {`,
    `                return null;`,
    `            }`,
    `            for (var group = 1; group < match.Groups.Count; group++)`,
    `            {`,
    `                values.Add(match.Groups[group].Value);`,
    `            }`,
    `        }`,
    `        for (var i = 0; i < names.Length; i++)`,
    `        {`,
    `            var value = ConvertValue(names[i].Type, values[i]);`,
    `            if (value is null)`,
    `            {`,
    `                return null;`,
    `            }`,
    `            parameters[names[i].Name] = value;`,
    `        }`,
    `        return parameters;`,
    `    }`,
    ``,
    `    /// <summary>`,
    `    /// A path value converted as Flask's converter of the same type does (int: digits only; float:`,
    `    /// digits with a '.'; uuid: the dashed form); null when it does not fit.`,
    `    /// </summary>`,
    `    public static object? ConvertValue(string type, string text)`,
    `    {`,
    `        switch (type)`,
    `        {`,
    `            case "int":`,
    `                return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? (object)number : null;`,
    `            case "float":`,
    `                return text.Contains('.') && double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var real) ? (object)real : null;`,
    `            case "uuid":`,
    `                return Guid.TryParseExact(text, "D", out var id) ? (object)id : null;`,
    `            default:`,
    `                return text.Length > 0 ? text : null;`,
    `        }`,
    `    }`,
    ``,
    `    private static async Task<JsonElement?> ReadJson(HttpRequest request)`,
    `    {`,
    `        try`,
    `        {`,
    `            return await JsonSerializer.DeserializeAsync<JsonElement>(request.Body);`,
    `        }`,
    `        catch (JsonException)`,
    `        {`,
    `            return null;`,
    `        }`,
    `    }`,
    `}`,
    ``,
  ].join('\n');
}

function configCs(card: ServiceCard, name: string): string {
  const env = envOf(card);
  const settings = env
    .filter((e) => !e.secret)
    .map((e) => `        (${cs(e.name)}, ${cs(e.default ?? '')}),`);
  const secrets = env.filter((e) => e.secret).map((e) => `        ${cs(e.name)},`);
  const array = (items: string[]) => (items.length ? [`    [`, ...items, `    ];`] : [`    [];`]);
  return [
    `using System.Globalization;`,
    ``,
    `namespace ${name};`,
    ``,
    `/// <summary>The service configuration, read once from environment variables.</summary>`,
    `public sealed class ServiceConfig`,
    `{`,
    `    /// <summary>The port the service listens on when PORT is not set.</summary>`,
    `    public const int DefaultPort = ${card.port};`,
    ``,
    `    // Settings read from the environment, with their defaults.`,
    `    private static readonly (string Name, string Fallback)[] SettingDefaults =`,
    ...array(settings),
    ``,
    `    // Secrets are read from the environment only: they never have a default.`,
    `    private static readonly string[] SecretNames =`,
    ...array(secrets),
    ``,
    `    private ServiceConfig(int port, Dictionary<string, string> settings, Dictionary<string, string?> secrets)`,
    `    {`,
    `        Port = port;`,
    `        Settings = settings;`,
    `        Secrets = secrets;`,
    `    }`,
    ``,
    `    /// <summary>The port the service listens on.</summary>`,
    `    public int Port { get; }`,
    ``,
    `    /// <summary>Each setting: its value in the environment, else its default.</summary>`,
    `    public IReadOnlyDictionary<string, string> Settings { get; }`,
    ``,
    `    /// <summary>Each secret as the environment has it (null when it is not set).</summary>`,
    `    public IReadOnlyDictionary<string, string?> Secrets { get; }`,
    ``,
    `    /// <summary>Reads the configuration through <paramref name="getenv"/> (Environment.GetEnvironmentVariable, or a lookup in tests).</summary>`,
    `    /// <exception cref="InvalidOperationException">PORT is not a whole number from 0 to 65535.</exception>`,
    `    public static ServiceConfig Load(Func<string, string?> getenv)`,
    `    {`,
    `        var port = DefaultPort;`,
    `        var portText = getenv("PORT");`,
    `        if (!string.IsNullOrEmpty(portText))`,
    `        {`,
    `            if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > 65535)`,
    `            {`,
    `                throw new InvalidOperationException($"PORT must be a whole number from 0 to 65535 (got '{portText}').");`,
    `            }`,
    `        }`,
    `        var settings = new Dictionary<string, string>();`,
    `        foreach (var (name, fallback) in SettingDefaults)`,
    `        {`,
    `            settings[name] = getenv(name) ?? fallback;`,
    `        }`,
    `        var secrets = new Dictionary<string, string?>();`,
    `        foreach (var name in SecretNames)`,
    `        {`,
    `            secrets[name] = getenv(name);`,
    `        }`,
    `        return new ServiceConfig(port, settings, secrets);`,
    `    }`,
    ``,
    `    /// <summary>The names of the secrets that are not set (never their values).</summary>`,
    `    public IReadOnlyList<string> MissingSecrets() =>`,
    `        SecretNames.Where(name => string.IsNullOrEmpty(Secrets[name])).ToArray();`,
    `}`,
    ``,
  ].join('\n');
}

/** The C# name of an endpoint's test: its id with a capital first letter (ids are unique). */
const testName = (e: RenderedEndpoint) => e.id[0]!.toUpperCase() + e.id.slice(1);

function testsCs(card: ServiceCard, name: string, endpoints: readonly RenderedEndpoint[]): string {
  const env = envOf(card);
  const settings = env.filter((e) => !e.secret);
  const secrets = env.filter((e) => e.secret);
  const tests = endpoints.flatMap((e) => {
    const { url, params } = sampleRequest(e.segments);
    const hasBody = BODY_METHODS.has(e.method);
    const mismatch = mismatchedUrl(e.segments);
    const sorted = [...params].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const checks = params.map((p) =>
      typeof p.value === 'number'
        ? Number.isInteger(p.value)
          ? `        Assert.Equal(${p.value}L, parameters.GetProperty(${cs(p.name)}).GetInt64());`
          : `        Assert.Equal(${p.value}, parameters.GetProperty(${cs(p.name)}).GetDouble());`
        : `        Assert.Equal(${cs(p.value)}, parameters.GetProperty(${cs(p.name)}).GetString());`,
    );
    return [
      ``,
      `    [Fact]`,
      `    public async Task ${testName(e)}()`,
      `    {`,
      `        var (status, body) = await Call(${cs(e.method)}, ${cs(url)}${hasBody ? `, ${cs('{"example":true}')}` : ''});`,
      `        Assert.Equal(${e.method === 'POST' ? 'HttpStatusCode.Created' : 'HttpStatusCode.OK'}, status);`,
      `        AssertPlaceholder(body, ${cs(e.method)}, ${cs(e.path)});`,
      `        var parameters = body.GetProperty("params");`,
      `        Assert.Equal(${sorted.length ? `new string[] { ${sorted.map((p) => cs(p.name)).join(', ')} }` : 'Array.Empty<string>()'}, Names(parameters));`,
      ...checks,
      ...(hasBody
        ? [`        Assert.True(body.GetProperty("received").GetProperty("example").GetBoolean());`]
        : []),
      `    }`,
      ...(mismatch
        ? [
            ``,
            `    [Fact]`,
            `    public async Task ${testName(e)}_refuses_a_value_its_type_does_not_match()`,
            `    {`,
            `        var (_, body) = await Call(${cs(e.method)}, ${cs(mismatch)});`,
            `        Assert.NotEqual(${cs(e.path)}, body.TryGetProperty("endpoint", out var endpoint) ? endpoint.GetString() : null);`,
            `    }`,
          ]
        : []),
    ];
  });
  const secretTest = secrets.length
    ? [
        ``,
        `    [Fact]`,
        `    public void Secrets_have_no_default()`,
        `    {`,
        `        Assert.Equal(new string[] { ${secrets.map((e) => cs(e.name)).join(', ')} }, ServiceConfig.Load(_ => null).MissingSecrets());`,
        `        Assert.Empty(ServiceConfig.Load(_ => "set").MissingSecrets());`,
        `    }`,
      ]
    : [];
  return [
    `using System.Net;`,
    `using System.Text;`,
    `using System.Text.Json;`,
    `using Microsoft.AspNetCore.Mvc.Testing;`,
    `using Xunit;`,
    ``,
    `namespace ${name}.Tests;`,
    ``,
    `/// <summary>Starts the service in memory and calls each endpoint with concrete path values.</summary>`,
    `public class ServiceTests : IClassFixture<WebApplicationFactory<Program>>`,
    `{`,
    `    private readonly HttpClient client;`,
    ``,
    `    public ServiceTests(WebApplicationFactory<Program> factory)`,
    `    {`,
    `        client = factory.CreateClient();`,
    `    }`,
    ``,
    `    /// <summary>Sends a request with the query ?q=example; the body is {} when the answer is not JSON (a 404).</summary>`,
    `    private async Task<(HttpStatusCode Status, JsonElement Body)> Call(string method, string path, string? json = null)`,
    `    {`,
    `        using var request = new HttpRequestMessage(new HttpMethod(method), path + "?q=example");`,
    `        if (json is not null)`,
    `        {`,
    `            request.Content = new StringContent(json, Encoding.UTF8, "application/json");`,
    `        }`,
    `        using var response = await client.SendAsync(request);`,
    `        var text = await response.Content.ReadAsStringAsync();`,
    `        var isJson = response.Content.Headers.ContentType?.MediaType == "application/json" && text.Length > 0;`,
    `        using var document = JsonDocument.Parse(isJson ? text : "{}");`,
    `        return (response.StatusCode, document.RootElement.Clone());`,
    `    }`,
    ``,
    `    private static void AssertPlaceholder(JsonElement body, string method, string endpoint)`,
    `    {`,
    `        Assert.Equal(Endpoints.ServiceName, body.GetProperty("service").GetString());`,
    `        Assert.Equal(endpoint, body.GetProperty("endpoint").GetString());`,
    `        Assert.Equal(method, body.GetProperty("method").GetString());`,
    `        Assert.Equal("example", body.GetProperty("query").GetProperty("q").GetString());`,
    `    }`,
    ``,
    `    private static string[] Names(JsonElement parameters) =>`,
    `        parameters.EnumerateObject().Select(p => p.Name).OrderBy(n => n, StringComparer.Ordinal).ToArray();`,
    ``,
    `    [Fact]`,
    `    public async Task Healthz_answers_ok()`,
    `    {`,
    `        var (status, body) = await Call("GET", ${cs(HEALTH_PATH)});`,
    `        Assert.Equal(HttpStatusCode.OK, status);`,
    `        Assert.Equal("ok", body.GetProperty("status").GetString());`,
    `        Assert.Equal(Endpoints.ServiceName, body.GetProperty("service").GetString());`,
    `    }`,
    ...tests,
    ``,
    `    [Fact]`,
    `    public void Configuration_comes_from_the_environment_with_the_card_defaults()`,
    `    {`,
    `        var config = ServiceConfig.Load(_ => null);`,
    `        Assert.Equal(${card.port}, config.Port);`,
    ...settings.map((e) => `        Assert.Equal(${cs(e.default ?? '')}, config.Settings[${cs(e.name)}]);`),
    `        Assert.Equal(9090, ServiceConfig.Load(name => name == "PORT" ? "9090" : null).Port);`,
    `        Assert.Throws<InvalidOperationException>(() => ServiceConfig.Load(name => name == "PORT" ? "http" : null));`,
    `    }`,
    ...secretTest,
    `}`,
    ``,
  ].join('\n');
}

function dockerfile(card: ServiceCard, name: string): string {
  return [
    `FROM ${SDK_IMAGE} AS build`,
    `WORKDIR /src`,
    `COPY src/${name}/${name}.csproj src/${name}/`,
    `RUN dotnet restore src/${name}/${name}.csproj`,
    `COPY src/ src/`,
    `RUN dotnet publish src/${name}/${name}.csproj --configuration Release --no-restore --output /app -p:UseAppHost=false`,
    ``,
    `FROM ${RUNTIME_IMAGE}`,
    `WORKDIR /app`,
    `COPY --from=build /app ./`,
    `ENV PORT=${card.port}`,
    `# ${UID} is the 'app' user of the .NET 8 images ($APP_UID); numeric so Kubernetes can check runAsNonRoot.`,
    `USER ${UID}`,
    `EXPOSE ${card.port}`,
    `ENTRYPOINT ["dotnet", "${name}.dll"]`,
    ``,
  ].join('\n');
}

function readme(card: ServiceCard, name: string): string {
  const { head, config, kubernetes } = readmeParts(card, 'C#/ASP.NET Core');
  return [
    head,
    config,
    `## Run and test`,
    ``,
    `The .NET 8 SDK. \`src/${name}\` is a minimal API; \`tests/${name}.Tests\` starts it in memory`,
    `(\`WebApplicationFactory<Program>\`) and calls every endpoint with xunit.`,
    ``,
    '```sh',
    `dotnet test tests/${name}.Tests       # builds both projects, then runs the tests`,
    `dotnet run --project src/${name}     # listens on $PORT`,
    '```',
    ``,
    `In Azure Pipelines, the \`DotNetCoreCLI@2\` task builds and tests them with \`projects: '${card.name}/**/*.csproj'\``,
    `(\`command: build\`, then \`command: test\` with \`projects: '${card.name}/tests/**/*.csproj'\`).`,
    ``,
    `Typed path parameters are route constraints (\`{id:long:min(0)}\`, \`{id:guid:length(36)}\`): a value`,
    `that does not fit matches no route and gets 404.`,
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
