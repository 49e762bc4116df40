// The plugin's module entry: exports the Proxy-Wasm ABI (marker, callbacks, malloc).
import "./glue/abort";
export * from "./exports";
export { malloc, free } from "./glue/memory";
