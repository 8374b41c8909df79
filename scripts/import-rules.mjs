// The library-wide import rule: every import inside the library resolves without an import map,
// because a module imported by URL (Deno) gets none. Allowed specifiers:
//   - relative paths with the `.ts` extension that exist (`./codec.ts`, `../transport/mod.ts`);
//   - `node:` built-ins (`node:dgram`);
//   - fully qualified npm specifiers `npm:name@range[/sub]` of a package in package.json
//     "dependencies" (a consumer installs exactly those).
// Used by scripts/deno-tests.mjs; also runnable alone: `node scripts/import-rules.mjs`.
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

const NPM = /^npm:((?:@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*)@([^/\s]+)(\/.*)?$/i;

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
  const deps = new Set(Object.keys(pkg.dependencies ?? {}));
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
      } else if (spec.startsWith("npm:")) {
        const m = NPM.exec(spec);
        if (m === null) violations.push(`${where}: "${spec}" is not npm:name@range[/sub]`);
        else if (!deps.has(m[1])) {
          violations.push(`${where}: "${spec}": ${m[1]} is not in package.json dependencies`);
        }
      } else {
        violations.push(`${where}: "${spec}" needs an import map (use ./x.ts, node:x or npm:name@range)`);
      }
    }
  }
  return { files: done.size, imports, violations };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { files, imports, violations } = checkImportRules();
  for (const v of violations) console.error(`  ✗ ${v}`);
  console.log(`import rules: ${files} files, ${imports} imports, ${violations.length} violations`);
  process.exit(violations.length === 0 ? 0 : 1);
}
