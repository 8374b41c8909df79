// The page: this tab becomes a raincore ring member (WebRTC to other tabs, the hub's relay as
// fallback and to the server members), replicates the board with a GroupDataManager, and shows
// the ring live. window.demo exposes read-only state for tests.
import {
  createWebRtcTransport,
  createWebSocketTransport,
  GroupCommunicationManager,
  GroupDataManager,
  resolveTiming,
  TransportManager,
} from "/raincore.browser.js";
import { Board } from "./board.js";
import { colorOf, shortName } from "./names.js";
import { RingPanel } from "./ring.js";

const cfg = await (await fetch("/config.json")).json();
const id = `tab-${crypto.getRandomValues(new Uint16Array(1))[0].toString(16).padStart(4, "0")}`;
const servers = new Set(cfg.members);
const enc = (s) => encodeURIComponent(s);
/** Addresses of a node: tabs direct over WebRTC first, everyone through the hub's relay. */
const addressesOf = (peer) =>
  servers.has(peer) || !rtc
    ? [`relay+${cfg.hub}#${enc(peer)}`]
    : [`webrtc+${cfg.hub}#${enc(peer)}`, `relay+${cfg.hub}#${enc(peer)}`];

document.getElementById("me-id").textContent = shortName(id);
document.querySelector("#me .dot").style.background = colorOf(id);
document.title = `${shortName(id)} · raincore board`;

const ws = await createWebSocketTransport({ id, servers: [cfg.hub] });
let rtc;
try {
  rtc = await createWebRtcTransport({
    signaling: ws,
    iceServers: cfg.iceServers ?? [], // none unless the demo was started with --stun
    loopbackOnly: location.hostname === "127.0.0.1" || location.hostname === "localhost",
  });
} catch (e) {
  console.warn("WebRTC unavailable, relay only:", e);
}
const timing = resolveTiming(cfg.timing);
const tm = new TransportManager({
  nodeId: id,
  transports: rtc ? [rtc, ws] : [ws],
  ...timing.transport,
});
/** The GCM hands the token to members nobody introduced: set their addresses on the first send. */
const layer = {
  nodeId: id,
  send(peer, channel, msg) {
    const want = addressesOf(peer);
    const have = tm.addressesOf(peer);
    if (have.length !== want.length || have.some((a, i) => a !== want[i])) tm.setAddresses(peer, want);
    return tm.send(peer, channel, msg);
  },
  onMessage: (channel, fn) => tm.onMessage(channel, fn),
};
const gcm = new GroupCommunicationManager({
  layer,
  incarnation: tm.incarnation,
  peers: cfg.members,
  timing: timing.gcm,
});
const gdm = new GroupDataManager({ gcm, layer });
const ring = new RingPanel(id, servers);
const board = new Board(gdm, id);
const status = document.getElementById("status");
let joined = false;

gcm.on("view", (v) => {
  ring.view(v.index, v.members);
  const inRing = v.members.length > 1;
  if (inRing && !joined) {
    joined = true;
    document.getElementById("add").disabled = false;
  }
  status.dataset.state = inRing ? "member" : "joining";
  status.textContent = inRing
    ? `member of view #${v.index} · ${v.members.length} members${rtc ? " · WebRTC + relay" : " · relay"}`
    : "joining the ring…";
});
gcm.on("token", () => ring.token());
gcm.on("deliver", () => ring.delivered());
gdm.on("synced", (e) => ring.note(`board received from the ring (${e.items} items)`));
gcm.start();
ring.view(gcm.view.index, gcm.view.members);

document.getElementById("add").addEventListener("click", () => board.create());
addEventListener("pagehide", () => void gcm.leave().catch(() => {}));

globalThis.demo = {
  id,
  get ready() {
    return joined && gdm.synced;
  },
  view: () => ({ index: gcm.view.index, members: [...gcm.view.members].sort() }),
  notes: () => board.notes(),
  holds: (noteId) => gdm.holds(`edit/${noteId}`),
  rtc: () => (rtc ? { ...rtc.stats, implementation: rtc.implementation } : undefined),
};
