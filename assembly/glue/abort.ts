import { proxy_log } from "@solo-io/proxy-runtime/assembly/imports";

// Replaces AssemblyScript's default `abort`, which would import `env.abort` — an import Envoy
// does not register, so the module would not load at all. Reachable code never aborts (errors
// are values); should a bug reach this anyway, say where in Envoy's log before the VM stops.
let aborting = false;

// @ts-ignore: decorator
@global
export function hfi_abort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  // Building the message allocates; if that itself fails, stop without recursing.
  if (aborting) unreachable();
  aborting = true;
  let text = "hfi: internal error";
  if (message !== null) text += ": " + message;
  if (fileName !== null) text += " at " + fileName + ":" + line.toString() + ":" + column.toString();
  const bytes = String.UTF8.encode(text);
  proxy_log(5, changetype<usize>(bytes), <usize>bytes.byteLength);
  unreachable();
}
