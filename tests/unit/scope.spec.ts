import { parseJsonString } from "../../assembly/json/index";
import { HeaderSlots, RequestAttributes } from "../../assembly/match/request";
import { firstMatchingRule } from "../../assembly/match/matcher";
import { RuleIndex } from "../../assembly/match/index";
import { destinationMatches, effectiveDirection } from "../../assembly/match/scope";
import { Rule } from "../../assembly/model/policy";
import { Destination, Direction, ProxyKind } from "../../assembly/model/scope";
import { Diagnostics } from "../../assembly/config/diagnostics";
import { ParseLimits } from "../../assembly/config/limits";
import { parsePolicies } from "../../assembly/config/policies";
import { proxyKindOf } from "../../assembly/policyset/identity";
import { ByteBuffer } from "../../assembly/util/bytes";
import { since } from "./positions";

class Traffic extends RequestAttributes {
  reads: i32 = 0;
  constructor(public path: string, public direction: i64, public cluster: string | null) {
    super();
  }
  methodBytes(): ByteBuffer {
    return bytesOf("GET");
  }
  pathBytes(): ByteBuffer {
    return bytesOf(this.path);
  }
  headerBytes(slot: i32): ByteBuffer {
    return bytesOf(null);
  }
  listenerDirection(): i64 {
    this.reads++;
    return this.direction;
  }
  clusterBytes(): ByteBuffer {
    this.reads++;
    return bytesOf(this.cluster);
  }
}

function bytesOf(s: string | null): ByteBuffer {
  const b = new ByteBuffer(0);
  if (s !== null) b.setString(s);
  return b;
}

function rulesOf(json: string, diag: Diagnostics = new Diagnostics()): Rule[] {
  const policies = parsePolicies(parseJsonString(json).value!, new HeaderSlots(), new ParseLimits(), diag);
  const rules: Rule[] = [];
  for (let i = 0; i < policies.length; i++) for (let r = 0; r < policies[i].rules.length; r++) rules.push(policies[i].rules[r]);
  return rules;
}

function policy(name: string, specExtra: string, path: string = "/"): string {
  return '{"metadata":{"name":"' + name + '"},"spec":{' + specExtra + (specExtra.length > 0 ? "," : "") +
    '"rules":[{"match":{"path":{"prefix":"' + path + '"}},"fault":{"percentage":100,"abort":{"httpStatus":503}}}]}}';
}

function dest(service: string, namespace: string, port: i32, subset: string): Destination {
  return new Destination(service, namespace, port, subset, "");
}

function matches(d: Destination, cluster: string | null): bool {
  return destinationMatches(d, bytesOf(cluster));
}

const REVIEWS_OUT = "outbound|9080||reviews.bookinfo.svc.cluster.local";
const REVIEWS_V2_OUT = "outbound|9080|v2|reviews.bookinfo.svc.cluster.local";
const REVIEWS_WAYPOINT = "inbound-vip|9080|http|reviews.bookinfo.svc.cluster.local";
const REVIEWS_V2_WAYPOINT = "inbound-vip|9080|http/v2|reviews.bookinfo.svc.cluster.local";

describe("destination against Istio's cluster names", () => {
  it("a short service name matches the service of a sidecar's and a waypoint's cluster, in any namespace", () => {
    const d = dest("reviews", "", 0, "");
    expect(matches(d, REVIEWS_OUT)).toBe(true);
    expect(matches(d, REVIEWS_V2_OUT)).toBe(true);
    expect(matches(d, REVIEWS_WAYPOINT)).toBe(true);
    expect(matches(d, REVIEWS_V2_WAYPOINT)).toBe(true);
    expect(matches(d, "outbound|9080||reviews.other.svc.cluster.local")).toBe(true);
  });
  it("never matches another service, a longer name or a prefix of it", () => {
    const d = dest("reviews", "", 0, "");
    expect(matches(d, "outbound|9080||ratings.bookinfo.svc.cluster.local")).toBe(false);
    expect(matches(d, "outbound|9080||reviews2.bookinfo.svc.cluster.local")).toBe(false);
    expect(matches(d, "outbound|9080||review.bookinfo.svc.cluster.local")).toBe(false);
  });
  it("a short name needs a Kubernetes service FQDN: a ServiceEntry host with the same first label is not it", () => {
    expect(matches(dest("reviews", "", 0, ""), "outbound|443||reviews.example.com")).toBe(false);
    expect(matches(dest("reviews", "", 0, ""), "outbound|443||reviews")).toBe(false);
    expect(matches(dest("", "example", 0, ""), "outbound|443||reviews.example.com")).toBe(false);
  });
  it("a host name is compared with the whole FQDN", () => {
    expect(matches(dest("api.example.com", "", 0, ""), "outbound|443||api.example.com")).toBe(true);
    expect(matches(dest("api.example.com", "", 0, ""), "outbound|443||api.example.com.evil")).toBe(false);
    expect(matches(dest("reviews.bookinfo.svc.cluster.local", "", 0, ""), REVIEWS_OUT)).toBe(true);
  });
  it("namespace, port and subset each narrow", () => {
    expect(matches(dest("reviews", "bookinfo", 0, ""), REVIEWS_OUT)).toBe(true);
    expect(matches(dest("reviews", "other", 0, ""), REVIEWS_OUT)).toBe(false);
    expect(matches(dest("", "bookinfo", 9080, ""), REVIEWS_OUT)).toBe(true);
    expect(matches(dest("", "bookinfo", 9081, ""), REVIEWS_OUT)).toBe(false);
    expect(matches(dest("reviews", "", 0, "v2"), REVIEWS_V2_OUT)).toBe(true);
    expect(matches(dest("reviews", "", 0, "v2"), REVIEWS_OUT)).toBe(false);
    expect(matches(dest("reviews", "", 0, "v2"), REVIEWS_V2_WAYPOINT)).toBe(true);
    expect(matches(dest("reviews", "", 0, "v2"), REVIEWS_WAYPOINT)).toBe(false);
    expect(matches(dest("reviews", "", 0, "v"), REVIEWS_V2_WAYPOINT)).toBe(false);
  });
  it("no cluster (no route), a plain Envoy cluster or a malformed name never matches an Istio destination", () => {
    const d = dest("reviews", "", 0, "");
    expect(matches(d, null)).toBe(false);
    expect(matches(d, "")).toBe(false);
    expect(matches(d, "reviews")).toBe(false);
    expect(matches(d, "outbound|9080|reviews.bookinfo.svc.cluster.local")).toBe(false);
    expect(matches(d, "outbound|9080||reviews.bookinfo.svc.cluster.local|x")).toBe(false);
    expect(matches(d, "passthrough|9080||reviews.bookinfo.svc.cluster.local")).toBe(false);
    expect(matches(dest("", "", 9080, ""), "outbound|90a0||reviews.bookinfo.svc.cluster.local")).toBe(false);
  });
  it("a sidecar's own inbound cluster answers the port only", () => {
    expect(matches(dest("", "", 9080, ""), "inbound|9080||")).toBe(true);
    expect(matches(dest("reviews", "", 0, ""), "inbound|9080||")).toBe(false);
  });
  it("cluster is an exact comparison", () => {
    const d = new Destination("", "", 0, "", "httproute/default/backend/rule/0");
    expect(matches(d, "httproute/default/backend/rule/0")).toBe(true);
    expect(matches(d, "httproute/default/backend/rule/01")).toBe(false);
    expect(matches(d, null)).toBe(false);
  });
});

describe("what a policy without direction means", () => {
  it("on a sidecar: the requests it receives; with a destination, the calls it makes; elsewhere any", () => {
    const rules = rulesOf("[" + policy("plain", "") + "," + policy("to-reviews", '"destination":{"service":"reviews"}') + "," +
      policy("said", '"direction":"any"') + "]");
    expect(effectiveDirection(rules[0], ProxyKind.Sidecar)).toBe(Direction.Inbound);
    expect(effectiveDirection(rules[1], ProxyKind.Sidecar)).toBe(Direction.Outbound);
    expect(effectiveDirection(rules[2], ProxyKind.Sidecar)).toBe(Direction.Any);
    for (let k = 0; k < 3; k++) {
      const kind = k == 0 ? ProxyKind.Gateway : k == 1 ? ProxyKind.Waypoint : ProxyKind.Other;
      expect(effectiveDirection(rules[0], kind)).toBe(Direction.Any);
      expect(effectiveDirection(rules[1], kind)).toBe(Direction.Any);
    }
  });
  it("the proxy kind is the node id's first field", () => {
    expect(proxyKindOf("sidecar~10.0.0.1~frontend-1.demo~demo.svc.cluster.local")).toBe(ProxyKind.Sidecar);
    expect(proxyKindOf("router~10.0.0.2~ingress-1.istio-system~istio-system.svc.cluster.local")).toBe(ProxyKind.Gateway);
    expect(proxyKindOf("waypoint~10.0.0.3~waypoint-1.demo~demo.svc.cluster.local")).toBe(ProxyKind.Waypoint);
    expect(proxyKindOf("ztunnel~10.0.0.4~z.istio-system~istio-system.svc.cluster.local")).toBe(ProxyKind.Other);
    expect(proxyKindOf("envoy-1")).toBe(ProxyKind.Other);
    expect(proxyKindOf("")).toBe(ProxyKind.Other);
  });
});

const rules = rulesOf("[" + policy("in", '"direction":"inbound"', "/in") + "," + policy("out", '"direction":"outbound"', "/out") + "," +
  policy("reviews", '"destination":{"service":"reviews","port":9080}', "/r") + "," + policy("plain", "", "/p") + "]");

describe("matching with direction and destination", () => {

  it("the rule index agrees with the definition for every direction, cluster and proxy kind", () => {
    const paths = ["/in", "/out", "/r", "/p", "/none"];
    const clusters: Array<string | null> = [null, REVIEWS_OUT, REVIEWS_WAYPOINT, "inbound|9080||", "outbound|9080||ratings.bookinfo.svc.cluster.local"];
    for (let k = 0; k < 4; k++) {
      const kind = <ProxyKind>k;
      const index = new RuleIndex(rules, since(rules.length), kind);
      for (let p = 0; p < paths.length; p++) for (let d: i64 = -1; d <= 2; d++) for (let c = 0; c < clusters.length; c++) {
        const req = new Traffic(paths[p], d, clusters[c]);
        expect(index.firstMatch(req, 0)).toBe(firstMatchingRule(rules, since(rules.length), req, 0, kind));
      }
    }
  });
  it("a sidecar: inbound, outbound and plain policies each keep to their side", () => {
    const s = since(rules.length);
    expect(firstMatchingRule(rules, s, new Traffic("/in", 1, "inbound|80||"), 0, ProxyKind.Sidecar)).toBe(0);
    expect(firstMatchingRule(rules, s, new Traffic("/in", 2, REVIEWS_OUT), 0, ProxyKind.Sidecar)).toBe(-1);
    expect(firstMatchingRule(rules, s, new Traffic("/out", 2, REVIEWS_OUT), 0, ProxyKind.Sidecar)).toBe(1);
    expect(firstMatchingRule(rules, s, new Traffic("/out", 1, "inbound|80||"), 0, ProxyKind.Sidecar)).toBe(-1);
    expect(firstMatchingRule(rules, s, new Traffic("/r", 2, REVIEWS_OUT), 0, ProxyKind.Sidecar)).toBe(2);
    expect(firstMatchingRule(rules, s, new Traffic("/r", 1, REVIEWS_OUT), 0, ProxyKind.Sidecar)).toBe(-1);
    expect(firstMatchingRule(rules, s, new Traffic("/p", 1, "inbound|80||"), 0, ProxyKind.Sidecar)).toBe(3);
    expect(firstMatchingRule(rules, s, new Traffic("/p", 2, REVIEWS_OUT), 0, ProxyKind.Sidecar)).toBe(-1);
    expect(firstMatchingRule(rules, s, new Traffic("/p", 0, null), 0, ProxyKind.Sidecar)).toBe(-1);
  });
  it("properties are read only for a request whose conditions matched a rule that asks for them", () => {
    const req = new Traffic("/none", 1, REVIEWS_OUT);
    const index = new RuleIndex(rules, since(rules.length), ProxyKind.Other);
    expect(index.firstMatch(req, 0)).toBe(-1);
    expect(req.reads).toBe(0);
    const plain = new Traffic("/p", 1, REVIEWS_OUT);
    expect(index.firstMatch(plain, 0)).toBe(3);
    expect(plain.reads).toBe(0);
  });
});

function problems(specExtra: string): string {
  const diag = new Diagnostics();
  const rules = rulesOf("[" + policy("p", specExtra) + "]", diag);
  expect(rules.length).toBe(diag.errors.length == 0 ? 1 : 0);
  return diag.errors.join("\n");
}

describe("parsing direction and destination", () => {
  it("accepts every documented form", () => {
    expect(problems('"direction":"inbound"')).toBe("");
    expect(problems('"direction":"outbound","destination":{"service":"reviews","namespace":"bookinfo","port":9080,"subset":"v2"}')).toBe("");
    expect(problems('"destination":{"service":"*","namespace":"bookinfo","port":"*"}')).toBe("");
    expect(problems('"destination":{"service":"api.example.com"}')).toBe("");
    expect(problems('"destination":{"cluster":"httproute/default/backend/rule/0"}')).toBe("");
  });
  it("refuses what it cannot read exactly, naming the field and the value", () => {
    expect(problems('"direction":"inbund"').includes('spec.direction: must be inbound, outbound or any, got "inbund" (did you mean "inbound"?)')).toBe(true, 'spec.direction: must be inbound, outbound or any, got "inbund" (did you mean "inbound"?)');
    expect(problems('"direction":1').includes("spec.direction: must be inbound, outbound or any, got 1")).toBe(true, "spec.direction: must be inbound, outbound or any, got 1");
    expect(problems('"destination":{}').includes("spec.destination: must be an object with at least one of")).toBe(true, "spec.destination: must be an object with at least one of");
    expect(problems('"destination":"reviews"').includes("spec.destination: must be an object")).toBe(true, "spec.destination: must be an object");
    expect(problems('"destination":{"servce":"reviews"}').includes('spec.destination.servce: unknown field (did you mean "service"?)')).toBe(true, 'spec.destination.servce: unknown field (did you mean "service"?)');
    expect(problems('"destination":{"port":0}').includes("spec.destination.port: must be a port number from 1 to 65535")).toBe(true, "spec.destination.port: must be a port number from 1 to 65535");
    expect(problems('"destination":{"port":"9080"}').includes("spec.destination.port: must be a port number")).toBe(true, "spec.destination.port: must be a port number");
    expect(problems('"destination":{"service":""}').includes("spec.destination.service: must be a non-empty string")).toBe(true, "spec.destination.service: must be a non-empty string");
    expect(problems('"destination":{"namespace":"a.b"}').includes("spec.destination.namespace: must be a Kubernetes name")).toBe(true, "spec.destination.namespace: must be a Kubernetes name");
    expect(problems('"destination":{"service":"a|b"}').includes("it contains '|'")).toBe(true, "it contains '|'");
    expect(problems('"destination":{"cluster":"*"}').includes("spec.destination.cluster:")).toBe(true, "spec.destination.cluster:");
    expect(problems('"destination":{"cluster":"c","service":"reviews"}').includes("cannot be combined")).toBe(true, "cannot be combined");
  });
  it("service and namespace compare without case", () => {
    const rules = rulesOf("[" + policy("p", '"destination":{"service":"Reviews","namespace":"BookInfo"}') + "]");
    expect(matches(rules[0].destination!, REVIEWS_OUT)).toBe(true);
  });
});
