// The library imports npm packages as `npm:name@range[/sub]` so that Deno resolves them without an
// import map (a module imported by URL gets none). Node tools do not know that scheme; this maps
// it back to the bare package name. Used by esbuild (build) and vitest (tests).

/** `npm:cbor-x@^1.6.0/decode` → `cbor-x/decode`; `npm:@scope/pkg@1` → `@scope/pkg`. */
export function stripNpmSpecifier(id) {
  if (!id.startsWith("npm:")) return null;
  const rest = id.slice(4).replace(/^\//, "");
  const scoped = rest.startsWith("@");
  const parts = rest.split("/");
  const nameParts = scoped ? parts.slice(0, 2) : parts.slice(0, 1);
  const sub = parts.slice(nameParts.length);
  const last = nameParts.length - 1;
  nameParts[last] = nameParts[last].replace(/@[^@]*$/, (m) => (scoped && last === 0 ? m : ""));
  return [...nameParts, ...sub].join("/");
}

/** esbuild plugin: resolve `npm:` specifiers to external bare packages. */
export const npmSpecifierPlugin = {
  name: "npm-specifier",
  setup(build) {
    build.onResolve({ filter: /^npm:/ }, (args) => ({ path: stripNpmSpecifier(args.path), external: true }));
  },
};

/** Vite/vitest plugin doing the same. */
export const npmSpecifierVitePlugin = {
  name: "npm-specifier",
  enforce: "pre",
  async resolveId(id, importer) {
    const bare = stripNpmSpecifier(id);
    if (bare === null) return null;
    return this.resolve(bare, importer, { skipSelf: true });
  },
};
