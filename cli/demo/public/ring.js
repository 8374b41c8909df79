// The side panel: the ring drawn as a circle of members with the token moving around it, the
// committed view, multicast and token rates, and the fail-over timeline.
import { clock, colorOf, shortName } from "./names.js";

const NS = "http://www.w3.org/2000/svg";
const C = 120; // centre of the 240×240 viewBox
const R = 84; // radius of the ring

function el(name, attrs = {}, parent) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  parent?.appendChild(e);
  return e;
}

export class RingPanel {
  #self;
  #servers;
  #members = [];
  #index = -1;
  #svg = document.getElementById("ring");
  #token;
  #centre;
  #lastToken = 0; // when the token last arrived here
  #prevToken = 0; // the arrival before that
  #roundMs = 0; // smoothed time between two arrivals here
  #deliveries = 0;
  #rounds = 0;
  #series = [];

  constructor(self, servers) {
    this.#self = self;
    this.#servers = servers;
    setInterval(() => this.#tick(), 1000);
    let last = 0;
    const frame = (now) => {
      if (now - last > 40) { // at most 25 frames/s
        last = now;
        this.#drawToken();
      }
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  }

  /** A view was committed (or this is the first one). */
  view(index, members) {
    if (index === this.#index) return;
    const before = new Set(this.#members);
    const after = new Set(members);
    const gone = [...before].filter((m) => !after.has(m));
    const came = [...after].filter((m) => !before.has(m));
    // The ring paused from the token's last arrival before the one that brought this view.
    const gap = this.#prevToken > 0 ? performance.now() - this.#prevToken : 0;
    if (this.#index >= 0 || members.length > 1) {
      for (const m of gone) {
        this.#event("fail", "left", m, gone.length && m === gone[0] && gap > 0 ? gap : undefined);
      }
      for (const m of came) if (m !== this.#self || this.#index < 0) this.#event("join", "joined", m);
      this.#event("view", `view #${index}`, `${members.length} members`);
    }
    this.#index = index;
    this.#members = members.slice();
    document.getElementById("view-index").textContent = `view #${index}`;
    this.#drawMembers();
  }

  /** The token arrived at this member. */
  token() {
    const now = performance.now();
    if (this.#lastToken > 0) {
      const d = now - this.#lastToken;
      this.#roundMs = this.#roundMs === 0 ? d : this.#roundMs * 0.8 + d * 0.2;
    }
    this.#prevToken = this.#lastToken;
    this.#lastToken = now;
    this.#rounds++;
  }

  /** A multicast was delivered here. */
  delivered() {
    this.#deliveries++;
  }

  /** A free-form line in the timeline. */
  note(text) {
    this.#event("view", "sync", text);
  }

  #event(kind, label, what, tookMs) {
    const li = document.createElement("li");
    li.className = kind;
    li.innerHTML = `<time></time><span class="kind"></span><em></em>`;
    li.querySelector("time").textContent = clock();
    li.querySelector(".kind").textContent = label;
    li.querySelector("em").textContent = what;
    if (kind !== "view") li.querySelector("em").style.color = colorOf(what);
    if (tookMs !== undefined) {
      const took = document.createElement("span");
      took.className = "took";
      took.title = "the token's gap here: its arrival before the failure → the new view committed";
      took.textContent = `ring paused ${(tookMs / 1000).toFixed(2)} s`;
      li.appendChild(took);
    }
    const list = document.getElementById("timeline");
    list.prepend(li);
    while (list.children.length > 40) list.lastChild.remove();
  }

  #angle(i) {
    return -Math.PI / 2 + (2 * Math.PI * i) / Math.max(1, this.#members.length);
  }

  #drawMembers() {
    const svg = this.#svg;
    svg.replaceChildren();
    el("circle", { class: "orbit", cx: C, cy: C, r: R }, svg);
    el("circle", { class: "orbit-line", cx: C, cy: C, r: R }, svg);
    const n = this.#members.length;
    this.#centre = el("text", { class: "center", x: C, y: C + 4 }, svg);
    this.#centre.textContent = String(n);
    el("text", { class: "center-sub", x: C, y: C + 20 }, svg).textContent = n === 1 ? "member" : "members";
    this.#members.forEach((m, i) => {
      const a = this.#angle(i);
      const x = C + R * Math.cos(a);
      const y = C + R * Math.sin(a);
      const g = el("g", { class: `member${m === this.#self ? " self" : ""}` }, svg);
      const server = this.#servers.has(m);
      if (server) {
        el("rect", {
          x: x - 11,
          y: y - 11,
          width: 22,
          height: 22,
          rx: 5,
          fill: colorOf(m),
          stroke: "#fff",
          "stroke-width": 3,
        }, g);
      } else el("circle", { cx: x, cy: y, r: 11, fill: colorOf(m) }, g);
      const out = 1.32;
      const tx = C + R * out * Math.cos(a);
      const ty = C + R * out * Math.sin(a) + 3;
      el("text", { x: tx, y: ty }, g).textContent = m === this.#self ? "you" : shortName(m);
      el("title", {}, g).textContent = `${m}${server ? " (server member, UDP)" : " (browser tab)"}`;
    });
    this.#token = el("circle", { class: "token", r: 6, cx: C, cy: C - R }, svg);
    const ul = document.getElementById("members");
    ul.replaceChildren(...this.#members.map((m) => {
      const li = document.createElement("li");
      if (m === this.#self) li.className = "self";
      li.innerHTML = `<span class="dot"></span><span></span><small></small>`;
      li.querySelector(".dot").style.background = colorOf(m);
      li.querySelector("span:nth-child(2)").textContent = shortName(m);
      li.querySelector("small").textContent = this.#servers.has(m) ? "udp" : m === this.#self ? "you" : "tab";
      return li;
    }));
  }

  /** Places the token between members, estimated from its arrivals here and the round time. */
  #drawToken() {
    const n = this.#members.length;
    const me = this.#members.indexOf(this.#self);
    if (!this.#token || n < 2 || me < 0 || this.#roundMs === 0) {
      this.#token?.setAttribute("opacity", n < 2 ? "0" : "1");
      return;
    }
    const since = performance.now() - this.#lastToken;
    const stalled = since > this.#roundMs * 3;
    const phase = stalled ? 0 : Math.min(since / this.#roundMs, 0.999);
    const a = this.#angle(me + phase * n);
    this.#token.setAttribute("opacity", stalled ? "0.35" : "1");
    this.#token.setAttribute("cx", (C + R * Math.cos(a)).toFixed(1));
    this.#token.setAttribute("cy", (C + R * Math.sin(a)).toFixed(1));
  }

  #tick() {
    document.getElementById("rate").textContent = String(this.#deliveries);
    const rounds = this.#rounds;
    document.getElementById("rounds").textContent = String(rounds);
    this.#series.push(this.#deliveries);
    if (this.#series.length > 60) this.#series.shift();
    this.#deliveries = 0;
    this.#rounds = 0;
    const max = Math.max(4, ...this.#series);
    const w = 300 / 59;
    const pts = this.#series.map((v, i) => [(60 - this.#series.length + i) * w, 34 - (v / max) * 30]);
    const line = pts.map(([x, y], i) => `${i ? "L" : "M"}${x.toFixed(1)},${y.toFixed(1)}`).join("");
    const spark = document.getElementById("spark");
    spark.innerHTML = pts.length > 1
      ? `<path class="area" d="${line}L${pts.at(-1)[0]},36L${
        pts[0][0]
      },36Z"/><path class="line" d="${line}"/>`
      : "";
  }
}
