/**
 * The Group Communication Manager (thesis 3.3–3.9): a token ring that gives a group of peers one
 * membership view (three-phase, two-phase or every-token commit), reliable totally ordered
 * multicast on the token (agreed and safe delivery), open-group sends and mutual exclusion.
 *
 * ```ts
 * const node = createNode({ id: "a", transports: [udp], peers: { b: ["udp://10.0.0.2:7000"] } });
 * node.gcm.on("view", (v) => console.log("view", v.index, v.members));
 * node.gcm.on("deliver", (m) => console.log(m.from, m.seq, m.data));
 * node.gcm.multicast(new TextEncoder().encode("hello"));
 * ```
 * @module
 */
export {
  type AsyncDisposeSymbol,
  createNode,
  type CreateNodeOptions,
  type GcmNode,
  type GcmNodeMembers,
  type NodeMetrics,
} from "./create_node.ts";
export type { GcmMetrics } from "./metrics.ts";
export type { LogEntry, Logger, LogLevel } from "../base/log.ts";
export { GroupCommunicationManager } from "./manager.ts";
export { type PageLifecycleOptions, watchPageLifecycle } from "./page_lifecycle.ts";
export {
  type DeliverEvent,
  type GcmEvents,
  type GcmState,
  type LeaveEvent,
  type MergeEvent,
  type TransitionalEvent,
  type ViewEvent,
} from "./events.ts";
export type { Listener, ListenerErrorEvent } from "../base/emitter.ts";
export type { GcmOptions, MulticastOptions, WaitOptions } from "./options.ts";
export type { HealthCheckOptions } from "./health.ts";
export type { MessageLayer } from "./layer.ts";
export { APP_STREAM } from "./streams.ts";
export {
  LeftGroupError,
  MulticastBackpressureError,
  MulticastTooLargeError,
  NotMemberError,
  TimeoutError,
  TimingError,
} from "./errors.ts";
export {
  type FailureTimes,
  GCM_TIMING_DEFAULTS,
  type GcmTiming,
  type GcmTimingOptions,
  resolveGcmTiming,
  resolveTiming,
  type Timing,
  type TimingOptions,
  type TransportTimingOptions,
} from "./timing.ts";
export { groupId, type RingAction, RingCore, type RingOptions } from "./ring.ts";
export { RoundTimes, type RoundTimesOptions } from "./round_times.ts";
export {
  AddressBook,
  type AddressNote,
  boundAddresses,
  MAX_ADDRESS_BYTES,
  MAX_ADDRESSES,
  type MemberAddresses,
} from "./addresses.ts";
export { type Delivery, Multicast, type MulticastBudget, type Transitional } from "./multicast.ts";
export {
  type Entry,
  type Token,
  TOKEN_FLAG_TBM,
  TOKEN_FLAG_TRANSITION,
  type TransitionInfo,
} from "./token.ts";
export {
  F911_JOIN,
  F911_NOT_ELIGIBLE,
  type Message911,
  STATUS_NO,
  STATUS_REJECT,
  STATUS_YES,
} from "./message911.ts";
export {
  decode,
  encode911,
  encodeForward,
  encodeToken,
  encodeWake,
  type ForwardMessage,
  type GcmMessage,
  KIND_911,
  KIND_FORWARD,
  KIND_TOKEN,
  KIND_WAKE,
  SIGNATURE,
  VERSION,
} from "./codec.ts";
export { type DeliveryLevel, type Member, TokenState, type View, type ViewMode, ViewState } from "./types.ts";
