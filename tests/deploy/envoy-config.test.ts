// The Envoy side of the deployment, checked field by field against Envoy's own protos: the
// compose Envoy config (envoy/envoy.yaml) and the EnvoyFilter's BOOTSTRAP patch. A misspelled
// field would make Envoy reject the config (compose) or Istio the patch (mesh) at run time.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { EnvoySchema } from "./lib/envoy-schema";
import {
  BOOTSTRAP_TYPE, clone, COMPOSE_YAML, ENVOY_YAML, findObject, readYaml, ROOT_ID, STATS_PREFIX,
  wasmHttpFilters,
} from "./lib/project";

const schema = EnvoySchema.forBootstrap();
const HCM = "static_resources.listeners[0].filter_chains[0].filters[0].typed_config";

describe("envoy/envoy.yaml against Envoy's protos", () => {
  const bootstrap = readYaml(ENVOY_YAML);

  test("is a valid Bootstrap, every typed_config included", () => {
    assert.deepEqual(schema.check(bootstrap, BOOTSTRAP_TYPE), []);
  });

  test("a misspelled field inside a typed_config is caught, naming its path", () => {
    const broken = clone(bootstrap);
    const vm = wasmHttpFilters(broken)[0].typed_config.config.vm_config;
    vm.runtme = vm.runtime;
    delete vm.runtime;
    assert.deepEqual(schema.check(broken, BOOTSTRAP_TYPE), [
      `${HCM}.http_filters[0].typed_config.config.vm_config.runtme: unknown field of envoy.extensions.wasm.v3.VmConfig`,
    ]);
  });

  test("an unknown @type is caught", () => {
    const broken = clone(bootstrap);
    const hcm = broken.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
    hcm.http_filters[1].typed_config["@type"] = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Routr";
    assert.deepEqual(schema.check(broken, BOOTSTRAP_TYPE), [
      `${HCM}.http_filters[1].typed_config.@type: unknown type envoy.extensions.filters.http.router.v3.Routr`,
    ]);
  });

  test("a bad enum value and a wrongly typed wrapper are caught", () => {
    const broken = clone(bootstrap);
    broken.static_resources.clusters[0].type = "STRICT_DNZ";
    wasmHttpFilters(broken)[0].typed_config.config.configuration.value = { policies: [] };
    const problems = schema.check(broken, BOOTSTRAP_TYPE);
    assert.equal(problems.length, 2, problems.join("\n"));
    assert.ok(problems.some((p) => /^static_resources\.clusters\[0\]\.type: "STRICT_DNZ" is not a value of enum DiscoveryType/.test(p)), problems.join("\n"));
    assert.ok(problems.some((p) => /configuration\.value: expected a string \(google\.protobuf\.StringValue\)$/.test(p)), problems.join("\n"));
  });

  test("lowerCamelCase JSON names are accepted, as Envoy accepts them", () => {
    const camel = clone(bootstrap);
    camel.statsConfig = camel.stats_config;
    delete camel.stats_config;
    camel.statsConfig.statsMatcher = camel.statsConfig.stats_matcher;
    delete camel.statsConfig.stats_matcher;
    assert.deepEqual(schema.check(camel, BOOTSTRAP_TYPE), []);
  });
});

describe("envoy/envoy.yaml wiring", () => {
  const bootstrap = readYaml(ENVOY_YAML);
  const filters = wasmHttpFilters(bootstrap);

  test("has exactly one Wasm HTTP filter: the HFI plugin on V8, before the router", () => {
    assert.equal(filters.length, 1);
    const { config } = filters[0].typed_config;
    assert.equal(config.root_id, ROOT_ID);
    assert.equal(config.vm_config.runtime, "envoy.wasm.runtime.v8");
    const chain = bootstrap.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters;
    assert.equal(chain.at(-1).name, "envoy.filters.http.router");
  });

  test("loads the module from where docker-compose mounts build/plugin.wasm", () => {
    const compose = readYaml(COMPOSE_YAML);
    const mount = (compose.services.envoy.volumes as string[]).find((v) => v.startsWith("./build/plugin.wasm:"));
    assert.ok(mount, "compose mounts ./build/plugin.wasm");
    assert.equal(mount.split(":")[1], filters[0].typed_config.config.vm_config.code.local.filename);
  });

  test("hands the plugin its configuration as JSON text, without a control plane", () => {
    const { configuration } = filters[0].typed_config.config;
    assert.equal(configuration["@type"], "type.googleapis.com/google.protobuf.StringValue");
    const parsed = JSON.parse(configuration.value);
    assert.ok(Array.isArray(parsed.policies) && parsed.policies.length > 0);
    assert.equal(parsed.control_plane, undefined);
  });

  test("carries Istio-like node metadata so policy selectors can be tried", () => {
    assert.equal(bootstrap.node.metadata.WORKLOAD_NAME, "frontend");
    assert.equal(bootstrap.node.metadata.NAMESPACE, "demo");
    assert.equal(bootstrap.node.metadata.LABELS.app, "frontend");
  });

  test("keeps the plugin's stats with the same prefix as the EnvoyFilter, admin on 9901, listener on 10000", () => {
    const patterns = bootstrap.stats_config.stats_matcher.inclusion_list.patterns;
    const envoyFilter = findObject("EnvoyFilter");
    for (const p of envoyFilter.spec.configPatches[0].patch.value.stats_config.stats_matcher.inclusion_list.patterns) {
      assert.ok(patterns.some((q: { prefix?: string }) => q.prefix === p.prefix), `missing ${p.prefix}`);
    }
    assert.ok(patterns.some((q: { prefix?: string }) => q.prefix === STATS_PREFIX));
    assert.equal(bootstrap.admin.address.socket_address.port_value, 9901);
    assert.equal(bootstrap.static_resources.listeners[0].address.socket_address.port_value, 10000);
  });

  test("routes to the echo service docker-compose starts", () => {
    const compose = readYaml(COMPOSE_YAML);
    const cluster = bootstrap.static_resources.clusters[0];
    const address = cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address;
    assert.ok(compose.services[address], `no compose service named ${address}`);
  });
});

describe("EnvoyFilter BOOTSTRAP patch against Envoy's protos", () => {
  const value = () => clone(findObject("EnvoyFilter").spec.configPatches[0].patch.value);

  test("is a valid (partial) Bootstrap", () => {
    assert.deepEqual(schema.check(value(), BOOTSTRAP_TYPE, { partial: true }), []);
  });

  test("a misspelled field is caught, naming its path", () => {
    const broken = value();
    broken.stats_config.stats_matcher.inclusion_lst = broken.stats_config.stats_matcher.inclusion_list;
    delete broken.stats_config.stats_matcher.inclusion_list;
    assert.deepEqual(schema.check(broken, BOOTSTRAP_TYPE, { partial: true }), [
      "stats_config.stats_matcher.inclusion_lst: unknown field of envoy.config.metrics.v3.StatsMatcher",
    ]);
  });

  test("a StringMatcher with two match kinds is caught", () => {
    const broken = value();
    broken.stats_config.stats_matcher.inclusion_list.patterns[0].exact = "x";
    assert.deepEqual(schema.check(broken, BOOTSTRAP_TYPE, { partial: true }), [
      "stats_config.stats_matcher.inclusion_list.patterns[0]: only one of match_pattern {exact, prefix} may be set",
    ]);
  });
});
