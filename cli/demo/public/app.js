// The page: this tab becomes a raincore ring member (WebRTC to other tabs, the hub's relay as
// fallback and to the server members), replicates the board with a GroupDataManager, and shows
// the ring live. It is given only the hub's URL: the members' IDs and addresses come with the join.
// When the demo runs with a cluster key, the tab's ID and its credential come from the server
// (/credential.json): every packet is then authenticated, the tab proves its relay ID to the hub, and
// it names the hub's member (a credential holds keys for known IDs only). It follows the page's
// lifecycle (hidden, frozen, shown again). window.demo exposes read-only state for tests.
import {
  createNode,
  createWebRtcTransport,
  createWebSocketTransport,
  GroupDataManager,
  parseKeyFile,
  watchPageLifecycle,
} from "/raincore.browser.js";
import { Board } from "./board.js";
import { colorOf, shortName } from "./names.js";
import { RingPanel } from "./ring.js";

const cfg = await (await fetch("/config.json")).json();
/** This tab's ID and, in a keyed demo, its credential. */
async function identity() {
  if (!cfg.keyed) {
    return { id: `tab-${crypto.getRandomValues(new Uint16Array(1))[0].toString(16).padStart(4, "0")}` };
  }
  const r = await fetch("/credential.json", { cache: "no-store" });
  if (!r.ok) throw new Error(`no tab credential: ${(await r.json()).error}`);
  const c = await r.json();
  return { id: c.id, key: parseKeyFile(c.credential) };
}
const { id, key } = await identity();
const servers = new Set(cfg.members);

document.getElementById("me-id").textContent = shortName(id);
document.querySelector("#me .dot").style.background = colorOf(id);
document.title = `${shortName(id)} · raincore board`;

const ws = await createWebSocketTransport({ id, servers: [cfg.hub], key });
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
// WebRTC first (direct to other tabs), the hub's relay as fallback; the hub's URL is all it knows.
let gdm;
const node = createNode({
  id,
  transports: rtc ? [rtc, ws] : [ws],
  key,
  ...(key ? { peers: { [cfg.hubMember]: [cfg.hub] } } : { join: [cfg.hub] }),
  timing: cfg.timing,
  beforeStart: (n) => (gdm = new GroupDataManager({ gcm: n.gcm, layer: n.transport })),
});
const gcm = node.gcm;
watchPageLifecycle(gcm); // hidden: never hold the token; frozen or hidden for long: leave, rejoin when back
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
ring.view(gcm.view.index, gcm.view.members);

document.getElementById("add").addEventListener("click", () => board.create());

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
