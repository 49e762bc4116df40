/**
 * Envoy's tag extraction: how a flat stat name such as
 * `wasmcustom.hfi_faults_policy_injected_total.hfi_policy.checkout-fails.hfi_fault.abort` becomes a
 * tag-extracted name (`wasmcustom.hfi_faults_policy_injected_total`) plus tags
 * (`hfi_policy="checkout-fails"`, `hfi_fault="abort"`), which `/stats/prometheus` renders as labels.
 *
 * Follows Envoy's `source/common/stats/tag_producer_impl.cc` (which extractors run on a name, in
 * which order, duplicate tag names) and `source/common/stats/tag_extractor_impl.cc` (regex,
 * tokenized and fixed-value extractors, `extractRegexPrefix`), with the built-in extractors of
 * `source/common/config/well_known_names.cc`. docs/metrics.md states the rules with sources.
 */

/** One `stats_config.stats_tags` entry (envoy.config.metrics.v3.TagSpecifier). */
export interface TagSpecifier {
  tag_name?: string;
  tagName?: string;
  regex?: string;
  fixed_value?: string;
  fixedValue?: string;
}

/** The part of `stats_config` (envoy.config.metrics.v3.StatsConfig) that decides tags. */
export interface StatsTagConfig {
  stats_tags?: TagSpecifier[];
  statsTags?: TagSpecifier[];
  /** Unset means true: Envoy's built-in extractors run before the configured ones. */
  use_all_default_tags?: boolean;
  useAllDefaultTags?: boolean;
}

export interface Tag {
  name: string;
  value: string;
}

export interface TagExtraction {
  /** The name with every extracted part cut out (Envoy's tagExtractedName). */
  tagExtractedName: string;
  /** Tags in extraction order (Envoy keeps this order; Prometheus labels follow it). */
  tags: Tag[];
}

/** Character ranges [start, end) to cut from the name (Envoy's IntervalSet). */
type Removals = Array<[number, number]>;

/** The stat name being tagged, split into dot tokens on first use (TagExtractionContext). */
class ExtractionContext {
  private split?: string[];
  constructor(readonly name: string) {}
  get tokens(): string[] {
    return (this.split ??= this.name.split("."));
  }
}

export abstract class TagExtractor {
  /** First dot token every matching name must start with; "" when any name may match. */
  prefix: string;
  /** Another extractor has the same tag name: only the first one that matches adds the tag. */
  otherWithSameName = false;
  constructor(
    readonly name: string,
    prefixSource: string,
    /** A substring the name must contain, a cheap pre-check (built-in extractors only). */
    readonly substr = "",
  ) {
    this.prefix = extractRegexPrefix(prefixSource);
  }
  protected substrMismatch(name: string): boolean {
    return this.substr !== "" && !name.includes(this.substr);
  }
  abstract extract(context: ExtractionContext, tags: Tag[], removals: Removals): boolean;
}

/**
 * The first dot token a regex is anchored to (`^cluster\.` gives "cluster"), so that Envoy tries
 * the extractor only on names starting with it; "" when the regex does not pin one down.
 */
export function extractRegexPrefix(regex: string): string {
  if (!regex.startsWith("^")) return "";
  for (let i = 1; i < regex.length; i++) {
    const c = regex[i];
    if (/[A-Za-z0-9_]/.test(c)) continue;
    if (i > 1) {
      const last = i === regex.length - 1;
      const rest = regex.slice(i);
      if ((!last && (rest.startsWith("\\.") || rest.startsWith("(?=\\."))) || (last && c === "$")) {
        return regex.slice(1, i);
      }
    }
    return "";
  }
  return "";
}

export type RegexFlavour = "std" | "re2";

/**
 * A regex extractor. The regex is searched for anywhere in the full name; the first capture group
 * is cut from the name, the second (or the first when there is only one) is the tag's value.
 * "std" is std::regex (ECMAScript grammar, `std::regex_search`): user `stats_tags` regexes.
 * "re2" is RE2::PartialMatch with two groups: the built-in extractors; an empty first group or a
 * value equal to `negativeMatch` is no match.
 */
class RegexTagExtractor extends TagExtractor {
  private readonly re: RegExp;
  constructor(
    name: string,
    readonly regex: string,
    readonly flavour: RegexFlavour,
    substr = "",
    private readonly negativeMatch = "",
  ) {
    super(name, regex, substr);
    this.re = compileRegex(regex, flavour);
  }

  extract(context: ExtractionContext, tags: Tag[], removals: Removals): boolean {
    const name = context.name;
    if (this.substrMismatch(name)) return false;
    const m = this.re.exec(name);
    if (!m) return false;
    const groups = m.length - 1;
    const indices = m.indices!;
    if (this.flavour === "std") {
      if (groups < 1) return false; // std: match.size() > 1
      const value = (groups > 1 ? m[2] : m[1]) ?? "";
      tags.push({ name: this.name, value });
      if (indices[1]) removals.push([indices[1][0], indices[1][1]]);
      return true;
    }
    // RE2::PartialMatch(name, re, &remove, &value) fails when the regex has fewer than 2 groups.
    if (groups < 2) return false;
    const remove = m[1] ?? "";
    if (remove === "") return false;
    const value = m[2] ? m[2] : remove;
    if (this.negativeMatch !== "" && this.negativeMatch === value) return false;
    tags.push({ name: this.name, value });
    removals.push([indices[1]![0], indices[1]![1]]);
    return true;
  }
}

/** A JavaScript RegExp with the same matches for the regex grammar Envoy uses here. */
function compileRegex(regex: string, flavour: RegexFlavour): RegExp {
  // std::regex's ECMAScript grammar (ECMAScript 3) has no lookbehind and no named groups; RE2
  // has no lookaround at all. Refuse what the real engine refuses, as Envoy does at startup.
  if (/\(\?<[=!]/.test(regex) || /\(\?<[A-Za-z]/.test(regex)) {
    throw new Error(`Invalid regex '${regex}': lookbehind and named groups are not ECMAScript 3 syntax`);
  }
  if (flavour === "re2" && /\(\?[=!]/.test(regex)) throw new Error(`Invalid regex '${regex}': RE2 has no lookahead`);
  try {
    return new RegExp(flavour === "std" ? posixClasses(regex) : regex, "d");
  } catch (e) {
    throw new Error(`Invalid regex '${regex}': ${(e as Error).message}`);
  }
}

// std::regex's ECMAScript grammar accepts POSIX classes inside brackets (`[_.[:digit:]]`, as in
// Istio's bootstrap tags); JavaScript does not, so they become the ASCII ranges they stand for.
const POSIX_CLASSES: Record<string, string> = {
  alnum: "A-Za-z0-9", alpha: "A-Za-z", blank: " \\t", cntrl: "\\x00-\\x1f\\x7f", digit: "0-9", d: "0-9",
  graph: "\\x21-\\x7e", lower: "a-z", print: "\\x20-\\x7e", punct: "!-\\/:-@\\[-`{-~", space: "\\s", s: "\\s",
  upper: "A-Z", w: "\\w", xdigit: "0-9A-Fa-f",
};
function posixClasses(regex: string): string {
  return regex.replace(/\[:([a-z]+):\]/g, (all, name: string) => POSIX_CLASSES[name] ?? all);
}

/**
 * A tokenized extractor (Envoy's TagExtractorTokensImpl): a dot-separated pattern where `$` is
 * the token that becomes the value, `*` any one token and `**` any number of tokens. The value's
 * token is cut together with one adjoining dot.
 */
export class TokensTagExtractor extends TagExtractor {
  private readonly pattern: string[];
  private readonly matchIndex: number;
  constructor(name: string, pattern: string) {
    super(name, pattern);
    this.pattern = pattern.split(".");
    this.matchIndex = Math.max(0, this.pattern.indexOf("$"));
    const first = this.pattern[0];
    this.prefix = first !== "$" && first !== "*" && first !== "**" ? first : "";
  }

  extract(context: ExtractionContext, tags: Tag[], removals: Removals): boolean {
    const input = context.tokens;
    const found = { start: 0, index: input.length };
    if (!this.search(input, 0, 0, 0, found)) return false;
    const value = input[found.index];
    let start = found.start;
    let end = start + value.length;
    if (found.index < input.length - 1) end++; // "ab." at the start or "cd." in the middle
    else if (start > 0) start--; // ".ef" at the end
    tags.push({ name: this.name, value });
    removals.push([start, end]);
    return true;
  }

  private search(input: string[], inputIndex: number, patternIndex: number, charIndex: number, found: { start: number; index: number }): boolean {
    for (; inputIndex < input.length && patternIndex < this.pattern.length; inputIndex++, patternIndex++) {
      if (patternIndex === this.matchIndex) {
        found.start = charIndex;
        found.index = inputIndex;
        continue; // as in Envoy, the character index stops counting here: only `start` needs it
      }
      const expected = this.pattern[patternIndex];
      if (expected === "**") {
        if (patternIndex === this.pattern.length - 1) {
          patternIndex = this.pattern.length;
          inputIndex = input.length;
          break;
        }
        patternIndex++;
        for (; inputIndex < input.length; inputIndex++) {
          if (this.search(input, inputIndex, patternIndex, charIndex, found)) return true;
          charIndex += input[inputIndex].length + 1;
        }
        return false;
      }
      const token = input[inputIndex];
      if (expected !== "*" && expected !== token) return false;
      charIndex += token.length + 1;
    }
    return patternIndex === this.pattern.length && inputIndex === input.length;
  }
}

/** `fixed_value`: the tag on every stat (Envoy's TagExtractorFixedImpl). */
class FixedTagExtractor extends TagExtractor {
  constructor(
    name: string,
    readonly value: string,
  ) {
    // Envoy builds the base from (name, value): a value that looks like "^token\." limits it.
    super(name, value);
  }
  extract(_context: ExtractionContext, tags: Tag[]): boolean {
    tags.push({ name: this.name, value: this.value });
    return true;
  }
}

/** A built-in extractor: Envoy's TagNameValues descriptors (well_known_names.cc). */
export interface BuiltInExtractor {
  name: string;
  /** Regex (RE2) or token pattern. */
  pattern: string;
  kind: "re2" | "tokens";
  substr?: string;
  negativeMatch?: string;
}

// Envoy's regex shorthands (expandRegex in well_known_names.cc).
const TAG_VALUE = String.raw`[^\.]+`;
function expand(regex: string): string {
  return regex
    .replaceAll("<ADDRESS>", String.raw`(?:(?:\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[[a-fA-F_\d]+\])_\d+)`)
    .replaceAll("<CIPHER>", String.raw`[\w-]+`)
    .replaceAll("<TLS_VERSION>", String.raw`TLSv\d\.\d`)
    .replaceAll("<TAG_VALUE>", TAG_VALUE)
    .replaceAll("<ROUTE_CONFIG_NAME>", String.raw`[\w\-\./]+`) // "/" as in the newer test expectations
    .replaceAll("<LISTENER_OR_CLUSTER_WITH_NAME>", String.raw`(?:listener|cluster)\..*?`);
}
const re2 = (name: string, regex: string, substr = "", negativeMatch = ""): BuiltInExtractor => ({
  name, pattern: expand(regex), kind: "re2", substr, negativeMatch,
});
const tokens = (name: string, pattern: string): BuiltInExtractor => ({ name, pattern, kind: "tokens" });

/**
 * Envoy's built-in extractors, in Envoy's order (regex descriptors, then tokenized ones). Read from
 * well_known_names.cc (the version with tokenized descriptors); CONNECTION_LIMIT_PREFIX and
 * RBAC_PREFIX are written from the expectations in Envoy's tag_extractor_impl_test.cc. The
 * extractors of newer releases not listed here (RBAC HTTP prefix and policy name, scoped RDS,
 * proxy protocol) are anchored to `http.` or `proxy_proto.` names in those tests.
 * Only RESPONSE_CODE, RESPONSE_CODE_CLASS and the `$.<token>.**` patterns are unanchored, so only
 * they can ever touch a `wasmcustom.` name (tests/host/tag-extraction.test.ts shows which do).
 */
export const BUILT_IN_EXTRACTORS: readonly BuiltInExtractor[] = [
  re2("envoy.response_code", String.raw`_rq(_(\d{3}))$`, "_rq_"),
  re2("envoy.response_code_class", String.raw`_rq_((\d))xx$`, "_rq_"),
  re2("envoy.dynamo_partition_id", String.raw`^http\.<TAG_VALUE>\.dynamodb\.table\.<TAG_VALUE>\.capacity\.<TAG_VALUE>(\.__partition_id=(\w{7}))$`, ".dynamodb.table."),
  re2("envoy.dynamo_operation", String.raw`^http\.<TAG_VALUE>\.dynamodb.(?:operation|table\.<TAG_VALUE>\.capacity)(\.(<TAG_VALUE>))(?:\.|$)`, ".dynamodb."),
  re2("envoy.dynamo_table", String.raw`^http\.<TAG_VALUE>\.dynamodb.(?:table|error)\.((<TAG_VALUE>)\.)`, ".dynamodb."),
  re2("envoy.ssl_cipher", String.raw`^listener\..*?\.ssl\.ciphers(\.(<CIPHER>))$`, ".ssl.ciphers."),
  re2("envoy.ssl_curve", String.raw`^<LISTENER_OR_CLUSTER_WITH_NAME>\.ssl\.curves(\.(<CIPHER>))$`, ".ssl.curves."),
  re2("envoy.ssl_sigalg", String.raw`^<LISTENER_OR_CLUSTER_WITH_NAME>\.ssl\.sigalgs(\.(<CIPHER>))$`, ".ssl.sigalgs."),
  re2("envoy.ssl_version", String.raw`^<LISTENER_OR_CLUSTER_WITH_NAME>\.ssl\.versions(\.(<TLS_VERSION>))$`, ".ssl.versions."),
  re2("cipher_suite", String.raw`^cluster\.<TAG_VALUE>\.ssl\.ciphers(\.(<CIPHER>))$`, ".ssl.ciphers."),
  re2("envoy.http_conn_manager_prefix", String.raw`^listener\..*?\.http\.((<TAG_VALUE>)\.)`, ".http."),
  re2("envoy.worker_id", String.raw`^(?:listener\.(?:<ADDRESS>|<TAG_VALUE>)\.|server\.|listener_manager\.)worker_((\d+)\.)`),
  re2("envoy.listener_address", String.raw`^listener\.((<ADDRESS>|<TAG_VALUE>)\.)`, "", "admin"),
  re2("envoy.rds_route_config", String.raw`^http\.<TAG_VALUE>\.rds\.((<ROUTE_CONFIG_NAME>)\.)\w+?$`, ".rds."),
  tokens("envoy.mongo_callsite", "mongo.*.collection.*.callsite.$.query.**"),
  tokens("envoy.mongo_collection", "mongo.*.collection.$.**.query.*"),
  tokens("envoy.mongo_cmd", "mongo.*.cmd.$.**"),
  tokens("envoy.grpc_bridge_method", "cluster.*.grpc.*.$.**"),
  tokens("envoy.http_user_agent", "http.*.user_agent.$.**"),
  tokens("envoy.virtual_cluster", "vhost.*.vcluster.$.**"),
  tokens("envoy.fault_downstream_cluster", "http.*.fault.$.**"),
  tokens("envoy.grpc_bridge_service", "cluster.*.grpc.$.**"),
  tokens("envoy.tcp_prefix", "tcp.$.**"),
  tokens("envoy.udp_prefix", "udp.$.**"),
  tokens("envoy.clientssl_prefix", "auth.clientssl.$.**"),
  tokens("envoy.ratelimit_prefix", "ratelimit.$.**"),
  tokens("envoy.cluster_name", "cluster.$.**"),
  tokens("envoy.ext_authz_prefix", "cluster.*.ext_authz.$.**"),
  tokens("envoy.ext_authz_prefix", "http.*.ext_authz.$.**"),
  tokens("envoy.http_conn_manager_prefix", "http.$.**"),
  tokens("envoy.virtual_host", "vhost.$.**"),
  tokens("envoy.mongo_prefix", "mongo.$.**"),
  tokens("envoy.route", "vhost.*.route.$.**"),
  tokens("envoy.thrift_prefix", "thrift.$.**"),
  tokens("envoy.redis_prefix", "redis.$.**"),
  tokens("envoy.local_http_ratelimit_prefix", "$.http_local_rate_limit.**"),
  tokens("envoy.local_network_ratelimit_prefix", "local_rate_limit.$.**"),
  tokens("envoy.local_listener_ratelimit_prefix", "listener_local_ratelimit.$.**"),
  tokens("envoy.dns_filter_prefix", "dns_filter.$.**"),
  tokens("envoy.connection_limit_prefix", "connection_limit.$.**"),
  tokens("envoy.rbac_prefix", "$.rbac.**"),
];

function builtIn(d: BuiltInExtractor): TagExtractor {
  return d.kind === "re2"
    ? new RegexTagExtractor(d.name, d.pattern, "re2", d.substr ?? "", d.negativeMatch ?? "")
    : new TokensTagExtractor(d.name, d.pattern);
}

/**
 * Envoy's TagProducer: built from `stats_config`, it turns a full stat name into its
 * tag-extracted name and tags. Bad configuration throws, as Envoy refuses the bootstrap.
 */
export class TagProducer {
  private readonly withoutPrefix: TagExtractor[] = [];
  private readonly byPrefix = new Map<string, TagExtractor[]>();
  private readonly byName = new Map<string, TagExtractor>();
  /** The `fixed_value` tags (Envoy's fixedTags()). */
  readonly fixedTags: Tag[] = [];

  constructor(config: StatsTagConfig = {}) {
    const useDefaults = config.use_all_default_tags ?? config.useAllDefaultTags ?? true;
    if (useDefaults) {
      // Regex descriptors first, then tokenized ones: Envoy keeps them in two lists.
      for (const d of BUILT_IN_EXTRACTORS.filter((e) => e.kind === "re2")) this.add(builtIn(d));
      for (const d of BUILT_IN_EXTRACTORS.filter((e) => e.kind === "tokens")) this.add(builtIn(d));
    }
    for (const spec of config.stats_tags ?? config.statsTags ?? []) {
      const name = spec.tag_name ?? spec.tagName ?? "";
      const fixed = spec.fixed_value ?? spec.fixedValue;
      if (fixed !== undefined) {
        if (name === "") throw new Error("tag_name cannot be empty");
        this.add(new FixedTagExtractor(name, fixed));
        this.fixedTags.push({ name, value: fixed });
      } else if (!spec.regex) {
        // No regex: the built-in extractors of that name, if there are any.
        const found = BUILT_IN_EXTRACTORS.filter((d) => d.name === name);
        if (found.length === 0) throw new Error(`No regex specified for tag specifier and no default regex for name: '${name}'`);
        for (const d of found) this.add(builtIn(d));
      } else {
        if (name === "") throw new Error("tag_name cannot be empty");
        this.add(new RegexTagExtractor(name, spec.regex, "std"));
      }
    }
  }

  private add(extractor: TagExtractor): void {
    const other = this.byName.get(extractor.name);
    if (other) {
      other.otherWithSameName = true;
      extractor.otherWithSameName = true;
    } else {
      this.byName.set(extractor.name, extractor);
    }
    if (extractor.prefix === "") this.withoutPrefix.push(extractor);
    else {
      const list = this.byPrefix.get(extractor.prefix) ?? [];
      list.push(extractor);
      this.byPrefix.set(extractor.prefix, list);
    }
  }

  /** The extractors Envoy tries on a name: those without a prefix, then those of its first token. */
  private candidates(name: string): TagExtractor[] {
    const dot = name.indexOf(".");
    const byToken = dot >= 0 ? (this.byPrefix.get(name.slice(0, dot)) ?? []) : [];
    return [...this.withoutPrefix, ...byToken];
  }

  /** Envoy's produceTags: every candidate extractor on the full name, then the cuts. */
  produceTags(name: string): TagExtraction {
    const context = new ExtractionContext(name);
    const tags: Tag[] = [];
    const removals: Removals = [];
    const seen = new Set<string>();
    for (const extractor of this.candidates(name)) {
      if (extractor.otherWithSameName && seen.has(extractor.name)) continue;
      if (extractor.extract(context, tags, removals) && extractor.otherWithSameName) seen.add(extractor.name);
    }
    return { tagExtractedName: removeCharacters(name, removals), tags };
  }
}

/** One extractor alone on a name (as Envoy's extractor tests run them). */
export function applyExtractor(extractor: TagExtractor, name: string): TagExtraction | undefined {
  const tags: Tag[] = [];
  const removals: Removals = [];
  if (!extractor.extract(new ExtractionContext(name), tags, removals)) return undefined;
  return { tagExtractedName: removeCharacters(name, removals), tags };
}

/** Cuts the union of the ranges out of the name (StringUtil::removeCharacters). */
function removeCharacters(name: string, removals: Removals): string {
  if (removals.length === 0) return name;
  const cut = new Uint8Array(name.length);
  for (const [start, end] of removals) cut.fill(1, start, end);
  let out = "";
  for (let i = 0; i < name.length; i++) if (!cut[i]) out += name[i];
  return out;
}
