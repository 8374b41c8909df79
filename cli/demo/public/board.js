// The shared board: notes are GDM items `note/<id>` = { text, color, x, y, by } (x, y are
// fractions of the board, so every screen size shows the same layout). Editing or dragging a
// note holds the GDM lock `edit/<id>`; other tabs see who holds it and cannot touch the note.
// A new note is shown and focused at once, before the ring has written it or granted its lock:
// what is typed meanwhile stays in the note and is written as soon as both are done.
import { clock, colorOf, shortName } from "./names.js";

const COLORS = ["#fff3a8", "#ffd6e0", "#c9f2d9", "#cfe6ff", "#e8dcff", "#ffe0c2"];
const NAMES = {
  "#fff3a8": "yellow",
  "#ffd6e0": "pink",
  "#c9f2d9": "green",
  "#cfe6ff": "blue",
  "#e8dcff": "lilac",
  "#ffe0c2": "peach",
};

export class Board {
  #gdm;
  #self;
  #el = document.getElementById("board");
  #views = new Map(); // note id → element
  #editing; // note id whose text is being edited here
  #pending = new Map(); // new note id → Promise<boolean>: written and its edit lock granted (or not)
  #unsent = new Set(); // note ids whose text here is ahead of the replica (typed, not yet written)
  #dragging; // { id, dx, dy, el }
  #history = [];

  constructor(gdm, self) {
    this.#gdm = gdm;
    this.#self = self;
    gdm.on("change", (e) => {
      if (!e.key.startsWith("note/")) return;
      const id = e.key.slice(5);
      if (e.deleted) this.#remove(id);
      else this.#render(id, e.new);
      if (!e.transfer) this.#record(e, id);
    });
    gdm.on("lock", (e) => {
      if (e.name.startsWith("edit/")) this.#lockShown(e.name.slice(5), e.owner);
    });
    this.#el.addEventListener("dblclick", (ev) => {
      if (ev.target !== this.#el) return;
      const r = this.#el.getBoundingClientRect();
      void this.create((ev.clientX - r.left - 60) / r.width, (ev.clientY - r.top - 20) / r.height);
    });
    addEventListener("resize", () => {
      for (const [id] of this.#views) this.#place(id);
    });
  }

  /**
   * Creates a note (at a random free-looking spot unless given) and puts the keyboard in it at
   * once; the note is written and its edit lock taken in the background. Resolves with its ID, or
   * `undefined` when the ring refused the write.
   */
  async create(x, y) {
    const id = crypto.randomUUID().slice(0, 8);
    const spot = x === undefined || y === undefined ? this.#freeSpot() : { x, y };
    const value = {
      text: "",
      color: this.#leastUsedColor(),
      x: clamp(spot.x, 0, 0.85),
      y: clamp(spot.y, 0, 0.85),
      by: this.#self,
    };
    this.#render(id, value);
    this.#beginEdit(id);
    // Nobody else knows the ID yet, so the lock cannot be contested; the write and the lock ride
    // the same token rounds, in this order.
    const written = this.#gdm.set(`note/${id}`, value);
    const locked = this.#gdm.lock(`edit/${id}`, { timeoutMs: 10_000 }).then(() => true, () => false);
    const ready = written.then(() => locked, () => false);
    this.#pending.set(id, ready);
    const ok = await ready;
    this.#pending.delete(id);
    if (ok) return id;
    if (this.#gdm.get(`note/${id}`) === undefined) {
      this.#editing = undefined;
      this.#remove(id);
      toast("the ring did not take the new note; try again");
      return undefined;
    }
    this.#unsent.delete(id);
    this.#render(id, this.#gdm.get(`note/${id}`));
    return id;
  }

  #leastUsedColor() {
    const used = new Map(COLORS.map((c) => [c, 0]));
    for (const [, v] of this.#gdm.list("note/")) used.set(v.color, (used.get(v.color) ?? 0) + 1);
    const fewest = Math.min(...used.values());
    const choices = COLORS.filter((c) => used.get(c) === fewest);
    return choices[Math.floor(Math.random() * choices.length)];
  }

  /** Of a few random spots, the one farthest from every note. */
  #freeSpot() {
    const taken = this.#gdm.list("note/").map(([, v]) => v);
    let best = { x: 0.1, y: 0.1, d: -1 };
    for (let i = 0; i < 24; i++) {
      const x = 0.04 + Math.random() * 0.7;
      const y = 0.04 + Math.random() * 0.7;
      const d = Math.min(9, ...taken.map((v) => Math.hypot(v.x - x, (v.y - y) * 0.8)));
      if (d > best.d) best = { x, y, d };
    }
    return best;
  }

  /** Every note as the test sees it: id, text, colour, rounded position, sorted by id. */
  notes() {
    return this.#gdm.list("note/").map(([k, v]) => ({
      id: k.slice(5),
      text: v.text,
      color: v.color,
      x: Math.round(v.x * 1000) / 1000,
      y: Math.round(v.y * 1000) / 1000,
    }));
  }

  #lockOwner(id) {
    return this.#gdm.lockOwner(`edit/${id}`);
  }

  #blockedBy(id) {
    const owner = this.#lockOwner(id);
    return owner !== null && owner !== this.#self ? owner : undefined;
  }

  async #acquire(id, el) {
    const other = this.#blockedBy(id);
    if (other) {
      this.#refuse(el, other);
      return false;
    }
    try {
      await this.#gdm.lock(`edit/${id}`, { timeoutMs: 2000 });
      return true;
    } catch {
      this.#refuse(el, this.#lockOwner(id) ?? "another member");
      return false;
    }
  }

  async #release(id) {
    if (this.#gdm.holds(`edit/${id}`)) await this.#gdm.unlock(`edit/${id}`).catch(() => {});
  }

  #refuse(el, owner) {
    el.classList.remove("shake");
    void el.offsetWidth;
    el.classList.add("shake");
    toast(`${shortName(owner)} is editing this note`);
  }

  #render(id, v) {
    let el = this.#views.get(id);
    if (!el) {
      el = this.#build(id);
      this.#views.set(id, el);
      this.#el.appendChild(el);
      this.#el.classList.add("has-notes");
    }
    el.dataset.value = JSON.stringify(v);
    el.style.background = v.color;
    el.querySelector(".by").textContent = shortName(v.by);
    el.querySelector(".by").title = `created by ${v.by}`;
    const text = el.querySelector(".text");
    if (this.#editing !== id && !this.#unsent.has(id) && text.textContent !== v.text) {
      text.textContent = v.text;
    }
    if (this.#dragging?.id !== id) this.#place(id);
    this.#lockShown(id, this.#lockOwner(id));
    document.getElementById("notes-count").textContent = String(this.#views.size);
  }

  #place(id) {
    const el = this.#views.get(id);
    if (!el) return;
    const v = JSON.parse(el.dataset.value);
    const r = this.#el.getBoundingClientRect();
    el.style.left = `${Math.round(clamp(v.x, 0, 1) * Math.max(0, r.width - el.offsetWidth * 0.4))}px`;
    el.style.top = `${Math.round(clamp(v.y, 0, 1) * Math.max(0, r.height - el.offsetHeight * 0.4))}px`;
  }

  #remove(id) {
    this.#views.get(id)?.remove();
    this.#views.delete(id);
    this.#el.classList.toggle("has-notes", this.#views.size > 0);
    document.getElementById("notes-count").textContent = String(this.#views.size);
  }

  #lockShown(id, owner) {
    const el = this.#views.get(id);
    if (!el) return;
    const mine = owner === this.#self;
    el.classList.toggle("locked", owner !== null && !mine);
    el.classList.toggle("mine", mine);
    el.style.setProperty("--lock-color", owner ? colorOf(owner) : "");
    el.querySelector(".lock").textContent = owner ? `✎ ${shortName(owner)}` : "";
    el.dataset.lock = owner ?? "";
  }

  #build(id) {
    const el = document.createElement("article");
    el.className = "note";
    el.dataset.id = id;
    el.innerHTML =
      `<span class="lock"></span><header><span class="by"></span><span class="swatches"></span>` +
      `<button class="del" title="delete">×</button></header><div class="text" spellcheck="false"></div>`;
    const sw = el.querySelector(".swatches");
    for (const c of COLORS) {
      const b = document.createElement("button");
      b.style.background = c;
      b.title = NAMES[c];
      b.addEventListener("click", async () => {
        if (this.#blockedBy(id)) return this.#refuse(el, this.#lockOwner(id));
        await this.#gdm.patch(`note/${id}`, { path: ["color"], value: c });
      });
      sw.appendChild(b);
    }
    el.querySelector(".del").addEventListener("click", async () => {
      if (this.#blockedBy(id)) return this.#refuse(el, this.#lockOwner(id));
      await this.#gdm.delete(`note/${id}`);
    });
    this.#wireText(id, el);
    this.#wireDrag(id, el);
    return el;
  }

  /** Makes note `id` editable here and moves the keyboard into it, caret at the end. */
  #beginEdit(id) {
    const text = this.#views.get(id)?.querySelector(".text");
    if (!text) return;
    this.#editing = id;
    text.contentEditable = "plaintext-only";
    text.focus();
    const range = document.createRange();
    range.selectNodeContents(text);
    range.collapse(false);
    getSelection()?.removeAllRanges();
    getSelection()?.addRange(range);
  }

  #wireText(id, el) {
    const text = el.querySelector(".text");
    let timer;
    /** Writes the text as it is now, once the note exists and its lock is ours. */
    const flush = async () => {
      clearTimeout(timer);
      timer = undefined;
      const value = text.textContent ?? "";
      await this.#pending.get(id);
      if (!this.#gdm.holds(`edit/${id}`)) return;
      await this.#gdm.patch(`note/${id}`, { path: ["text"], value }).catch(() => {});
      if ((text.textContent ?? "") === value) this.#unsent.delete(id);
    };
    text.addEventListener("click", async () => {
      if (this.#editing === id) return;
      if (!(await this.#acquire(id, el))) return;
      this.#beginEdit(id);
    });
    text.addEventListener("input", () => {
      this.#unsent.add(id);
      clearTimeout(timer);
      timer = setTimeout(flush, 200);
    });
    text.addEventListener("keydown", (e) => {
      if (e.key === "Escape" || (e.key === "Enter" && (e.metaKey || e.ctrlKey))) text.blur();
    });
    text.addEventListener("blur", async () => {
      if (this.#editing !== id) return;
      this.#editing = undefined;
      text.contentEditable = "false";
      await flush();
      // The lock of a new note may still be on its way: release it once granted.
      if (this.#editing !== id) await this.#release(id);
    });
  }

  #wireDrag(id, el) {
    const handle = el.querySelector("header");
    let lastSent = 0;
    let locked;
    const position = () => {
      const r = this.#el.getBoundingClientRect();
      return {
        x: clamp(el.offsetLeft / Math.max(1, r.width - el.offsetWidth * 0.4), 0, 1),
        y: clamp(el.offsetTop / Math.max(1, r.height - el.offsetHeight * 0.4), 0, 1),
      };
    };
    const send = async () => {
      if (!(await locked)) return;
      lastSent = performance.now();
      const { x, y } = position();
      await this.#gdm.transaction((tx) => {
        const v = tx.get(`note/${id}`);
        if (v) tx.set(`note/${id}`, { ...v, x, y });
      }).catch(() => {});
    };
    handle.addEventListener("pointerdown", (e) => {
      if (e.target.closest("button")) return;
      if (this.#blockedBy(id)) return this.#refuse(el, this.#lockOwner(id));
      e.preventDefault();
      handle.setPointerCapture(e.pointerId);
      const r = el.getBoundingClientRect();
      this.#dragging = { id, dx: e.clientX - r.left, dy: e.clientY - r.top };
      el.classList.add("dragging");
      locked = this.#gdm.holds(`edit/${id}`) ? Promise.resolve(true) : this.#acquire(id, el);
      void locked.then((ok) => {
        if (!ok && this.#dragging?.id === id) {
          this.#dragging = undefined;
          el.classList.remove("dragging");
          this.#place(id);
        }
      });
    });
    handle.addEventListener("pointermove", (e) => {
      if (this.#dragging?.id !== id) return;
      const b = this.#el.getBoundingClientRect();
      el.style.left = `${clamp(e.clientX - b.left - this.#dragging.dx, 0, b.width - el.offsetWidth * 0.4)}px`;
      el.style.top = `${clamp(e.clientY - b.top - this.#dragging.dy, 0, b.height - el.offsetHeight * 0.4)}px`;
      if (performance.now() - lastSent > 120) void send();
    });
    const end = async () => {
      if (this.#dragging?.id !== id) return;
      this.#dragging = undefined;
      el.classList.remove("dragging");
      await send();
      if (this.#editing !== id) await this.#release(id);
    };
    handle.addEventListener("pointerup", end);
    handle.addEventListener("pointercancel", end);
  }

  #record(e, id) {
    const who = e.writer;
    let what;
    if (e.deleted) what = "deleted a note";
    else if (e.old === undefined) what = "created a note";
    else if (e.old.text !== e.new.text) what = `wrote “${clip(e.new.text)}”`;
    else if (e.old.color !== e.new.color) what = `made a note ${NAMES[e.new.color] ?? "another colour"}`;
    else if (e.old.x !== e.new.x || e.old.y !== e.new.y) what = "moved a note";
    else return;
    const kind = what.split(" ")[0];
    const last = this.#history[0];
    const list = document.getElementById("history");
    if (last && last.who === who && last.id === id && last.kind === kind && Date.now() - last.at < 4000) {
      last.at = Date.now();
      last.li.querySelector(".what").textContent = what;
      last.li.querySelector("time").textContent = clock();
      return;
    }
    const li = document.createElement("li");
    li.innerHTML = `<time></time><span class="dot"></span><span><em></em> <span class="what"></span></span>`;
    li.querySelector("time").textContent = clock();
    li.querySelector(".dot").style.background = colorOf(who);
    li.querySelector("em").textContent = who === this.#self ? "you" : shortName(who);
    li.querySelector(".what").textContent = what;
    list.prepend(li);
    this.#history.unshift({ who, id, kind, at: Date.now(), li });
    if (this.#history.length > 60) this.#history.pop().li.remove();
  }
}

function clamp(v, lo, hi) {
  return Math.min(hi, Math.max(lo, v));
}

function clip(s) {
  return s.length > 28 ? `${s.slice(0, 27)}…` : s;
}

let toastTimer;
/** A short message at the bottom of the screen. */
export function toast(text) {
  const t = document.getElementById("toast");
  t.textContent = text;
  t.classList.add("show");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => t.classList.remove("show"), 2200);
}
