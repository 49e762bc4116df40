// The plugin's layers, lowest first: a folder (or top-level file) of assembly/ imports only
// what stands before it in this list, and no file imports itself through a circle.
// `make test` (tests/layers/) fails on a violation; `npx depcruise assembly` shows them.
const LAYERS = [
  // pure building blocks: no host calls, no product rules
  "util", "format", "suggest", "json", "regex", "window", "schedule", "distributions", "header-faults", "guard", "budgets",
  // the host ABI and what only wraps it
  "glue", "log.ts", "metrics.ts", "problems.ts",
  // the immutable model, and deciding with it
  "model", "match", "faults", "response",
  // parsing documents into the model; the assembled set and what outlives a root context
  "config", "policyset", "vmstate.ts",
  // runtime state and what a request goes through, in order
  "observe", "safety", "plan", "admission", "controlplane", "request",
  // the root context, the ABI dispatch, the module entry
  "root.ts", "exports.ts", "index.ts",
];

const path = (name) => `^assembly/${name.replace(/\./g, "\\.")}${name.endsWith(".ts") ? "$" : "/"}`;

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "an import circle: split the shared part into a file below both",
      from: { path: "^assembly/" },
      to: { circular: true },
    },
    ...LAYERS.slice(0, -1).map((name, rank) => ({
      name: `layers: ${name}`,
      severity: "error",
      comment: `${name} may import only the layers below it (.dependency-cruiser.cjs)`,
      from: { path: path(name) },
      to: { path: LAYERS.slice(rank + 1).map(path) },
    })),
    {
      name: "layers: unlisted",
      severity: "error",
      comment: "every folder of assembly/ has a place in LAYERS",
      from: { path: "^assembly/" },
      to: { path: "^assembly/", pathNot: LAYERS.map(path) },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    doNotFollow: { path: "node_modules" },
    includeOnly: "^assembly/",
  },
};
// The order itself, for the tests (not part of dependency-cruiser's configuration).
Object.defineProperty(module.exports, "LAYERS", { value: LAYERS, enumerable: false });
