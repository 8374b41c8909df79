/**
 * The Worker in front of the ring's Durable Object: every request goes to the one object of the
 * ring (`RING.idFromName("ring")`), which is the member (`member.ts`).
 * @module
 */
export { RingMember } from "./member.ts";

/** The binding of the ring's Durable Object namespace. */
interface Env {
  RING: {
    idFromName(name: string): unknown;
    get(id: unknown): { fetch(request: Request): Promise<Response> };
  };
}

/** The Worker. */
export default {
  fetch(request: Request, env: Env): Promise<Response> {
    return env.RING.get(env.RING.idFromName("ring")).fetch(request);
  },
};
