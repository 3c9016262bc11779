import assert from 'node:assert/strict';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { IntentError } from '../../tasks/CodeSynthesis/src/core/errors';
import type { ServiceCard } from '../../tasks/CodeSynthesis/src/core/intent';
import type { FileToWrite } from '../../tasks/CodeSynthesis/src/core/ports';
import { parseRoute } from '../../tasks/CodeSynthesis/src/core/route';
import { renderService } from '../../tasks/CodeSynthesis/src/core/templates';
import { aspNetRoute } from '../../tasks/CodeSynthesis/src/core/templates/aspnet-routes';
import { DOTNET_PINS, projectName } from '../../tasks/CodeSynthesis/src/core/templates/csharp-aspnetcore';
import { parseCSharp } from '../support/csharp';
import { endpoint } from '../support/endpoint';

const HOSTILE =
  'Evil """ \'\'\' */ ${process.exit(1)} `id` \\ \n__import__("os").system("id")\u2028 \u{1F600} </script> | x';

function card(overrides: Partial<ServiceCard>): ServiceCard {
  return {
    name: 'svc',
    language: 'csharp',
    framework: 'aspnetcore',
    description: '',
    port: 8080,
    endpoints: [endpoint('GET', '/items')],
    dependencies: [],
    env: [],
    ...overrides,
  };
}
const file = (files: FileToWrite[], p: string): string => {
  const found = files.find((f) => f.path === p);
  assert.ok(found, `expected ${p} among ${files.map((f) => f.path).join(', ')}`);
  return found.content;
};
const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' });

/** Endpoints that use every parameter type and style, and the fallbacks to a regex. */
const EVERY_KIND = [
  endpoint('GET', '/'),
  endpoint('POST', '/orders'),
  endpoint('GET', '/orders/<int:id>'),
  endpoint('GET', '/orders/<name>'),
  endpoint('DELETE', '/orders/:id/items/{item}'),
  endpoint('PATCH', '/prices/<float:amount>'),
  endpoint('GET', '/keys/<uuid:key>'),
  endpoint('GET', '/files/<path:rest>'),
  endpoint('GET', '/files/:name.json'),
  endpoint('GET', '/tree/<path:rest>/meta'),
  endpoint('GET', '/pair/<a><int:b>'),
  endpoint('PUT', '/items:batchUpdate'),
];

describe('csharp/aspnetcore template', () => {
  describe('route templates', () => {
    it('renders every parameter style as an ASP.NET Core route template with constraints per type', () => {
      for (const [path, template, args] of [
        ['/weather/<city>', '/weather/{city}', 'string city'],
        ['/weather/{city}', '/weather/{city}', 'string city'],
        ['/weather/:city', '/weather/{city}', 'string city'],
        ['/orders/<int:id>', '/orders/{id:long:min(0)}', 'long id'],
        ['/prices/<float:amount>', '/prices/{amount:double:regex(^\\d+\\.\\d+$)}', 'double amount'],
        ['/keys/<uuid:key>', '/keys/{key:guid:length(36)}', 'Guid key'],
        ['/files/<path:rest>', '/files/{*rest}', 'string? rest'],
        ['/files/:name.json', '/files/{name}.json', 'string name'],
        ['/v1/items{sku}x', '/v1/items{sku}x', 'string sku'],
        ['/p/<int:a>-<float:b>', '/p/{a:long:min(0)}-{b:double:regex(^\\d+\\.\\d+$)}', 'long a, double b'],
        ['/items:batchUpdate', '/items:batchUpdate', ''],
        ['/', '/', ''],
        ['/a/{x}/b/:y/c/<int:z>', '/a/{x}/b/{y}/c/{z:long:min(0)}', 'string x, string y, long z'],
        // What a template cannot say: a regex constraint routes, the handler matches the exact regex.
        ['/files/<path:rest>/meta', '/files/{*rest:regex(^((?!/).+?)/meta$)}', 'string? rest'],
        ['/dl/<path:rest>x', '/dl/{*rest:regex(^((?!/).+?)x$)}', 'string? rest'],
        ['/pair/<a><int:b>', '/pair/{a:regex(^(((?!/).)+)(\\d+)$)}', 'string a'],
        ['/c/<a><b>:x', '/c/{a:regex(^(((?!/).)+)(((?!/).)+)\\:x$)}', 'string a'],
      ] as const) {
        const route = aspNetRoute(parseRoute(path).segments);
        assert.equal(route.template, template, path);
        assert.equal(route.args.map((a) => `${a.type} ${a.name}`).join(', '), args, path);
        assert.ok(!/[[\]]|\{\{|\}\}/.test(template), 'no bracket or doubled brace for the template parser');
      }
      assert.deepEqual(aspNetRoute(parseRoute('/tree/<path:rest>/meta').segments).matches, [
        { name: 'rest', regex: '^([^/].*?)/meta$', params: [{ kind: 'param', name: 'rest', type: 'path' }] },
      ]);
    });

    it('projects are named after the service in PascalCase, never after a namespace or type the code uses', () => {
      assert.equal(projectName(card({ name: 'weather-api' })), 'WeatherApi');
      assert.equal(projectName(card({ name: 'orders' })), 'Orders');
      assert.equal(projectName(card({ name: 'a2-b' })), 'A2B');
      assert.equal(projectName(card({ name: 'system' })), 'SystemService');
      assert.equal(projectName(card({ name: 'program' })), 'ProgramService');
      const files = renderService(card({ name: 'weather-api' }));
      assert.ok(files.some((f) => f.path === 'weather-api/src/WeatherApi/WeatherApi.csproj'));
      assert.ok(files.some((f) => f.path === 'weather-api/tests/WeatherApi.Tests/WeatherApi.Tests.csproj'));
    });

    it('refuses what ASP.NET Core would find ambiguous or never match, and NuGet packages without a version', () => {
      assert.throws(
        () =>
          renderService(
            card({
              endpoints: [
                endpoint('GET', '/orders'),
                endpoint('GET', '/Orders'),
                endpoint('GET', '/items/'),
                endpoint('GET', '/items'),
                endpoint('GET', '/a/<id>/<ID>'),
                endpoint('GET', '/a//b'),
              ],
              dependencies: ['Serilog@4.2.0', 'Polly', 'Dapper 2.1.35', 'bad name@1'],
            }),
          ),
        (e: unknown) =>
          e instanceof IntentError &&
          e.message.includes(
            "endpoints 'GET /orders' and 'GET /Orders' are the same route in ASP.NET Core",
          ) &&
          e.message.includes("endpoints 'GET /items/' and 'GET /items' are the same route") &&
          e.message.includes("'GET /a/<id>/<ID>': parameter names that differ only in letter case") &&
          e.message.includes("'GET /a//b': it has an empty segment") &&
          e.message.includes("'Polly' is not a NuGet package with a version") &&
          e.message.includes("'bad name@1'") &&
          !e.message.includes("'Serilog@4.2.0'") &&
          !e.message.includes("'Dapper 2.1.35'"),
      );
    });
  });

  describe('C# sources (parsed with the tree-sitter C# grammar; the .NET SDK is not available here)', () => {
    it('every .cs file parses without a syntax error, hostile card text included', async () => {
      const files = renderService(
        card({
          description: HOSTILE,
          endpoints: [...EVERY_KIND, endpoint('POST', '/hostile', HOSTILE)],
          env: [
            { name: 'GREETING', default: HOSTILE, secret: false },
            { name: 'API_TOKEN', secret: true },
          ],
        }),
      );
      const sources = files.filter((f) => f.path.endsWith('.cs'));
      assert.deepEqual(
        sources.map((f) => f.path),
        [
          'svc/src/Svc/Program.cs',
          'svc/src/Svc/Endpoints.cs',
          'svc/src/Svc/ServiceConfig.cs',
          'svc/tests/Svc.Tests/ServiceTests.cs',
        ],
      );
      for (const f of sources) {
        assert.ok(/^[\x20-\x7e\n]*$/.test(f.content), `${f.path} is printable ASCII`);
        const { errors, strings } = await parseCSharp(f.content);
        assert.deepEqual(errors, [], f.path);
        if (f.path.endsWith('Program.cs') || f.path.endsWith('ServiceConfig.cs'))
          assert.ok(strings.includes(HOSTILE), `${f.path} holds the hostile text as one literal`);
      }
    });

    it('the parser does catch a broken file (the check can fail)', async () => {
      const program = file(renderService(card({})), 'svc/src/Svc/Program.cs');
      assert.notDeepEqual((await parseCSharp(program.replace('app.Run();', 'app.Run('))).errors, []);
      assert.notDeepEqual((await parseCSharp(program.replace('"/items"', '"/items'))).errors, []);
    });

    it('Program.cs maps each endpoint with its verb, template and typed lambda parameters', async () => {
      const { routes } = await parseCSharp(
        file(renderService(card({ endpoints: EVERY_KIND })), 'svc/src/Svc/Program.cs'),
      );
      assert.deepEqual(
        routes.map((r) => `${r.verb} ${r.template} (${r.params.join(', ')})`),
        [
          'Get /healthz ()',
          'Get / (HttpRequest request)',
          'Post /orders (HttpRequest request)',
          'Get /orders/{id:long:min(0)} (long id, HttpRequest request)',
          'Get /orders/{name} (string name, HttpRequest request)',
          'Delete /orders/{id}/items/{item} (string id, string item, HttpRequest request)',
          'Patch /prices/{amount:double:regex(^\\d+\\.\\d+$)} (double amount, HttpRequest request)',
          'Get /keys/{key:guid:length(36)} (Guid key, HttpRequest request)',
          'Get /files/{*rest} (string? rest, HttpRequest request)',
          'Get /files/{name}.json (string name, HttpRequest request)',
          'Get /tree/{*rest:regex(^((?!/).+?)/meta$)} (string? rest, HttpRequest request)',
          'Get /pair/{a:regex(^(((?!/).)+)(\\d+)$)} (string a, HttpRequest request)',
          'Put /items:batchUpdate (HttpRequest request)',
        ],
      );
      const program = file(renderService(card({ endpoints: EVERY_KIND })), 'svc/src/Svc/Program.cs');
      assert.ok(
        program.includes(
          'Endpoints.Placeholder(request, "GET", "/orders/<int:id>", "", 200, new() { ["id"] = id }));',
        ),
      );
      assert.ok(
        program.includes(
          'Endpoints.Placeholder(request, "GET", "/pair/<a><int:b>", "", 200, Endpoints.Match(new(), Endpoints.Pattern2, a, ("a", "string"), ("b", "int"))));',
        ),
        'the handler reads both parameters from the one route value, with the exact regex',
      );
      const endpoints = file(renderService(card({ endpoints: EVERY_KIND })), 'svc/src/Svc/Endpoints.cs');
      assert.ok(endpoints.includes('public static readonly Regex Pattern1 = new(@"^([^/].*?)/meta$", '));
      assert.ok(endpoints.includes('public static readonly Regex Pattern2 = new(@"^([^/]+)([0-9]+)$", '));
      assert.match(
        program,
        /^public partial class Program \{ \}$/m,
        'WebApplicationFactory<Program> can reach it',
      );
    });

    it('route values named like C# keywords, the request or the helper class still compile to distinct identifiers', async () => {
      const program = file(
        renderService(
          card({
            endpoints: [endpoint('GET', '/a/{class}/{request}'), endpoint('GET', '/b/{Endpoints}/<int:int>')],
          }),
        ),
        'svc/src/Svc/Program.cs',
      );
      const { routes, errors } = await parseCSharp(program);
      assert.deepEqual(errors, []);
      assert.deepEqual(
        routes.slice(1).map((r) => r.params),
        [
          ['string @class', 'string request', 'HttpRequest request_'],
          ['string Endpoints', 'long @int', 'HttpRequest request'],
        ],
      );
      assert.ok(
        program.includes('global::Svc.Endpoints.Placeholder(request, "GET", "/b/{Endpoints}/<int:int>"'),
      );
      assert.ok(program.includes('new() { ["class"] = @class, ["request"] = request }'));
    });

    it('tests every endpoint with concrete values, and each typed one with a value that does not fit', () => {
      const test = file(
        renderService(card({ endpoints: EVERY_KIND })),
        'svc/tests/Svc.Tests/ServiceTests.cs',
      );
      assert.deepEqual(
        [...test.matchAll(/\[Fact\]\n {4}public (?:async Task|void) (\w+)\(\)/g)].map((m) => m[1]),
        [
          'Healthz_answers_ok',
          'Get_root',
          'Post_orders',
          'Get_orders_id',
          'Get_orders_id_refuses_a_value_its_type_does_not_match',
          'Get_orders_name',
          'Delete_orders_id_items_item',
          'Patch_prices_amount',
          'Patch_prices_amount_refuses_a_value_its_type_does_not_match',
          'Get_keys_key',
          'Get_keys_key_refuses_a_value_its_type_does_not_match',
          'Get_files_rest',
          'Get_files_name_json',
          'Get_tree_rest_meta',
          'Get_pair_a_b',
          'Get_pair_a_b_refuses_a_value_its_type_does_not_match',
          'Put_items_batchupdate',
          'Configuration_comes_from_the_environment_with_the_card_defaults',
        ],
      );
      for (const line of [
        'await Call("GET", "/orders/42");',
        'Assert.Equal(42L, parameters.GetProperty("id").GetInt64());',
        'await Call("PATCH", "/prices/2.5", "{\\"example\\":true}");',
        'Assert.Equal(2.5, parameters.GetProperty("amount").GetDouble());',
        'Assert.Equal("123e4567-e89b-12d3-a456-426614174000", parameters.GetProperty("key").GetString());',
        'Assert.Equal("a/b/c.txt", parameters.GetProperty("rest").GetString());',
        'await Call("GET", "/orders/x42");',
        'await Call("PATCH", "/prices/2");',
        'await Call("GET", "/keys/not-a-uuid");',
        'Assert.Equal(HttpStatusCode.Created, status);',
        'Assert.Equal(new string[] { "id", "item" }, Names(parameters));',
        'Assert.Equal(Array.Empty<string>(), Names(parameters));',
      ])
        assert.ok(test.includes(line), line);
    });

    it('configuration: settings keep their defaults, secrets have none, PORT defaults to the card port', () => {
      const files = renderService(
        card({
          port: 5005,
          env: [
            { name: 'LOG_LEVEL', default: 'info', secret: false },
            { name: 'DB_PASSWORD', secret: true },
            { name: 'PORT', default: '1', secret: false },
          ],
        }),
      );
      const config = file(files, 'svc/src/Svc/ServiceConfig.cs');
      assert.match(config, /public const int DefaultPort = 5005;/);
      assert.match(config, /SettingDefaults =\n {4}\[\n {8}\("LOG_LEVEL", "info"\),\n {4}\];/);
      assert.match(config, /SecretNames =\n {4}\[\n {8}"DB_PASSWORD",\n {4}\];/);
      assert.ok(!config.includes('"PORT", "1"'), 'a card PORT entry does not override the port setting');
      const test = file(files, 'svc/tests/Svc.Tests/ServiceTests.cs');
      assert.ok(
        test.includes(
          'Assert.Equal(new string[] { "DB_PASSWORD" }, ServiceConfig.Load(_ => null).MissingSecrets());',
        ),
      );
      assert.match(file(renderService(card({})), 'svc/src/Svc/ServiceConfig.cs'), /SecretNames =\n {4}\[\];/);
    });
  });

  describe('projects, Dockerfile', () => {
    it('the service is a net8.0 web project; the test project pins its packages and references it', () => {
      const files = renderService(card({ dependencies: ['Serilog@4.2.0', 'Dapper==2.1.35'] }));
      for (const f of files.filter((f) => f.path.endsWith('.csproj')))
        assert.equal(XMLValidator.validate(f.content), true, f.path);
      const service = xml.parse(file(files, 'svc/src/Svc/Svc.csproj')).Project;
      assert.equal(service.Sdk, 'Microsoft.NET.Sdk.Web');
      assert.equal(service.PropertyGroup.TargetFramework, 'net8.0');
      assert.equal(service.PropertyGroup.Nullable, 'enable');
      assert.deepEqual(service.ItemGroup.PackageReference, [
        { Include: 'Serilog', Version: '4.2.0' },
        { Include: 'Dapper', Version: '2.1.35' },
      ]);
      const tests = xml.parse(file(files, 'svc/tests/Svc.Tests/Svc.Tests.csproj')).Project;
      assert.equal(tests.Sdk, 'Microsoft.NET.Sdk');
      assert.equal(tests.PropertyGroup.TargetFramework, 'net8.0');
      assert.equal(tests.PropertyGroup.IsTestProject, true);
      const [packages, projects] = tests.ItemGroup;
      assert.deepEqual(
        packages.PackageReference,
        Object.entries(DOTNET_PINS.test).map(([Include, Version]) => ({ Include, Version })),
      );
      const reference = projects.ProjectReference.Include as string;
      const resolved = new URL(reference, 'file:///svc/tests/Svc.Tests/').pathname.slice(1);
      assert.equal(
        resolved,
        'svc/src/Svc/Svc.csproj',
        'the reference resolves to the generated service project',
      );
      assert.ok(files.some((f) => f.path === resolved));
      assert.equal(JSON.parse(file(files, 'svc/src/Svc/appsettings.json')).AllowedHosts, '*');
    });

    it('builds with the SDK image and runs as the app user of the ASP.NET runtime image', () => {
      const docker = file(renderService(card({ name: 'weather-api', port: 9000 })), 'weather-api/Dockerfile');
      assert.match(docker, /^FROM mcr\.microsoft\.com\/dotnet\/sdk:8\.0 AS build$/m);
      assert.match(docker, /^RUN dotnet restore src\/WeatherApi\/WeatherApi\.csproj$/m);
      assert.match(
        docker,
        /^RUN dotnet publish src\/WeatherApi\/WeatherApi\.csproj --configuration Release /m,
      );
      assert.match(docker, /^FROM mcr\.microsoft\.com\/dotnet\/aspnet:8\.0$/m);
      assert.match(docker, /^USER 1654$/m);
      assert.match(docker, /^ENV PORT=9000$/m);
      assert.match(docker, /^ENTRYPOINT \["dotnet", "WeatherApi\.dll"\]$/m);
    });
  });
});
