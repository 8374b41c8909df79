// Installs a project without the network: its package-lock.json is cut out of this repository's
// lock (the same versions `npm ci` put into the npm cache), so `npm ci --offline` finds every
// tarball in the cache by its integrity. Used by the tests that install raincore the way a user
// does (tests/package/pack.test.ts: the packed tarball; scripts/deno-tests.mjs: the Deno URL
// recipe's npm packages) inside the loopback-only namespace, where no registry is reachable.
// Only the lookup is offline: a user who runs `npm install` gets the same packages from the registry.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Where Node would find `name` from the lock entry at `from` (nested first, then hoisted). */
function locate(packages, from, name) {
  for (let base = from;; base = base.replace(/\/?node_modules\/(@[^/]+\/)?[^/]+$/, "")) {
    const key = `${base === "" ? "" : `${base}/`}node_modules/${name}`;
    if (packages[key] !== undefined) return key;
    if (base === "") return undefined;
  }
}

/**
 * Writes `packageJson` and a lock into `dir`, then runs `npm ci --offline` there (install scripts
 * off, as in the repository). Every registry dependency resolves to the version this repository's
 * lock holds at its top level (npm ci refuses the lock if that version misses the range); `local`
 * names dependencies given as `file:` tarballs, with the tarball's path.
 * @param {{ repo: string, dir: string, packageJson: Record<string, any>,
 *   local?: Record<string, { tarball: string, manifest: Record<string, any> }> }} o
 */
export function installOffline({ repo, dir, packageJson, local = {} }) {
  const repoLock = JSON.parse(readFileSync(join(repo, "package-lock.json"), "utf8")).packages;
  const packages = {};
  const todo = [];
  const root = { ...packageJson.dependencies, ...packageJson.devDependencies };
  for (const name of Object.keys(root)) {
    const l = local[name];
    if (l === undefined) {
      todo.push(["", name]);
      continue;
    }
    const m = l.manifest;
    packages[`node_modules/${name}`] = {
      version: m.version,
      resolved: root[name],
      integrity: `sha512-${createHash("sha512").update(readFileSync(l.tarball)).digest("base64")}`,
      license: m.license,
      dependencies: m.dependencies,
      peerDependencies: m.peerDependencies,
      peerDependenciesMeta: m.peerDependenciesMeta,
      bin: m.bin,
      engines: m.engines,
    };
    for (const dep of Object.keys(m.dependencies ?? {})) todo.push(["", dep]);
  }
  while (todo.length > 0) {
    const [from, name] = todo.pop();
    const key = locate(repoLock, from, name);
    if (key === undefined) {
      if (repoLock[from]?.optionalDependencies?.[name] !== undefined) continue; // another platform's binary
      throw new Error(`${name} (needed by ${from || "the project"}) is not in the repository's lock`);
    }
    if (packages[key] !== undefined) continue;
    const { dev: _dev, devOptional: _devOptional, peer: _peer, ...entry } = repoLock[key];
    packages[key] = entry;
    for (const dep of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) {
      todo.push([key, dep]);
    }
    for (const dep of Object.keys(entry.peerDependencies ?? {})) {
      if (!entry.peerDependenciesMeta?.[dep]?.optional) todo.push([key, dep]);
    }
  }
  const rootEntry = {
    name: packageJson.name,
    dependencies: packageJson.dependencies,
    devDependencies: packageJson.devDependencies,
  };
  writeFileSync(join(dir, "package.json"), JSON.stringify(packageJson, null, 2));
  writeFileSync(
    join(dir, "package-lock.json"),
    JSON.stringify(
      {
        name: packageJson.name,
        lockfileVersion: 3,
        requires: true,
        packages: { "": rootEntry, ...packages },
      },
      null,
      2,
    ),
  );
  try {
    execFileSync("npm", ["ci", "--offline", "--no-audit", "--no-fund", "--ignore-scripts"], {
      cwd: dir,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (error) {
    throw new Error(`npm ci --offline in ${dir} failed:\n${error.stdout ?? ""}${error.stderr ?? ""}`);
  }
}
