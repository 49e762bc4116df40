// Validates Kubernetes objects against Istio's CRD schemas (@kubernetes-models/istio), the way
// `kubectl apply` (strict field validation) does: schema errors (types, enums) and also fields
// the schema does not define, which the models alone would let through.
//
// The models' compiled validators do not expose the schema, so unknown fields are found by
// watching which keys the validator reads: for every object it inspects, it reads each field
// its schema declares. A key it never read is not in the schema. Objects it reads no key of at
// all are free-form (`x-kubernetes-preserve-unknown-fields`, e.g. WasmPlugin.spec.pluginConfig)
// and are left alone, as Kubernetes does.

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string };
  [key: string]: unknown;
}

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: never) => Validatable;

async function modelFor(apiVersion: string, kind: string): Promise<ModelClass | undefined> {
  switch (`${apiVersion}/${kind}`) {
    case "extensions.istio.io/v1alpha1/WasmPlugin":
      return (await import("@kubernetes-models/istio/extensions.istio.io/v1alpha1/WasmPlugin")).WasmPlugin as unknown as ModelClass;
    case "networking.istio.io/v1alpha3/EnvoyFilter":
      return (await import("@kubernetes-models/istio/networking.istio.io/v1alpha3/EnvoyFilter")).EnvoyFilter as unknown as ModelClass;
    default:
      return undefined;
  }
}

interface Watched {
  path: string;
  keys: string[];
  read: Set<string>;
}

function watch(value: unknown, at: string, log: Watched[]): unknown {
  if (Array.isArray(value)) return value.map((v, i) => watch(v, `${at}[${i}]`, log));
  if (typeof value !== "object" || value === null) return value;
  const source = value as Record<string, unknown>;
  const entry: Watched = { path: at, keys: Object.keys(source), read: new Set() };
  log.push(entry);
  const copy: Record<string, unknown> = {};
  for (const key of entry.keys) copy[key] = watch(source[key], at ? `${at}.${key}` : key, log);
  const note = (key: string | symbol) => {
    if (typeof key === "string") entry.read.add(key);
  };
  return new Proxy(copy, {
    get: (target, key, receiver) => (note(key), Reflect.get(target, key, receiver)),
    has: (target, key) => (note(key), Reflect.has(target, key)),
    getOwnPropertyDescriptor: (target, key) => (note(key), Reflect.getOwnPropertyDescriptor(target, key)),
    ownKeys: (target) => {
      for (const key of Reflect.ownKeys(target)) note(key);
      return Reflect.ownKeys(target);
    },
  });
}

/** "/spec/configPatches/0/applyTo" -> "spec.configPatches[0].applyTo", like the unknown-field paths. */
function instancePathToDotted(pointer: string): string {
  const segments = pointer.split("/").slice(1).map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
  const dotted = segments.reduce((acc, s) => (/^\d+$/.test(s) ? `${acc}[${s}]` : acc ? `${acc}.${s}` : s), "");
  return dotted || "(root)";
}

/** Problems with one object, each naming the path of the field; empty when it is valid. */
export async function validateIstioObject(obj: KubeObject): Promise<string[]> {
  const Model = await modelFor(String(obj.apiVersion), String(obj.kind));
  if (!Model) return [`(root): no Istio model for ${obj.apiVersion} ${obj.kind}`];
  const model = new Model({} as never) as unknown as Record<string, unknown>;
  const log: Watched[] = [];
  for (const [key, value] of Object.entries(obj)) {
    model[key] = key === "apiVersion" || key === "kind" ? value : watch(value, key, log);
  }
  const problems: string[] = [];
  try {
    (model as unknown as Validatable).validate();
  } catch (err) {
    const details = (err as { errors?: Array<{ instancePath: string; message?: string; params?: unknown }> }).errors;
    if (details?.length) {
      for (const d of details) {
        const at = instancePathToDotted(d.instancePath);
        problems.push(`${at}: ${d.message ?? "invalid"} ${d.params ? JSON.stringify(d.params) : ""}`.trim());
      }
    } else {
      problems.push(`(root): ${(err as Error).message}`);
    }
  }
  for (const w of log) {
    if (w.read.size === 0) continue; // free-form object
    for (const key of w.keys) {
      if (!w.read.has(key)) problems.push(`${w.path}.${key}: unknown field (not in the ${obj.kind} schema)`);
    }
  }
  return problems;
}
