// The deployment files under test, read from the project tree.
import * as fs from "node:fs";
import * as path from "node:path";
import { parse, parseAllDocuments } from "yaml";
import type { KubeObject } from "../../../cli/crd-schema";

export const ROOT = path.resolve(__dirname, "../../..");
export const K8S_DIR = path.join(ROOT, "k8s");
/** The manifests themselves; k8s/ and the overlays (k8s/demo/, k8s/control-plane/) build on it. */
export const K8S_BASE_DIR = path.join(K8S_DIR, "base");
/** Overlays over the base, by directory name under k8s/. */
export const K8S_OVERLAYS = ["demo", "control-plane", "waypoint", "gateway"];
// envoy/envoy.yaml as committed: users edit the working copy for the hot-reload demo, so the
// checks read the test copy that tests/cli/fixtures-in-step.test.ts holds equal to the commit.
export const ENVOY_YAML = path.join(ROOT, "tests/fixtures/envoy.yaml");
export const COMPOSE_YAML = path.join(ROOT, "docker-compose.yaml");
export const PLUGIN_WASM = path.join(ROOT, "build/plugin.wasm");

export const ROOT_ID = "hfi-fault-injection";
export const STATS_PREFIX = "wasmcustom.hfi_faults_";
export const WASM_FILTER_TYPE = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm";
export const BOOTSTRAP_TYPE = "envoy.config.bootstrap.v3.Bootstrap";

// Loose shapes for reading parsed YAML in tests; the schema checks are what validate them.
export type Yaml = any;

export function readYaml(file: string): Yaml {
  return parse(fs.readFileSync(file, "utf8"));
}

export function readYamlDocuments(file: string): KubeObject[] {
  return parseAllDocuments(fs.readFileSync(file, "utf8")).map((doc) => {
    if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0].message}`);
    return doc.toJS() as KubeObject;
  });
}

/** Every manifest k8s/base/kustomization.yaml lists, with the file it came from. */
export function kustomizeResources(): Array<{ file: string; obj: KubeObject }> {
  const kustomization = readYaml(path.join(K8S_BASE_DIR, "kustomization.yaml"));
  return (kustomization.resources as string[]).flatMap((rel) => {
    const file = path.join(K8S_BASE_DIR, rel);
    return readYamlDocuments(file).map((obj) => ({ file: rel, obj }));
  });
}

export function findObject(kind: string): Yaml {
  const found = kustomizeResources().filter((r) => r.obj.kind === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind} in k8s/base/, found ${found.length}`);
  return found[0].obj;
}

/** The Wasm HTTP filters of the compose Envoy config (there must be exactly one). */
export function wasmHttpFilters(bootstrap: Yaml): Yaml[] {
  const filters: Yaml[] = [];
  for (const listener of bootstrap.static_resources?.listeners ?? []) {
    for (const chain of listener.filter_chains ?? []) {
      for (const nf of chain.filters ?? []) {
        for (const hf of nf.typed_config?.http_filters ?? []) {
          if (hf.typed_config?.["@type"] === WASM_FILTER_TYPE) filters.push(hf);
        }
      }
    }
  }
  return filters;
}

export function clone<T>(value: T): T {
  return structuredClone(value);
}
