// State that outlives a root context. Envoy creates a new root context in the same VM for
// every configuration change (Istio pushing a new pluginConfig), so what must survive such a
// change lives here, once per VM: policy clocks and the last policies each control-plane
// endpoint served (with the header slots they were parsed against).
import { HeaderSlots } from "./match/request";
import { Policy } from "./model/policy";
import { PolicyClocks } from "./policyset/store";

/** The last good answer of one control-plane endpoint. */
export class LiveSet {
  policies: Policy[] = [];
  slots: HeaderSlots | null = null;
  /** The body those policies came from, for the byte-identical check. */
  body: ArrayBuffer | null = null;
  etag: string = "";
  /** Problems (dropped policies or rules) in that answer: part of hfi_faults_config_problems. */
  problems: i32 = 0;
  /** Monotonic ns of the last successful poll (the lease runs from here). */
  goodNs: i64 = 0;
}

export class VmState {
  readonly clocks: PolicyClocks = new PolicyClocks();
  /** Per control-plane endpoint (in practice one), by its index in `sets`: the module's one
   * string-keyed map type instead of another instantiation (docs/size.md). */
  private live: Map<string, i32> = new Map();
  private sets: LiveSet[] = [];

  liveSet(endpoint: string): LiveSet {
    if (this.live.has(endpoint)) return unchecked(this.sets[this.live.get(endpoint)]);
    const set = new LiveSet();
    this.live.set(endpoint, this.sets.length);
    this.sets.push(set);
    return set;
  }
}

export const vmState = new VmState();
