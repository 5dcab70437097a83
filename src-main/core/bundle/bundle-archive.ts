// The archive layer of result bundles: a gzip'd tar of plain files with a SHA256SUMS file, written
// atomically, and read as if hostile. Reading checks every entry's header before its body (only regular
// files and folders, relative paths without "..", sizes within limits), verifies every checksum, and only
// then writes anything, each file inside the target folder and nowhere else.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import { mkdir, open, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, posix, relative, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { Header, Pax, Parser, type ReadEntry } from 'tar';
import { CnlabError } from '../errors';

export const CHECKSUMS_FILE = 'SHA256SUMS';

export interface BundleFile {
  /** Relative POSIX path inside the bundle, e.g. "runs/2026…/samples.jsonl". */
  path: string;
  content: Buffer;
}

export interface ArchiveLimits {
  maxFileBytes: number;
  maxTotalBytes: number;
  maxEntries: number;
}

/** Generous for 1,000 runs of raw tool output (about 50 MB), far below what would exhaust a laptop. */
export const DEFAULT_LIMITS: ArchiveLimits = { maxFileBytes: 512 * 2 ** 20, maxTotalBytes: 2 * 2 ** 30, maxEntries: 200_000 };

const SAFE_SEGMENT = /^[A-Za-z0-9._@+-][A-Za-z0-9._@+ -]*$/;
/** The longest file name Linux, macOS and Windows file systems take (a segment is ASCII: one byte a character). */
const MAX_NAME_BYTES = 255;

function refused(archive: string, path: string, why: string): CnlabError {
  return new CnlabError('invalid-input', `${archive}: entry ${JSON.stringify(path)} ${why}: this bundle was not written by cnlab or was tampered with; nothing was extracted`, { entry: path });
}

/** The entry path as cnlab writes them, or a refusal naming it: relative, no "..", plain names only. */
export function checkEntryPath(archive: string, path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  if (trimmed === '' || trimmed.startsWith('/') || /^[A-Za-z]:/.test(trimmed) || trimmed.includes('\\')) throw refused(archive, path, 'has an absolute path');
  const segments = trimmed.split('/');
  if (segments.some((segment) => segment === '..' || segment === '.')) throw refused(archive, path, 'leaves its folder ("..")');
  if (!segments.every((segment) => SAFE_SEGMENT.test(segment))) throw refused(archive, path, 'has characters cnlab never writes in a name');
  // Judged here, from the header: a file system takes no longer name, and writing it would fail mid-import.
  if (segments.some((segment) => segment.length > MAX_NAME_BYTES)) throw refused(archive, path, `has a name longer than ${MAX_NAME_BYTES} bytes`);
  return trimmed;
}

function sha256(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

/** SHA256SUMS as sha256sum writes it (two spaces, sorted by path), so `sha256sum -c` checks a bundle too. */
export function checksumsText(files: readonly BundleFile[]): string {
  return [...files]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((file) => `${sha256(file.content)}  ${file.path}\n`)
    .join('');
}

async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

const gzipMember = promisify(gzip);
const ZEROS = Buffer.alloc(2 * 512);

/** The tar stream is compressed in slices of this size, each one thread-pool job. */
const GZIP_SLICE = 1 << 20;
/** Output in one piece per slice (the default 16 KB would be a dozen callbacks on the main thread). */
const GZIP_OPTIONS = { chunkSize: GZIP_SLICE };
/** Slices being compressed or written before room() asks the caller to wait. */
const SLICES_IN_FLIGHT = 8;
const TAR_BLOCK = 512;

/**
 * Writes a bundle as its files come. The tar stream is built in place in 1 MiB slices: each header is
 * encoded into the slice and each file is read straight into it (and hashed from there), so 20,000 files
 * cost no buffer of their own; each full slice is compressed as its own gzip member on the thread pool,
 * several at once (one gzip stream is one core), and written in order. A multi-member .gz is plain gzip
 * (RFC 1952): gunzip, tar -xzf and cnlab's import read it as one stream. SHA256SUMS goes last. The
 * .tar.gz appears atomically at finish() (temp file beside it, fsync, rename, fsync of the folder);
 * abort() leaves nothing behind.
 */
export class BundleArchiveWriter {
  private readonly seen = new Set<string>();
  private readonly sums: { path: string; sha256: string }[] = [];
  private slice = Buffer.allocUnsafe(GZIP_SLICE);
  private used = 0;
  /** Each slice's write, oldest first (a slice is written after the one before it). */
  private readonly writes: Promise<void>[] = [];
  private lastWrite: Promise<void> = Promise.resolve();
  private failure: Error | null = null;

  private constructor(
    private readonly file: string,
    private readonly temp: string,
    private readonly output: FileHandle,
    private readonly mtime: Date,
  ) {}

  static async open(file: string, mtime = new Date()): Promise<BundleArchiveWriter> {
    const dir = dirname(file);
    await mkdir(dir, { recursive: true });
    const temp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    return new BundleArchiveWriter(file, temp, await open(temp, 'wx', 0o644), mtime);
  }

  /** Adds one file from memory (refused: a path cnlab never writes, SHA256SUMS itself, a path given twice). */
  add(entry: BundleFile): void {
    this.header(entry.path, entry.content.length);
    this.sums.push({ path: entry.path, sha256: sha256(entry.content) });
    this.copy(entry.content);
    this.pad(entry.content.length);
  }

  /** Adds the file at `source` as `path`, read straight into the archive (synchronously: a run's files are small). */
  addFromDisk(path: string, source: string): void {
    const fd = openSync(source, 'r');
    try {
      const size = fstatSync(fd).size;
      this.header(path, size);
      const hash = createHash('sha256');
      for (let left = size; left > 0; ) {
        if (this.used === GZIP_SLICE) this.flush();
        const read = readSync(fd, this.slice, this.used, Math.min(left, GZIP_SLICE - this.used), null);
        if (read === 0) throw new CnlabError('invalid-input', `${source} shrank while it was being bundled: export again once the run has finished`);
        hash.update(this.slice.subarray(this.used, this.used + read));
        this.used += read;
        left -= read;
      }
      this.sums.push({ path, sha256: hash.digest('hex') });
      this.pad(size);
    } finally {
      closeSync(fd);
    }
  }

  /** Resolves once few enough slices are in flight: awaited between runs, it bounds the memory held. */
  async room(): Promise<void> {
    while (this.writes.length > SLICES_IN_FLIGHT) await this.writes.shift();
    if (this.failure) throw this.failure;
  }

  /** Checks a caller's entry, then writes its header. */
  private header(path: string, size: number): void {
    checkEntryPath(this.file, path);
    if (path === CHECKSUMS_FILE) throw new CnlabError('internal', `${CHECKSUMS_FILE} is written by the archive itself`);
    if (this.seen.has(path)) throw new CnlabError('internal', `bundle entry ${path} given twice`);
    this.seen.add(path);
    this.writeHeader(path, size);
  }

  private writeHeader(path: string, size: number): void {
    const data = { path, mode: 0o644, size, mtime: this.mtime, type: 'File' as const, uid: 0, gid: 0 };
    if (GZIP_SLICE - this.used < TAR_BLOCK) this.flush();
    // encode() leaves the fields it has no value for as they are: the slice is not zeroed (allocUnsafe).
    this.slice.fill(0, this.used, this.used + TAR_BLOCK);
    const header = new Header(data);
    // encode() writes the header in place and says whether the path needed more than its 100 bytes: then a
    // PAX record takes its place, and the header (which keeps a truncated name for old readers) follows.
    if (header.encode(this.slice, this.used)) {
      this.copy(new Pax(data).encode());
      if (GZIP_SLICE - this.used < TAR_BLOCK) this.flush();
      this.slice.fill(0, this.used, this.used + TAR_BLOCK);
      header.encode(this.slice, this.used);
    }
    this.used += TAR_BLOCK;
  }

  private copy(content: Buffer): void {
    for (let offset = 0; offset < content.length; ) {
      if (this.used === GZIP_SLICE) this.flush();
      const copied = content.copy(this.slice, this.used, offset, offset + Math.min(content.length - offset, GZIP_SLICE - this.used));
      this.used += copied;
      offset += copied;
    }
  }

  /** Zeros up to the next 512-byte block after a body of `size` bytes. */
  private pad(size: number): void {
    this.copy(ZEROS.subarray(0, (TAR_BLOCK - (size % TAR_BLOCK)) % TAR_BLOCK));
  }

  private flush(): void {
    if (this.used === 0) return;
    const compressed = gzipMember(this.slice.subarray(0, this.used), GZIP_OPTIONS);
    this.slice = Buffer.allocUnsafe(GZIP_SLICE);
    this.used = 0;
    this.lastWrite = Promise.all([compressed, this.lastWrite])
      .then(async ([member]) => {
        if (!this.failure) await this.output.write(member);
      })
      .catch((error: unknown) => {
        this.failure ??= error instanceof Error ? error : new Error(String(error));
      });
    this.writes.push(this.lastWrite);
  }

  /** Writes SHA256SUMS and the end of the archive, then puts the file in place. */
  async finish(): Promise<void> {
    try {
      const sums = [...this.sums].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)).map((sum) => `${sum.sha256}  ${sum.path}\n`).join('');
      const content = Buffer.from(sums);
      this.writeHeader(CHECKSUMS_FILE, content.length);
      this.copy(content);
      this.pad(content.length);
      this.copy(ZEROS.subarray(0, 2 * TAR_BLOCK)); // the end-of-archive marker
      this.flush();
      await this.lastWrite;
      if (this.failure) throw this.failure;
      await this.output.sync();
      await this.output.close();
      await rename(this.temp, this.file);
    } catch (error) {
      await this.abort();
      throw error;
    }
    await syncFile(dirname(this.file));
  }

  /** Drops the partial archive (the target file, if any, is untouched). */
  async abort(): Promise<void> {
    this.failure ??= new CnlabError('internal', 'bundle aborted');
    await this.lastWrite;
    await this.output.close().catch(() => undefined);
    await rm(this.temp, { force: true });
  }
}

/** Writes the files and their SHA256SUMS as a .tar.gz, atomically (a crash leaves the old file or none). */
export async function writeBundleArchive(file: string, files: readonly BundleFile[], mtime = new Date()): Promise<void> {
  const writer = await BundleArchiveWriter.open(file, mtime);
  try {
    for (const entry of files) writer.add(entry);
  } catch (error) {
    await writer.abort();
    throw error;
  }
  await writer.finish();
}

/** Every entry's header is judged before its body is read: a 1 TB size claim is refused, never awaited. */
function judgeEntry(archive: string, entry: ReadEntry, limits: ArchiveLimits, totals: { bytes: number; entries: number }): string | null {
  totals.entries++;
  if (totals.entries > limits.maxEntries) throw refused(archive, entry.path, `is one entry too many (over ${limits.maxEntries})`);
  if (entry.type === 'Directory') {
    checkEntryPath(archive, entry.path);
    return null;
  }
  if (entry.type !== 'File' && entry.type !== 'OldFile' && entry.type !== 'ContiguousFile') throw refused(archive, entry.path, `is a ${entry.type}, and a bundle holds only files`);
  const path = checkEntryPath(archive, entry.path);
  if (entry.size > limits.maxFileBytes) throw refused(archive, entry.path, `declares ${entry.size} bytes, over the ${limits.maxFileBytes}-byte limit for one file`);
  totals.bytes += entry.size;
  if (totals.bytes > limits.maxTotalBytes) throw refused(archive, entry.path, `brings the bundle over ${limits.maxTotalBytes} bytes`);
  return path;
}

/** Reads every file of the archive into memory, checking each entry as it comes. */
async function readEntries(archive: string, limits: ArchiveLimits): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const totals = { bytes: 0, entries: 0 };
  await new Promise<void>((resolvePromise, reject) => {
    let failed = false;
    const fail = (error: unknown): void => {
      if (failed) return;
      failed = true;
      input.destroy();
      reject(error instanceof CnlabError ? error : new CnlabError('invalid-input', `${archive} is not a readable .tar.gz bundle (${(error as Error).message})`));
    };
    const parser = new Parser({
      strict: true,
      // cnlab writes gzip only. Left to sniff, tar takes a file starting with zstd's magic number for zstd and
      // throws a TypeError out of the stream on a Node without zstd (Node 20), which no caller can catch.
      zstd: false,
      onReadEntry: (entry: ReadEntry) => {
        let path: string | null;
        try {
          path = judgeEntry(archive, entry, limits, totals);
        } catch (error) {
          entry.resume();
          fail(error);
          return;
        }
        if (path === null) {
          entry.resume();
          return;
        }
        if (files.has(path)) {
          fail(refused(archive, path, 'appears twice'));
          return;
        }
        const chunks: Buffer[] = [];
        const name = path;
        entry.on('data', (chunk: Buffer) => chunks.push(chunk));
        entry.on('end', () => files.set(name, Buffer.concat(chunks)));
      },
    });
    parser.on('error', fail);
    parser.on('end', () => {
      if (!failed) resolvePromise();
    });
    const unreadable = (error: unknown): CnlabError => new CnlabError('not-found', `cannot read bundle ${archive}: ${error instanceof Error ? error.message : String(error)}`);
    let input: ReturnType<typeof createReadStream>;
    try {
      // A path no file can have (a NUL byte in it) throws here rather than in an 'error' event.
      input = createReadStream(archive);
    } catch (error) {
      failed = true;
      reject(unreadable(error));
      return;
    }
    input.on('error', (error) => fail(unreadable(error)));
    input.pipe(parser);
  });
  return files;
}

/** Checks SHA256SUMS against every file: a missing, extra or modified file is named. */
function verifyChecksums(archive: string, files: ReadonlyMap<string, Buffer>): void {
  const sums = files.get(CHECKSUMS_FILE);
  if (!sums) throw new CnlabError('invalid-input', `${archive} has no ${CHECKSUMS_FILE}: it is not a cnlab bundle, or it was cut short`);
  const listed = new Map<string, string>();
  for (const line of sums.toString('utf8').split('\n').filter((text) => text.trim() !== '')) {
    const match = /^([0-9a-f]{64}) {2}(.+)$/.exec(line);
    if (!match?.[1] || !match[2]) throw new CnlabError('invalid-input', `${archive}: ${CHECKSUMS_FILE} has a malformed line ${JSON.stringify(line.slice(0, 80))}`);
    listed.set(match[2], match[1]);
  }
  for (const [path, content] of files) {
    if (path === CHECKSUMS_FILE) continue;
    const expected = listed.get(path);
    if (!expected) throw new CnlabError('invalid-input', `${archive}: ${path} is not listed in ${CHECKSUMS_FILE}: a file was added to the bundle after it was written`, { entry: path });
    if (sha256(content) !== expected) throw new CnlabError('invalid-input', `${archive}: ${path} does not match its checksum in ${CHECKSUMS_FILE}: the file was modified or damaged`, { entry: path });
  }
  for (const path of listed.keys()) {
    if (!files.has(path)) throw new CnlabError('invalid-input', `${archive}: ${path} is listed in ${CHECKSUMS_FILE} but missing from the bundle`, { entry: path });
  }
}

/**
 * Runs `action` on every item, at most `limit` at a time (enough to keep the thread pool busy). After a failure
 * no item is started, and it is thrown only once every action under way has ended: nothing writes after it.
 */
async function inParallel<T>(items: readonly T[], action: (item: T) => Promise<unknown>, limit = 32): Promise<void> {
  let next = 0;
  const failures: unknown[] = [];
  const worker = async (): Promise<void> => {
    while (failures.length === 0 && next < items.length) {
      try {
        await action(items[next++] as T);
      } catch (error) {
        failures.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failures.length > 0) throw failures[0];
}

/** Reads and verifies a bundle without writing anything: its files by path (SHA256SUMS left out). */
export async function readBundleArchive(archive: string, limits: ArchiveLimits = DEFAULT_LIMITS): Promise<Map<string, Buffer>> {
  const files = await readEntries(archive, limits);
  verifyChecksums(archive, files);
  files.delete(CHECKSUMS_FILE);
  return files;
}

/**
 * Verifies the bundle, then writes its files under `targetDir` (which must not exist yet): each path is
 * resolved and checked to stay inside, and opened exclusively so no existing file or link is followed.
 */
export async function extractBundleArchive(archive: string, targetDir: string, limits: ArchiveLimits = DEFAULT_LIMITS): Promise<string[]> {
  return writeBundleFiles(archive, await readBundleArchive(archive, limits), targetDir);
}

/** The writing half of extractBundleArchive, for files readBundleArchive already verified (named `archive`). */
export async function writeBundleFiles(archive: string, files: ReadonlyMap<string, Buffer>, targetDir: string): Promise<string[]> {
  const root = resolve(targetDir);
  // Every target is checked before the first write; then folders (parents first), then files, several at once.
  const targets = [...files].map(([path, content]) => {
    const target = resolve(root, ...path.split('/'));
    const inside = relative(root, target);
    if (inside.startsWith('..') || inside.startsWith(sep) || inside === '') throw refused(archive, path, 'would land outside the target folder');
    return { path, target, content };
  });
  // A path that is a file and the folder of other files too could only be written one way.
  const parents = new Set([...files.keys()].flatMap((path) => path.split('/').slice(0, -1).map((_, index, segments) => segments.slice(0, index + 1).join('/'))));
  for (const path of files.keys()) if (parents.has(path)) throw refused(archive, path, 'is a file and also the folder of other files');
  await mkdir(dirname(root), { recursive: true });
  await mkdir(root).catch((error: NodeJS.ErrnoException) => {
    throw new CnlabError('invalid-input', error.code === 'EEXIST' ? `${root} already exists: import into a new folder` : `cannot create ${root}: ${error.message}`);
  });
  try {
    const folders = [...new Set(targets.map((entry) => dirname(entry.target)))].filter((dir) => dir !== root).sort();
    await inParallel(folders, (dir) => mkdir(dir, { recursive: true }));
    // 'wx': created here or refused, so no existing file or link is ever followed or replaced.
    await inParallel(targets, (entry) => writeFile(entry.target, entry.content, { flag: 'wx', mode: 0o644 }));
  } catch (error) {
    // The folder is new, made above: removing it leaves no half import behind.
    await rm(root, { recursive: true, force: true });
    throw new CnlabError('io', `cannot import ${archive} into ${root}: ${(error as Error).message}: nothing was imported`, {}, { cause: error });
  }
  const written = targets.map((entry) => posix.join(...entry.path.split('/')));
  return written.sort();
}
