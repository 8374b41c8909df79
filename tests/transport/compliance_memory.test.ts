/** Runs the transport compliance suite against the memory backend on a real-time, loss-free SimNetwork. */
import { SimNetwork } from "../../transport/backends/memory.ts";
import { describeTransportCompliance } from "./compliance.ts";

let network = new SimNetwork();
let next = 0;

describeTransportCompliance({
  name: "memory",
  create: () => Promise.resolve(network.createTransport(`mem://node-${++next}`)),
  deadAddress: () => Promise.resolve("mem://nobody-listens-here"),
  cleanup: () => {
    network = new SimNetwork();
    return Promise.resolve();
  },
});
