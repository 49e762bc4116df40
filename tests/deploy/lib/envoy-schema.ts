// Checks an Envoy configuration (parsed YAML/JSON) field by field against Envoy's own .proto
// files, the way Envoy reads it: every key must be a field of the message (snake_case or its
// lowerCamelCase JSON name), enums must name a value, `@type` Any values are resolved to their
// message and checked in turn, and the JSON forms of the well-known types are honoured.
// Returns problems as values, each naming the path of the offending key.
import * as fs from "node:fs";
import * as path from "node:path";
import * as protobuf from "protobufjs";

const PROTO_DIRS = ["envoy-api", "xds", "googleapis", "protoc-gen-validate"].map((d) =>
  path.join(path.dirname(require.resolve("@grpc/grpc-js-xds/package.json")), "deps", d),
);
const PROTOBUFJS_DIR = path.dirname(require.resolve("protobufjs/package.json"));
const TYPE_URL_PREFIX = "type.googleapis.com/";

const WRAPPERS: Record<string, "number" | "integer" | "bool" | "string"> = {
  "google.protobuf.DoubleValue": "number",
  "google.protobuf.FloatValue": "number",
  "google.protobuf.Int64Value": "integer",
  "google.protobuf.UInt64Value": "integer",
  "google.protobuf.Int32Value": "integer",
  "google.protobuf.UInt32Value": "integer",
  "google.protobuf.BoolValue": "bool",
  "google.protobuf.StringValue": "string",
  "google.protobuf.BytesValue": "string",
};
// Well-known types whose JSON form is not an object of their fields.
const SPECIAL_JSON = new Set([
  ...Object.keys(WRAPPERS),
  "google.protobuf.Struct",
  "google.protobuf.Value",
  "google.protobuf.ListValue",
  "google.protobuf.Duration",
  "google.protobuf.Timestamp",
  "google.protobuf.FieldMask",
]);

export interface CheckOptions {
  /** A patch merged into a larger config (an EnvoyFilter MERGE value): skip "required" rules. */
  partial?: boolean;
}

export class EnvoySchema {
  private readonly root = new protobuf.Root();
  private readonly loadedDirs = new Set<string>();

  constructor(entryFiles: string[]) {
    this.root.resolvePath = (_origin, target) => resolveProtoFile(target);
    this.root.loadSync(entryFiles, { keepCase: true });
    this.root.resolveAll();
  }

  /** The bootstrap and the filters this project configures; other `@type`s load on demand. */
  static forBootstrap(): EnvoySchema {
    return new EnvoySchema([
      "envoy/config/bootstrap/v3/bootstrap.proto",
      "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto",
      "envoy/extensions/filters/http/wasm/v3/wasm.proto",
      "envoy/extensions/filters/http/router/v3/router.proto",
    ]);
  }

  /** Problems found in `value` read as message `typeName`, each as "path: what is wrong". */
  check(value: unknown, typeName: string, options: CheckOptions = {}): string[] {
    const type = this.findType(typeName);
    if (!type) return [`(root): unknown message type ${typeName}`];
    const problems: string[] = [];
    new Walk(this, problems, options).message(value, type, "");
    return problems;
  }

  /** Finds a message type by full name, loading its package's .proto files when needed. */
  findType(fullName: string): protobuf.Type | undefined {
    const found = this.lookup(fullName);
    if (found) return found;
    const pkgDir = fullName.split(".").slice(0, -1).join("/");
    if (this.loadedDirs.has(pkgDir)) return undefined;
    this.loadedDirs.add(pkgDir);
    const files = PROTO_DIRS.flatMap((d) => {
      const dir = path.join(d, pkgDir);
      return fs.existsSync(dir)
        ? fs.readdirSync(dir).filter((f) => f.endsWith(".proto")).map((f) => path.join(pkgDir, f))
        : [];
    });
    if (files.length === 0) return undefined;
    this.root.loadSync(files, { keepCase: true });
    this.root.resolveAll();
    return this.lookup(fullName);
  }

  private lookup(fullName: string): protobuf.Type | undefined {
    const found = this.root.lookup(fullName);
    return found instanceof protobuf.Type ? found : undefined;
  }
}

function resolveProtoFile(target: string): string {
  for (const dir of [...PROTO_DIRS, PROTOBUFJS_DIR]) {
    const candidate = path.join(dir, target);
    if (fs.existsSync(candidate)) return candidate;
  }
  return target;
}

function jsonName(field: protobuf.Field): string {
  const explicit = field.options?.["json_name"];
  if (typeof explicit === "string") return explicit;
  return field.name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function join(base: string, key: string | number): string {
  if (typeof key === "number") return `${base}[${key}]`;
  return base ? `${base}.${key}` : key;
}

function isInteger(v: unknown): boolean {
  if (typeof v === "number") return Number.isInteger(v);
  return typeof v === "string" && /^-?\d+$/.test(v);
}

class Walk {
  constructor(
    private readonly schema: EnvoySchema,
    private readonly problems: string[],
    private readonly options: CheckOptions,
  ) {}

  private fail(at: string, message: string): void {
    this.problems.push(`${at || "(root)"}: ${message}`);
  }

  message(value: unknown, type: protobuf.Type, at: string): void {
    const name = type.fullName.replace(/^\./, "");
    if (name === "google.protobuf.Any") return this.any(value, at);
    if (SPECIAL_JSON.has(name)) return this.wellKnown(value, name, at);
    if (!isPlainObject(value)) return this.fail(at, `expected an object for ${name}`);
    this.fields(value, type, at, new Set());
  }

  private fields(value: Record<string, unknown>, type: protobuf.Type, at: string, skip: Set<string>) {
    const name = type.fullName.replace(/^\./, "");
    const byKey = new Map<string, protobuf.Field>();
    for (const f of type.fieldsArray) {
      byKey.set(f.name, f);
      byKey.set(jsonName(f), f);
    }
    const seen = new Set<protobuf.Field>();
    for (const [key, v] of Object.entries(value)) {
      if (skip.has(key)) continue;
      const field = byKey.get(key);
      const here = join(at, key);
      if (!field) {
        this.fail(here, `unknown field of ${name}`);
        continue;
      }
      if (seen.has(field)) this.fail(here, `field ${field.name} given twice`);
      seen.add(field);
      if (field.options?.["deprecated"] === true) this.fail(here, `deprecated field of ${name}`);
      if (v === null) continue; // JSON null means "default" in the proto JSON mapping
      this.fieldValue(v, field, here);
    }
    for (const oneof of type.oneofsArray) {
      const set = oneof.fieldsArray.filter((f) => seen.has(f));
      if (set.length > 1) {
        this.fail(at, `only one of ${oneof.name} {${set.map((f) => f.name).join(", ")}} may be set`);
      } else if (set.length === 0 && oneof.options?.["(validate.required)"] === true && !this.options.partial) {
        this.fail(at, `one of ${oneof.name} {${oneof.fieldsArray.map((f) => f.name).join(", ")}} is required`);
      }
    }
    if (!this.options.partial) {
      // A oneof member's rules apply only when that member is the one set.
      for (const f of type.fieldsArray) {
        if (f.partOf) continue;
        if (f.options?.["(validate.rules).message.required"] === true && !seen.has(f)) {
          this.fail(join(at, f.name), `required field of ${name} is missing`);
        }
      }
    }
  }

  private fieldValue(v: unknown, field: protobuf.Field, at: string): void {
    if (field instanceof protobuf.MapField) {
      if (!isPlainObject(v)) return this.fail(at, "expected an object (map)");
      for (const [k, item] of Object.entries(v)) this.single(item, field, join(at, k));
      return;
    }
    if (field.repeated) {
      if (!Array.isArray(v)) return this.fail(at, "expected a list");
      v.forEach((item, i) => this.single(item, field, join(at, i)));
      return;
    }
    this.single(v, field, at);
  }

  private single(v: unknown, field: protobuf.Field, at: string): void {
    const resolved = field.resolvedType;
    if (resolved instanceof protobuf.Enum) {
      const ok =
        typeof v === "string" ? Object.hasOwn(resolved.values, v) : Number.isInteger(v) && Object.hasOwn(resolved.valuesById, v as number);
      if (!ok) this.fail(at, `${JSON.stringify(v)} is not a value of enum ${resolved.name} (${Object.keys(resolved.values).join(", ")})`);
      return;
    }
    if (resolved instanceof protobuf.Type) return this.message(v, resolved, at);
    this.scalar(v, field.type, at);
  }

  private scalar(v: unknown, type: string, at: string): void {
    switch (type) {
      case "string":
      case "bytes":
        if (typeof v !== "string") this.fail(at, `expected a ${type === "bytes" ? "base64 " : ""}string`);
        return;
      case "bool":
        if (typeof v !== "boolean") this.fail(at, "expected true or false");
        return;
      case "double":
      case "float":
        if (typeof v !== "number" && !(typeof v === "string" && /^(-?Infinity|NaN|-?[\d.eE+-]+)$/.test(v))) {
          this.fail(at, "expected a number");
        }
        return;
      default: // the integer types
        if (!isInteger(v)) this.fail(at, `expected an integer (${type})`);
        else if (/^uint|^fixed/.test(type) && Number(v) < 0) this.fail(at, `expected a non-negative integer (${type})`);
    }
  }

  private any(value: unknown, at: string): void {
    if (!isPlainObject(value)) return this.fail(at, "expected an object with @type");
    const url = value["@type"];
    if (typeof url !== "string") return this.fail(join(at, "@type"), "missing @type");
    if (!url.startsWith(TYPE_URL_PREFIX)) return this.fail(join(at, "@type"), `expected ${TYPE_URL_PREFIX}<message>, got ${url}`);
    const typeName = url.slice(TYPE_URL_PREFIX.length);
    const type = this.schema.findType(typeName);
    if (!type) return this.fail(join(at, "@type"), `unknown type ${typeName}`);
    if (SPECIAL_JSON.has(typeName)) {
      const extra = Object.keys(value).filter((k) => k !== "@type" && k !== "value");
      for (const k of extra) this.fail(join(at, k), `unknown field of ${typeName} (its JSON form is {"@type", "value"})`);
      if (!("value" in value)) return this.fail(join(at, "value"), `missing value for ${typeName}`);
      return this.wellKnown(value["value"], typeName, join(at, "value"));
    }
    this.fields(value, type, at, new Set(["@type"]));
  }

  private wellKnown(v: unknown, name: string, at: string): void {
    const wrapped = WRAPPERS[name];
    if (wrapped === "bool") {
      if (typeof v !== "boolean") this.fail(at, `expected true or false (${name})`);
    } else if (wrapped === "string") {
      if (typeof v !== "string") this.fail(at, `expected a string (${name})`);
    } else if (wrapped === "integer") {
      if (!isInteger(v)) this.fail(at, `expected an integer (${name})`);
    } else if (wrapped === "number") {
      if (typeof v !== "number") this.fail(at, `expected a number (${name})`);
    } else if (name === "google.protobuf.Struct") {
      if (!isPlainObject(v)) this.fail(at, "expected an object (google.protobuf.Struct)");
    } else if (name === "google.protobuf.ListValue") {
      if (!Array.isArray(v)) this.fail(at, "expected a list (google.protobuf.ListValue)");
    } else if (name === "google.protobuf.Duration") {
      if (typeof v !== "string" || !/^-?\d+(\.\d{1,9})?s$/.test(v)) this.fail(at, `expected a duration such as "1.5s", got ${JSON.stringify(v)}`);
    } else if (name === "google.protobuf.Timestamp") {
      if (typeof v !== "string" || Number.isNaN(Date.parse(v))) this.fail(at, "expected an RFC 3339 timestamp");
    } else if (name === "google.protobuf.FieldMask") {
      if (typeof v !== "string") this.fail(at, "expected a comma-separated field mask");
    }
    // google.protobuf.Value: any JSON value.
  }
}
