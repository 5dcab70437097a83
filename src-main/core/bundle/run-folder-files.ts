// Adds one run folder's files to a bundle archive: the files the caller already read (the record, samples
// and deployed labs it parsed) go in as those very bytes, so the bundle's files and its statistics agree
// even for a run still going; the rest (raw tool outputs, the commands log) are read straight into the archive.
import { readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { BundleArchiveWriter, BundleFile } from './bundle-archive';

/** A run folder to bundle: its files' paths inside it (sorted), and those already read, by path. */
export interface RunFolderEntry {
  dir: string;
  /** Bundle path prefix, e.g. "runs/<runId>/". */
  prefix: string;
  paths: readonly string[];
  known: readonly BundleFile[];
}

/** Every file under `dir` as a sorted POSIX path relative to it (synchronously: a run folder is small). */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .sort();
}

/** Adds the folder's files in path order; awaits the writer's room() after, so reading never runs far ahead. */
export async function addRunFolder(writer: BundleArchiveWriter, { dir, prefix, paths, known }: RunFolderEntry): Promise<void> {
  const read = new Map(known.map((file) => [file.path, file.content]));
  for (const path of paths) {
    const content = read.get(path);
    if (content) writer.add({ path: `${prefix}${path}`, content });
    else writer.addFromDisk(`${prefix}${path}`, join(dir, ...path.split('/')));
  }
  await writer.room();
}
