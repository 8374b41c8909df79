# workerd configuration of the ring member (member.ts) for a local run with workerd from npm:
#   node scripts/build-browser.mjs --entry examples/cloudflare/worker.ts --outfile examples/cloudflare/worker.js
#   npx workerd serve examples/cloudflare/workerd.capnp      # http://127.0.0.1:8787/, ws://127.0.0.1:8787/
# (tests/examples/cloudflare_workerd.test.ts writes its own copy with a free port.)
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "ring", worker = .ringWorker) ],
  sockets = [ (name = "http", address = "127.0.0.1:8787", http = (), service = "ring") ],
);

const ringWorker :Workerd.Worker = (
  modules = [ (name = "worker.js", esModule = embed "worker.js") ],
  compatibilityDate = "2026-11-01",
  durableObjectNamespaces = [ (className = "RingMember", uniqueKey = "raincore-ring") ],
  durableObjectStorage = (inMemory = void),
  bindings = [
    (name = "RING", durableObjectNamespace = "RingMember"),
    (name = "MEMBER_ID", text = "edge"),
  ],
);
