/**
 * The incarnation of a `raincore node` with `--data-dir`: a restarted process must use a greater one
 * than every earlier process of its node ID, or its peers take it for an old process. The default is
 * read off the wall clock, so a clock set back (a skewed restart) would break that; with a data
 * directory the last incarnation is kept there, and the next is above both it and the clock's.
 * @module
 */
import { newIncarnation } from "../transport/incarnation.ts";

/** The incarnation for this start of node `id`, recorded (durably) in `dir` before it is used. */
export async function nextIncarnation(dir: string, id: string): Promise<number> {
  const { open, readFile, rename } = await import("node:fs/promises");
  const path = `${dir}/${encodeURIComponent(id)}.incarnation`;
  let last = 0;
  try {
    last = Number((await readFile(path, "utf8")).trim()) || 0;
  } catch (error) {
    if ((error as { code?: string }).code !== "ENOENT") throw error;
  }
  const inc = Math.max(newIncarnation(), last + 1);
  const tmp = `${path}.tmp`;
  const file = await open(tmp, "w");
  try {
    await file.writeFile(`${inc}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, path);
  const d = await open(dir, "r");
  try {
    await d.sync();
  } finally {
    await d.close();
  }
  return inc;
}
