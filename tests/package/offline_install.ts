/**
 * Installs a packed raincore tarball into a fresh project without the network: the project's
 * package-lock.json is cut out of the repository's own lock (the same versions `npm ci` put into
 * the npm cache), so `npm ci --offline` finds every tarball in the cache by its integrity. A
 * consumer that installs from the registry gets the same packages; only the lookup is offline.
 * @module
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";

/** One `packages` entry of a lockfile (v3). */
type LockEntry = Record<string, unknown> & {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
};

/** Options of {@link installOffline}. */
export interface OfflineInstallOptions {
  /** The repository root (its package-lock.json supplies every version). */
  repo: string;
  /** The consumer project's folder (created by the caller, holds nothing yet). */
  dir: string;
  /** Path of the packed `raincore-*.tgz` (copied into `dir` by the caller). */
  tarball: string;
  /** More top-level packages, by name, at the repository's versions (e.g. `typescript`). */
  extra: readonly string[];
}

/** Where Node would find `name` from the lock entry at `from` (nested first, then hoisted). */
function locate(packages: Record<string, LockEntry>, from: string, name: string): string | undefined {
  for (let base = from;; base = base.replace(/\/?node_modules\/(@[^/]+\/)?[^/]+$/, "")) {
    const key = `${base === "" ? "" : `${base}/`}node_modules/${name}`;
    if (packages[key] !== undefined) return key;
    if (base === "") return undefined;
  }
}

/**
 * Writes `package.json` and `package-lock.json` into `dir` and runs `npm ci --offline` there
 * (install scripts off, as in the repository). Throws with npm's output when it fails.
 */
export function installOffline(o: OfflineInstallOptions): void {
  const repoLock = JSON.parse(readFileSync(join(o.repo, "package-lock.json"), "utf8")) as {
    packages: Record<string, LockEntry>;
  };
  const repoPkg = JSON.parse(readFileSync(join(o.repo, "package.json"), "utf8")) as LockEntry & {
    name: string;
    overrides?: Record<string, string>;
  };
  const tgz = basename(o.tarball);
  const integrity = `sha512-${createHash("sha512").update(readFileSync(o.tarball)).digest("base64")}`;
  const packages: Record<string, LockEntry> = {};
  const rootDeps: Record<string, string> = { [repoPkg.name]: `file:${tgz}` };
  packages[`node_modules/${repoPkg.name}`] = {
    version: repoPkg.version,
    resolved: `file:${tgz}`,
    integrity,
    license: repoPkg.license,
    dependencies: repoPkg.dependencies,
    peerDependencies: repoPkg.peerDependencies,
    peerDependenciesMeta: repoPkg.peerDependenciesMeta,
    bin: repoPkg.bin,
    engines: repoPkg.engines,
  };
  const todo: Array<[from: string, name: string]> = Object.keys(repoPkg.dependencies ?? {}).map((n) => [
    `node_modules/${repoPkg.name}`,
    n,
  ]);
  for (const name of o.extra) {
    const entry = repoLock.packages[`node_modules/${name}`];
    if (entry?.version === undefined) throw new Error(`${name} is not in the repository's lock`);
    rootDeps[name] = entry.version;
    todo.push(["", name]);
  }
  while (todo.length > 0) {
    const [from, name] = todo.pop()!;
    // Dependencies of raincore itself are looked up at the top level (it is not in the repo lock).
    const key = locate(repoLock.packages, from.startsWith(`node_modules/${repoPkg.name}`) ? "" : from, name);
    if (key === undefined) {
      if (repoLock.packages[from]?.optionalDependencies?.[name] !== undefined) continue; // other platforms
      throw new Error(`${name} (needed by ${from || "the project"}) is not in the repository's lock`);
    }
    if (packages[key] !== undefined) continue;
    const { dev: _dev, devOptional: _devOptional, peer: _peer, ...entry } = repoLock.packages[key];
    packages[key] = entry;
    const required = entry.peerDependencies ?? {};
    for (const dep of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) {
      todo.push([key, dep]);
    }
    for (const dep of Object.keys(required)) {
      if (!entry.peerDependenciesMeta?.[dep]?.optional) todo.push([key, dep]);
    }
  }
  const pkg = {
    name: "raincore-consumer",
    private: true,
    type: "module",
    dependencies: rootDeps,
    overrides: repoPkg.overrides,
  };
  writeFileSync(join(o.dir, "package.json"), JSON.stringify(pkg, null, 2));
  writeFileSync(
    join(o.dir, "package-lock.json"),
    JSON.stringify(
      {
        name: pkg.name,
        lockfileVersion: 3,
        requires: true,
        packages: { "": { name: pkg.name, dependencies: rootDeps }, ...packages },
      },
      null,
      2,
    ),
  );
  try {
    execFileSync("npm", ["ci", "--offline", "--no-audit", "--no-fund", "--ignore-scripts"], {
      cwd: o.dir,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    throw new Error(`npm ci --offline in ${o.dir} failed:\n${e.stdout ?? ""}${e.stderr ?? ""}`);
  }
}
