/**
 * Counting the work a module does, whatever the machine's speed or load.
 *
 * binaryen's `wasm-opt --log-execution` makes a module call `env.log_execution(i32)` on entering
 * every function and on every loop iteration. A VM of such a module counts those calls
 * (WasmVm.work): a number that grows with what the module's code does, the same on every run, so
 * a test can bound a request's cost without timing it. (Bulk memory copies count as one step of
 * their caller; they are the machine's fastest work.)
 *
 * Envoy registers no such import, so a module may have it only when it is compiled with
 * `{ countWork: true }`: a measuring instrument for tests, outside what the host models.
 */
import type { Signature } from "./abi";

export const WORK_IMPORT_MODULE = "env";
export const WORK_IMPORT_FIELD = "log_execution";
export const WORK_SIGNATURE: Signature = { params: ["i32"], results: [] };

export interface CompileOptions {
  /** Accept and count binaryen's `env.log_execution` (see above). Default false. */
  countWork?: boolean;
}
