// A filter that does nothing, on @solo-io/proxy-runtime's stock exports and context
// bookkeeping: the "stock SDK" baseline of `make bench`. Compiled with `--lib shims`.
export * from "@solo-io/proxy-runtime/assembly/proxy";
import { RootContext, Context, registerRootContext } from "@solo-io/proxy-runtime/assembly";

class PassRoot extends RootContext {
  createContext(context_id: u32): Context {
    return new PassStream(context_id, this);
  }
}
class PassStream extends Context {}

registerRootContext((context_id: u32): RootContext => new PassRoot(context_id), "");
