// The library-wide import rule: every import inside the library resolves the same way in Deno, Node
// (type stripping, tsx, the bundled dist/), Bun and bundlers. Allowed specifiers:
//   - relative paths with the `.ts` extension that exist (`./codec.ts`, `../transport/mod.ts`);
//   - `node:` built-ins (`node:dgram`);
//   - bare package specifiers `name[/sub]` (`cbor-x/encode`, `ws`) of a package in package.json
//     "dependencies" or "peerDependencies" (a consumer installs those), each mapped by deno.json
//     "imports" to `npm:name@range[/sub]` with the same range as package.json (Deno and JSR read
//     that map; a Deno project that imports raincore by URL copies it, see the README).
// No `npm:` specifiers in the sources: Node, Bun and bundlers do not know that scheme.
// Also the layout: which top-level folder may import which (MAY_IMPORT below).
// Run by scripts/gates.mjs (`npm run test:gates`); also runnable alone: `node scripts/import-rules.mjs`.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { isBuiltin } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Library folders scanned in full (tests and benches are not library code). */
export const LIBRARY_DIRS = ["base", "transport", "gcm", "gdm", "min"];
/** Library entry points whose import graphs are walked as well. */
export const LIBRARY_ENTRIES = ["mod.ts", "cli.ts"];

const BARE = /^((?:@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*)(\/.*)?$/i;
const NPM = /^npm:((?:@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*)@([^/\s]+)(\/.*)?$/i;

/** Where deno.json's import map sends a bare specifier (exact key, else the longest `prefix/` key). */
function mapped(imports, spec) {
  if (imports[spec] !== undefined) return imports[spec];
  const prefix = Object.keys(imports)
    .filter((k) => k.endsWith("/") && spec.startsWith(k))
    .sort((a, b) => b.length - a.length)[0];
  return prefix === undefined ? undefined : imports[prefix] + spec.slice(prefix.length);
}

/** Why a bare specifier breaks the rule, or `undefined` when it keeps it. */
function checkBare(spec, ranges, imports) {
  const bare = BARE.exec(spec);
  if (bare === null) return `"${spec}" is not a package name`;
  const [, name, sub = ""] = bare;
  const range = ranges.get(name);
  if (range === undefined) {
    return `"${spec}": ${name} is not in package.json dependencies or peerDependencies`;
  }
  const target = mapped(imports, spec);
  if (target === undefined) return `"${spec}" is not mapped in deno.json "imports"`;
  const npm = NPM.exec(target);
  if (npm === null || npm[1] !== name || npm[2] !== range || (npm[3] ?? "") !== sub) {
    return `deno.json maps "${spec}" to "${target}", expected "npm:${name}@${range}${sub}"`;
  }
  return undefined;
}

function isTestFile(path) {
  return /(^|[._/])test\.ts$/.test(path) || path.includes(`${"/"}tests${"/"}`);
}

function walkDir(dir, out) {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walkDir(path, out);
    else if (path.endsWith(".ts") && !isTestFile(path)) out.add(path);
  }
}

/**
 * Checks the library's imports.
 * @returns {{ files: number, imports: number, violations: string[] }}
 */
export function checkImportRules(repo = root) {
  const pkg = JSON.parse(readFileSync(join(repo, "package.json"), "utf8"));
  const ranges = new Map(Object.entries({ ...pkg.peerDependencies, ...pkg.dependencies }));
  const importMap = JSON.parse(readFileSync(join(repo, "deno.json"), "utf8")).imports ?? {};
  const todo = new Set();
  for (const dir of LIBRARY_DIRS) walkDir(join(repo, dir), todo);
  for (const entry of LIBRARY_ENTRIES) if (existsSync(join(repo, entry))) todo.add(join(repo, entry));
  const done = new Set();
  const violations = [];
  let imports = 0;
  while (todo.size > 0) {
    const file = todo.values().next().value;
    todo.delete(file);
    if (done.has(file)) continue;
    done.add(file);
    const source = readFileSync(file, "utf8");
    const where = relative(repo, file);
    for (const { fileName: spec } of ts.preProcessFile(source, true, true).importedFiles) {
      imports++;
      if (spec.startsWith("./") || spec.startsWith("../")) {
        if (!spec.endsWith(".ts")) {
          violations.push(`${where}: relative import "${spec}" needs the .ts extension`);
          continue;
        }
        const target = resolve(dirname(file), spec);
        if (!existsSync(target)) violations.push(`${where}: "${spec}" does not exist`);
        else if (!relative(repo, target).startsWith("..")) todo.add(target);
        else violations.push(`${where}: "${spec}" leaves the repository`);
      } else if (spec.startsWith("node:")) {
        if (!isBuiltin(spec)) violations.push(`${where}: "${spec}" is not a Node built-in`);
      } else if (/^[a-z][\w+.-]*:/i.test(spec)) {
        violations.push(
          `${where}: "${spec}": use ./x.ts, node:x or a bare package name (not npm:, jsr:, URLs)`,
        );
      } else {
        const why = checkBare(spec, ranges, importMap);
        if (why !== undefined) violations.push(`${where}: ${why}`);
      }
    }
  }
  return { files: done.size, imports, violations };
}

/**
 * Which top-level folders each folder may import from (relative imports; the library's layers
 * import only downward; programs do not import each other; nothing imports tests/ but tests/).
 * A file directly in the root (mod.ts, cli.ts) counts as its own folder: "mod.ts" or "cli.ts".
 */
const MAY_IMPORT = {
  base: ["base"],
  transport: ["base", "transport"],
  gcm: ["base", "transport", "gcm"],
  gdm: ["base", "transport", "gcm", "gdm"],
  min: ["base", "min"],
  "mod.ts": ["base", "transport", "gcm", "gdm", "min"],
  runtime: ["base", "transport", "gcm", "gdm", "min", "mod.ts", "runtime"],
  sim: ["base", "transport", "gcm", "gdm", "sim"],
  "cli.ts": ["cli", "runtime"],
  cli: ["base", "transport", "gcm", "gdm", "min", "mod.ts", "runtime", "sim", "cli"],
  bench: ["base", "transport", "gcm", "gdm", "min", "mod.ts", "runtime", "tools", "bench"],
  examples: ["base", "transport", "gcm", "gdm", "min", "mod.ts", "runtime", "examples"],
  tools: ["base", "transport", "gcm", "gdm", "min", "mod.ts", "tools"],
  scripts: ["scripts", "sim", "cli.ts"],
};
/** Files allowed one exception, and why. */
const LAYOUT_EXCEPTIONS = {};

/** The top-level folder of a file (or the file's own name for a file in the root). */
function topOf(repo, file) {
  return relative(repo, file).split(/[\\/]/)[0];
}

/**
 * Checks the folder layout's import directions over every .ts/.mjs file outside node_modules,
 * dist and tests/ (tests may import anything).
 * @returns {{ files: number, violations: string[] }}
 */
export function checkLayout(repo = root) {
  const files = new Set();
  for (const dir of Object.keys(MAY_IMPORT)) {
    const path = join(repo, dir);
    if (!existsSync(path)) continue;
    if (statSync(path).isDirectory()) walkAll(path, files);
    else files.add(path);
  }
  const violations = [];
  for (const file of files) {
    const where = relative(repo, file);
    const from = topOf(repo, file);
    const allowed = new Set([...MAY_IMPORT[from], ...(LAYOUT_EXCEPTIONS[where] ?? [])]);
    for (
      const { fileName: spec } of ts.preProcessFile(readFileSync(file, "utf8"), true, true).importedFiles
    ) {
      if (!spec.startsWith("./") && !spec.startsWith("../")) continue;
      const to = topOf(repo, resolve(dirname(file), spec));
      if (!allowed.has(to)) {
        violations.push(`${where}: imports ${spec} (${from}/ may import ${[...allowed].join(", ")})`);
      }
    }
  }
  return { files: files.size, violations };
}

function walkAll(dir, out) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walkAll(path, out);
    else if (/\.(ts|mjs)$/.test(path)) out.add(path);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const layout = checkLayout();
  for (const v of layout.violations) console.error(`  ✗ ${v}`);
  console.log(`layout: ${layout.files} files, ${layout.violations.length} violations`);
  const { files, imports, violations } = checkImportRules();
  for (const v of violations) console.error(`  ✗ ${v}`);
  console.log(`import rules: ${files} files, ${imports} imports, ${violations.length} violations`);
  process.exit(violations.length === 0 && layout.violations.length === 0 ? 0 : 1);
}
