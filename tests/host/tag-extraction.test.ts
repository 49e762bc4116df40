// Envoy's tag extraction in the host: Envoy's own expectations (tag_extractor_impl_test.cc), the
// built-in extractors that can and cannot touch `wasmcustom.` names, and the shipped
// stats_tags (envoy/envoy.yaml) on HFI's per-policy names, rendered as /stats/prometheus does.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { StatsStore } from "../../host/metrics";
import { BUILT_IN_EXTRACTORS, TagProducer, TokensTagExtractor, applyExtractor, extractRegexPrefix, type StatsTagConfig } from "../../host/tag-extraction";

const SHIPPED: StatsTagConfig = parse(readFileSync(path.join(__dirname, "../fixtures/envoy.yaml"), "utf8")).stats_config;

/** Tags as "name=value" strings, in extraction order. */
function extract(producer: TagProducer, name: string): { name: string; tags: string[] } {
  const r = producer.produceTags(name);
  return { name: r.tagExtractedName, tags: r.tags.map((t) => `${t.name}=${t.value}`) };
}

describe("Envoy's own tag extraction examples", () => {
  const only = (tag_name: string, regex: string) => new TagProducer({ use_all_default_tags: false, stats_tags: [{ tag_name, regex }] });

  test("two groups: the first is cut from the name, the second is the value", () => {
    assert.deepEqual(extract(only("cluster_name", "^cluster\\.((.+?)\\.)"), "cluster.test_cluster.upstream_cx_total"), {
      name: "cluster.upstream_cx_total",
      tags: ["cluster_name=test_cluster"],
    });
  });

  test("one group: it is both cut and the value (dot included)", () => {
    assert.deepEqual(extract(only("listner_port", "^listener\\.(\\d+?\\.)"), "listener.80.downstream_cx_total"), {
      name: "listener.downstream_cx_total",
      tags: ["listner_port=80."],
    });
  });

  test("a regex without a group adds no tag; a regex that does not match adds none", () => {
    assert.deepEqual(extract(only("x", "^cluster\\."), "cluster.a.b"), { name: "cluster.a.b", tags: [] });
    assert.deepEqual(extract(only("x", "^nomatch\\.(.+)"), "cluster.a.b"), { name: "cluster.a.b", tags: [] });
  });

  test("bad configuration is refused with Envoy's messages", () => {
    assert.throws(() => new TagProducer({ stats_tags: [{ tag_name: "", regex: "^a\\.(b)" }] }), /^Error: tag_name cannot be empty$/);
    assert.throws(() => new TagProducer({ stats_tags: [{ tag_name: "cluster_name", regex: "+invalid" }] }), /Invalid regex '\+invalid'/);
    assert.throws(() => new TagProducer({ stats_tags: [{ tag_name: "no such default tag" }] }), /^Error: No regex specified for tag specifier and no default regex for name: 'no such default tag'$/);
    assert.throws(() => new TagProducer({ stats_tags: [{ tag_name: "x", regex: "(?<=a)b" }] }), /Invalid regex/);
  });

  test("POSIX classes inside brackets work as in std::regex (Istio's bootstrap uses them)", () => {
    const istio = only("http_conn_manager_prefix", "^http\\.(((?:[_.[:digit:]]*|[_\\[\\]aAbBcCdDeEfF[:digit:]]*))\\.)");
    assert.deepEqual(extract(istio, "http.10.0.0.1_8080.downstream_rq_total"), { name: "http.downstream_rq_total", tags: ["http_conn_manager_prefix=10.0.0.1_8080"] });
    assert.deepEqual(extract(only("x", "^a\\.([[:alpha:]]+)\\."), "a.Bc.d"), { name: "a..d", tags: ["x=Bc"] });
  });

  test("a tag_name without regex picks the built-in extractors of that name", () => {
    const p = new TagProducer({ use_all_default_tags: false, stats_tags: [{ tag_name: "envoy.cluster_name" }] });
    assert.deepEqual(extract(p, "cluster.ratelimit.upstream_rq_timeout"), { name: "cluster.upstream_rq_timeout", tags: ["envoy.cluster_name=ratelimit"] });
    assert.deepEqual(extract(p, "vhost.v.vcluster.c.upstream_rq_200"), { name: "vhost.v.vcluster.c.upstream_rq_200", tags: [] });
  });

  test("extractRegexPrefix: the first token a regex is anchored to", () => {
    assert.equal(extractRegexPrefix("^prefix(foo)."), "");
    assert.equal(extractRegexPrefix("^prefix\\.foo"), "prefix");
    assert.equal(extractRegexPrefix("^prefix_optional(?=\\.)"), "prefix_optional");
    assert.equal(extractRegexPrefix("^notACompleteToken"), "");
    assert.equal(extractRegexPrefix("^onlyToken$"), "onlyToken");
    assert.equal(extractRegexPrefix("(prefix)"), "");
    assert.equal(extractRegexPrefix("^(prefix)"), "");
    assert.equal(extractRegexPrefix("prefix(foo)"), "");
    assert.equal(extractRegexPrefix("^wasmcustom\\.hfi_faults_policy_x(\\.y)"), "wasmcustom");
  });

  test("the default extractors on Envoy's example names", () => {
    const p = new TagProducer();
    const cases: Array<[string, string, string[]]> = [
      ["cluster.ratelimit.upstream_rq_timeout", "cluster.upstream_rq_timeout", ["envoy.cluster_name=ratelimit"]],
      ["listener.127.0.0.1_0.ssl.ciphers.AES256-SHA", "listener.ssl.ciphers", ["envoy.ssl_cipher=AES256-SHA", "envoy.listener_address=127.0.0.1_0"]],
      ["listener.[__1]_0.ssl.ciphers.AES256-SHA", "listener.ssl.ciphers", ["envoy.ssl_cipher=AES256-SHA", "envoy.listener_address=[__1]_0"]],
      ["listener.admin.ssl.ciphers.AES256-SHA", "listener.admin.ssl.ciphers", ["envoy.ssl_cipher=AES256-SHA"]],
      ["vhost.vhost_1.vcluster.vcluster_1.upstream_rq_2xx", "vhost.vcluster.upstream_rq_xx", ["envoy.response_code_class=2", "envoy.virtual_cluster=vcluster_1", "envoy.virtual_host=vhost_1"]],
      ["vhost.vhost_1.vcluster.vcluster_1.upstream_rq_200", "vhost.vcluster.upstream_rq", ["envoy.response_code=200", "envoy.virtual_cluster=vcluster_1", "envoy.virtual_host=vhost_1"]],
      ["listener.127.0.0.1_3012.http.http_prefix.downstream_rq_5xx", "listener.http.downstream_rq_xx", ["envoy.response_code_class=5", "envoy.http_conn_manager_prefix=http_prefix", "envoy.listener_address=127.0.0.1_3012"]],
      ["http.egress_dynamodb_iad.dynamodb.table.bar_table.capacity.Query.__partition_id=ABC1234", "http.dynamodb.table.capacity", ["envoy.dynamo_partition_id=ABC1234", "envoy.dynamo_operation=Query", "envoy.dynamo_table=bar_table", "envoy.http_conn_manager_prefix=egress_dynamodb_iad"]],
      ["mongo.mongo_filter.collection.bar_collection.callsite.baz_callsite.query.scatter_get", "mongo.collection.callsite.query.scatter_get", ["envoy.mongo_callsite=baz_callsite", "envoy.mongo_collection=bar_collection", "envoy.mongo_prefix=mongo_filter"]],
      ["http.rds_connection_manager.rds.agg/route_config.1-23.update_success", "http.rds.update_success", ["envoy.rds_route_config=agg/route_config.1-23", "envoy.http_conn_manager_prefix=rds_connection_manager"]],
      ["listener_manager.worker_123.dispatcher.loop_duration_us", "listener_manager.worker_dispatcher.loop_duration_us", ["envoy.worker_id=123"]],
      ["server.worker_123.watchdog_miss", "server.worker_watchdog_miss", ["envoy.worker_id=123"]],
      ["foo_ratelimiter.http_local_rate_limit.ok", "http_local_rate_limit.ok", ["envoy.local_http_ratelimit_prefix=foo_ratelimiter"]],
      ["my_rbac_prefix.rbac.allowed", "rbac.allowed", ["envoy.rbac_prefix=my_rbac_prefix"]],
      ["cluster.grpc_cluster.grpc.grpc_service_1.grpc_method_1.success", "cluster.grpc.success", ["envoy.grpc_bridge_method=grpc_method_1", "envoy.grpc_bridge_service=grpc_service_1", "envoy.cluster_name=grpc_cluster"]],
    ];
    for (const [name, extracted, tags] of cases) {
      const got = extract(p, name);
      assert.equal(got.name, extracted, name);
      assert.deepEqual([...got.tags].sort(), [...tags].sort(), name);
    }
  });

  test("tokenized patterns: $ is the value, * one token, ** any number; one adjoining dot goes with it", () => {
    const tok = (pattern: string, name: string) => {
      const r = applyExtractor(new TokensTagExtractor("t", pattern), name);
      return r ? { name: r.tagExtractedName, tags: r.tags.map((t) => `${t.name}=${t.value}`) } : { name, tags: [] };
    };
    assert.deepEqual(tok("$.is.the.time", "now.is.the.time"), { name: "is.the.time", tags: ["t=now"] });
    assert.deepEqual(tok("now.is.$.time", "now.is.the.time"), { name: "now.is.time", tags: ["t=the"] });
    assert.deepEqual(tok("now.is.the.$", "now.is.the.time"), { name: "now.is.the", tags: ["t=time"] });
    assert.deepEqual(tok("now.**.$.of.their", "now.is.the.time.to.come.to.the.aid.fake.aid.real.of.their"), {
      name: "now.is.the.time.to.come.to.the.aid.fake.aid.of.their",
      tags: ["t=real"],
    });
    assert.deepEqual(tok("$.is.the.*", "now.is.the.time.to.come"), { name: "now.is.the.time.to.come", tags: [] });
    assert.deepEqual(tok("now.$.the.time.to", "now.is.the.time"), { name: "now.is.the.time", tags: [] });
  });
});

describe("which built-in extractors can touch a wasmcustom. name", () => {
  test("all but the unanchored ones are tied to another first token", () => {
    const p = new TagProducer();
    const free = BUILT_IN_EXTRACTORS.filter((d) => {
      const prefix = d.kind === "tokens" ? (["$", "*", "**"].includes(d.pattern.split(".")[0]) ? "" : d.pattern.split(".")[0]) : extractRegexPrefix(d.pattern);
      return prefix === "" && !/^\^(?:\(\?:)?(?:http|listener|cluster|server|mongo)/.test(d.pattern);
    });
    assert.deepEqual(free.map((d) => d.name), ["envoy.response_code", "envoy.response_code_class", "envoy.local_http_ratelimit_prefix", "envoy.rbac_prefix"]);
    // The two `$.<token>.**` patterns need a second token HFI never uses (it is the metric's own name).
    assert.deepEqual(extract(p, "wasmcustom.hfi_faults_policy_matched_total.hfi_policy.x.rbac.y").tags, []);
    assert.deepEqual(extract(p, "wasmcustom.hfi_faults_policy_matched_total.hfi_policy.cluster.http.x").tags, []);
  });

  test("response code extractors do hit a policy name ending in _rq_<3 digits> or _rq_<digit>xx", () => {
    const p = new TagProducer(SHIPPED);
    assert.deepEqual(extract(p, "wasmcustom.hfi_faults_policy_matched_total.hfi_policy.api_rq_503"), {
      name: "wasmcustom.hfi_faults_policy_matched_total",
      tags: ["envoy.response_code=503", "hfi_policy=api_rq_503"],
    });
    assert.deepEqual(extract(p, "wasmcustom.hfi_faults_policy_overflow_total.hfi_policy.web_rq_5xx").tags, ["envoy.response_code_class=5", "hfi_policy=web_rq_5xx"]);
  });
});

describe("the shipped stats_tags on HFI's per-policy names", () => {
  const p = new TagProducer(SHIPPED);
  const cases: Array<[string, string, string[]]> = [
    ["wasmcustom.hfi_faults_policy_injected_total.hfi_policy.checkout-fails.hfi_fault.abort", "wasmcustom.hfi_faults_policy_injected_total", ["hfi_policy=checkout-fails", "hfi_fault=abort"]],
    ["wasmcustom.hfi_faults_policy_dry_run_total.hfi_policy.slow-catalog.hfi_fault.delay", "wasmcustom.hfi_faults_policy_dry_run_total", ["hfi_policy=slow-catalog", "hfi_fault=delay"]],
    ["wasmcustom.hfi_faults_policy_matched_total.hfi_policy.flaky-api", "wasmcustom.hfi_faults_policy_matched_total", ["hfi_policy=flaky-api"]],
    ["wasmcustom.hfi_faults_policy_overflow_total.hfi_policy._other", "wasmcustom.hfi_faults_policy_overflow_total", ["hfi_policy=_other"]],
    ["wasmcustom.hfi_faults_policy_halted.hfi_policy.team.a.v1.2", "wasmcustom.hfi_faults_policy_halted", ["hfi_policy=team.a.v1.2"]],
    ["wasmcustom.hfi_faults_policy_guard_trips_total.hfi_policy.a-b.c-d", "wasmcustom.hfi_faults_policy_guard_trips_total", ["hfi_policy=a-b.c-d"]],
    // Dots in the policy name, and even the separator words, stay in the value.
    ["wasmcustom.hfi_faults_policy_injected_total.hfi_policy.team.a.v1.2.hfi_fault.reset", "wasmcustom.hfi_faults_policy_injected_total", ["hfi_policy=team.a.v1.2", "hfi_fault=reset"]],
    ["wasmcustom.hfi_faults_policy_injected_total.hfi_policy.x.hfi_fault.abort.hfi_fault.delay", "wasmcustom.hfi_faults_policy_injected_total", ["hfi_policy=x.hfi_fault.abort", "hfi_fault=delay"]],
    ["wasmcustom.hfi_faults_policy_matched_total.hfi_policy.x.hfi_fault.abort", "wasmcustom.hfi_faults_policy_matched_total", ["hfi_policy=x.hfi_fault.abort"]],
    ["wasmcustom.hfi_faults_policy_matched_total.hfi_policy._other", "wasmcustom.hfi_faults_policy_matched_total", ["hfi_policy=_other"]],
  ];
  for (const [name, extracted, tags] of cases) {
    test(name.slice("wasmcustom.".length), () => assert.deepEqual(extract(p, name), { name: extracted, tags }));
  }

  test("the aggregates and other stats keep their names and get no tags", () => {
    for (const name of ["wasmcustom.hfi_faults_aborts_total", "wasmcustom.hfi_faults_delay_duration_milliseconds", "wasmcustom.hfi_faults_policy_fetch_failures_total", "wasmcustom.hfi_faults_policy_updates_total"]) {
      assert.deepEqual(extract(p, name), { name, tags: [] });
    }
  });
});

describe("/stats/prometheus with tags", () => {
  test("one # TYPE per tag-extracted name, series in Envoy's order, labels in extraction order", () => {
    const stats = new StatsStore({ tags: SHIPPED });
    stats.counter("wasmcustom.hfi_faults_policy_injected_total.hfi_policy.slow-catalog.hfi_fault.delay").add(2n);
    stats.counter("wasmcustom.hfi_faults_policy_injected_total.hfi_policy.checkout-fails.hfi_fault.abort").add(3n);
    stats.counter("wasmcustom.hfi_faults_policy_matched_total.hfi_policy._other").add(1n);
    stats.counter("wasmcustom.hfi_faults_aborts_total").add(3n);
    stats.gauge("wasmcustom.hfi_faults_policy_halted.hfi_policy.a.b").set(1n);
    assert.equal(
      stats.renderPrometheus(),
      [
        "# TYPE hfi_faults_aborts_total counter",
        "hfi_faults_aborts_total{} 3",
        "",
        "# TYPE hfi_faults_policy_injected_total counter",
        'hfi_faults_policy_injected_total{hfi_policy="checkout-fails",hfi_fault="abort"} 3',
        'hfi_faults_policy_injected_total{hfi_policy="slow-catalog",hfi_fault="delay"} 2',
        "",
        "# TYPE hfi_faults_policy_matched_total counter",
        'hfi_faults_policy_matched_total{hfi_policy="_other"} 1',
        "",
        "# TYPE hfi_faults_policy_halted gauge",
        'hfi_faults_policy_halted{hfi_policy="a.b"} 1',
        "",
        "",
      ].join("\n"),
    );
    assert.match(stats.renderText(), /^wasmcustom\.hfi_faults_policy_injected_total\.hfi_policy\.checkout-fails\.hfi_fault\.abort: 3$/m);
  });

  test("without the tag configuration every per-policy name is still a valid Prometheus name", () => {
    const stats = new StatsStore();
    stats.counter("wasmcustom.hfi_faults_policy_injected_total.hfi_policy.checkout-fails.hfi_fault.abort").add(1n);
    stats.counter("wasmcustom.hfi_faults_policy_matched_total.hfi_policy.team.a.v1.2").add(1n);
    const text = stats.renderPrometheus();
    assert.match(text, /^hfi_faults_policy_injected_total_hfi_policy_checkout_fails_hfi_fault_abort\{\} 1$/m);
    assert.match(text, /^hfi_faults_policy_matched_total_hfi_policy_team_a_v1_2\{\} 1$/m);
    for (const line of text.split("\n").filter((l) => l && !l.startsWith("#"))) assert.match(line, /^[a-zA-Z_][a-zA-Z0-9_]*\{\} \d+$/);
  });

  test("the example from the host reference: two tags cut from a custom name", () => {
    const stats = new StatsStore({
      tags: { stats_tags: [{ tag_name: "value", regex: "(_value=([a-zA-Z]+))" }, { tag_name: "reporter", regex: "(_reporter=([a-zA-Z]+))" }] },
    });
    stats.counter("wasmcustom.custom_counts_value=foo_reporter=x").add(1n);
    assert.match(stats.renderPrometheus(), /^custom_counts\{value="foo",reporter="x"\} 1$/m);
  });

  test("label values are escaped (backslash, newline, double quote) and tag names sanitised", () => {
    const stats = new StatsStore({ tags: { use_all_default_tags: false, stats_tags: [{ tag_name: "the.zone-id", fixed_value: 'a\\b\n"c"' }] } });
    stats.counter("wasmcustom.hfi_faults_aborts_total").add(1n);
    assert.match(stats.renderPrometheus(), /^hfi_faults_aborts_total\{the_zone_id="a\\\\b\\n\\"c\\""\} 1$/m);
  });

  test("duplicate tag names: only the first extractor that matches adds the tag", () => {
    const p = new TagProducer({
      use_all_default_tags: false,
      stats_tags: [{ tag_name: "t", regex: "(\\.(b))" }, { tag_name: "t", regex: "(\\.(c))$" }],
    });
    assert.deepEqual(extract(p, "a.b.c"), { name: "a.c", tags: ["t=b"] });
    assert.deepEqual(extract(p, "a.x.c"), { name: "a.x", tags: ["t=c"] });
  });

  test("extractors anchored to a first token run after those that are not, whatever the config order", () => {
    const p = new TagProducer({
      use_all_default_tags: false,
      stats_tags: [{ tag_name: "t", regex: "^a\\.(b\\.)" }, { tag_name: "t", regex: "(\\.(c))$" }, { tag_name: "u", regex: "^a\\.b\\.(c)" }],
    });
    assert.deepEqual(extract(p, "a.b.c"), { name: "a.b", tags: ["t=c", "u=c"] });
  });

  test("histograms carry the labels before le", () => {
    const stats = new StatsStore({
      tags: { use_all_default_tags: false, stats_tags: [{ tag_name: "hfi_policy", regex: "^wasmcustom\\.h(\\.hfi_policy\\.(.+))$" }] },
    });
    stats.histogram("wasmcustom.h.hfi_policy.p-1").record(7);
    stats.flush();
    const text = stats.renderPrometheus();
    assert.match(text, /^h_bucket\{hfi_policy="p-1",le="10"\} 1$/m);
    assert.match(text, /^h_bucket\{hfi_policy="p-1",le="\+Inf"\} 1$/m);
    assert.match(text, /^h_count\{hfi_policy="p-1"\} 1$/m);
  });

  test("groups are ordered dot token by token, as Envoy's symbol table compares names", () => {
    const stats = new StatsStore({ tags: { use_all_default_tags: false } });
    stats.counter("wasmcustom.a-c.b").add(1n);
    stats.counter("wasmcustom.a.b").add(1n);
    const text = stats.renderPrometheus();
    assert.ok(text.indexOf("a_b{} 1") < text.indexOf("a_c_b{} 1"), text);
  });
});
