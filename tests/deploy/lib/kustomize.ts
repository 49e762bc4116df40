// What `kubectl kustomize` renders for this project's kustomizations, computed without kubectl
// (kubectl is not a Debian package, so CI may not have it): exactly the features k8s/ uses and
// nothing more. Any other kustomization field is refused, so this cannot silently drift from
// the real thing; where kubectl is installed, the tests also compare the two outputs.
//   resources      files (YAML documents) and directories (kustomizations, rendered first)
//   patches        `path:` to a partial object, merged into the object of the same kind and
//                  name: maps merged, lists and scalars replaced (what kustomize does for
//                  custom resources, whose schema it does not know); `$patch: delete` removes it
//   namespace      set on every object
//   images         rewrite a WasmPlugin's spec.url (configurations: kustomizeconfig.yaml)
import * as fs from "node:fs";
import * as path from "node:path";
import type { KubeObject } from "../../../cli/crd-schema";
import { readYaml, readYamlDocuments, type Yaml } from "./project";

const SUPPORTED = new Set(["apiVersion", "kind", "namespace", "resources", "patches", "configurations", "images"]);

interface ImageEntry {
  name: string;
  newName?: string;
  newTag?: string;
  digest?: string;
}

export function renderKustomization(dir: string): KubeObject[] {
  const file = path.join(dir, "kustomization.yaml");
  const k = readYaml(file);
  const unsupported = Object.keys(k).filter((key) => !SUPPORTED.has(key));
  if (unsupported.length) throw new Error(`${file}: ${unsupported.join(", ")} not supported by this renderer`);

  let objects: KubeObject[] = [];
  for (const rel of k.resources ?? []) {
    const target = path.join(dir, rel);
    objects.push(...(fs.statSync(target).isDirectory() ? renderKustomization(target) : readYamlDocuments(target)));
  }
  for (const patch of k.patches ?? []) {
    const keys = Object.keys(patch);
    if (keys.length !== 1 || keys[0] !== "path") throw new Error(`${file}: only patches with just a path are supported`);
    for (const partial of readYamlDocuments(path.join(dir, patch.path))) {
      const i = objects.findIndex((o) => o.kind === partial.kind && o.metadata?.name === partial.metadata?.name);
      if (i < 0) throw new Error(`${file}: patch ${patch.path} matches no ${partial.kind} ${partial.metadata?.name}`);
      // `$patch: delete` removes the object, as kustomize's strategic merge does.
      if (partial.$patch === "delete") objects.splice(i, 1);
      else objects[i] = mergePatch(objects[i], partial) as KubeObject;
    }
  }
  if (k.namespace) {
    objects = objects.map((o) => ({ ...o, metadata: { ...o.metadata, namespace: k.namespace } }));
  }
  for (const image of (k.images ?? []) as ImageEntry[]) {
    for (const o of objects) {
      if (o.kind !== "WasmPlugin") continue;
      const spec = o.spec as { url: string };
      const m = /^(.*?)([:@][^:/@]+)?$/.exec(spec.url);
      if (!m || m[1] !== image.name) continue;
      const name = image.newName ?? image.name;
      spec.url = image.digest ? `${name}@${image.digest}` : `${name}:${image.newTag ?? m[2]?.slice(1)}`;
    }
  }
  return objects;
}

/** RFC 7386 JSON merge patch: maps merged recursively, anything else replaced, null deletes. */
export function mergePatch(target: Yaml, patch: Yaml): Yaml {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return structuredClone(patch);
  const out: Yaml = target !== null && typeof target === "object" && !Array.isArray(target) ? structuredClone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

/** The objects in a stable order, for comparing two renderings. */
export function byKindAndName(objects: KubeObject[]): KubeObject[] {
  const key = (o: KubeObject) => `${o.kind}/${o.metadata?.name}`;
  return [...objects].sort((a, b) => key(a).localeCompare(key(b)));
}
