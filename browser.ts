/**
 * Entry of the browser bundle (`scripts/build-browser.mjs` → `dist/raincore.browser.js`): the
 * public API of `mod.ts` plus the GCM's `createNode()`. In a browser the WebSocket backend dials
 * out with the native `WebSocket` (attach to a server with `servers`) and the WebRTC backend uses
 * the native `RTCPeerConnection`; the UDP backend and WebSocket servers are not available there.
 * @module
 */
export * from "./mod.ts";
export {
  createNode,
  type CreateNodeOptions,
  type DeliverEvent,
  type GcmNode,
  GroupCommunicationManager,
  LeftGroupError,
  type MulticastOptions,
  type ViewEvent,
} from "./gcm/mod.ts";
