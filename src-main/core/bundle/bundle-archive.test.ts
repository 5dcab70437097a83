// Bundle archives: a round trip keeps every byte; a flipped byte, an added or a missing file is named;
// hostile archives (path traversal, absolute path, symlink, hard link, device, a huge declared size)
// are refused before anything is written, and nothing ever lands outside the target folder.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync, inflateRawSync } from 'node:zlib';
import { Header, type HeaderData } from 'tar';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CnlabError } from '../errors';
import { BundleArchiveWriter, checksumsText, extractBundleArchive, readBundleArchive, writeBundleArchive, type BundleFile } from './bundle-archive';

let scratch: string;
beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'cnlab-bundle-'));
});
afterEach(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const FILES: BundleFile[] = [
  { path: 'manifest.json', content: Buffer.from('{"format":1}\n') },
  { path: 'runs/20261122-100000-compare/samples.jsonl', content: Buffer.from('{"type":"result"}\n'.repeat(1000)) },
  { path: `runs/${'long-name-'.repeat(12)}/raw/iperf3-0.r1.json`, content: Buffer.from([0, 1, 2, 255]) },
];

/** A raw tar entry, header as given: how a hostile archive is made (cnlab's writer refuses these). */
function rawEntry(data: HeaderData, content = Buffer.alloc(0)): Buffer[] {
  const header = new Header({ mode: 0o644, mtime: new Date(0), uid: 0, gid: 0, ...data, size: data.size ?? content.length });
  header.encode();
  return [header.block as Buffer, content, Buffer.alloc((512 - (content.length % 512)) % 512)];
}

async function hostile(name: string, entries: Buffer[][], withSums = true): Promise<string> {
  const file = join(scratch, name);
  const sums = withSums ? rawEntry({ path: 'SHA256SUMS', type: 'File' }, Buffer.from(checksumsText([]))) : [];
  await writeFile(file, gzipSync(Buffer.concat([...entries.flat(), ...sums, Buffer.alloc(1024)])));
  return file;
}

/** How many gzip members follow each other in `data` (cnlab's members carry the bare 10-byte header). */
function gzipMembers(data: Buffer): number {
  let members = 0;
  for (let offset = 0; offset < data.length; members++) {
    expect(data.subarray(offset, offset + 2).toString('hex')).toBe('1f8b');
    // With info, inflate also says how many input bytes the member's deflate stream used.
    const { engine } = inflateRawSync(data.subarray(offset + 10), { info: true }) as unknown as { engine: { bytesWritten: number } };
    offset += 10 + engine.bytesWritten + 8;
  }
  return members;
}

async function refusal(promise: Promise<unknown>): Promise<CnlabError> {
  const error = await promise.then(() => null, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(CnlabError);
  return error as CnlabError;
}

describe('bundle archive', () => {
  it('round-trips every file byte for byte, with a SHA256SUMS that sha256sum can check', async () => {
    const file = join(scratch, 'bundle.tar.gz');
    await writeBundleArchive(file, FILES);
    const read = await readBundleArchive(file);
    expect([...read.keys()].sort()).toEqual(FILES.map((entry) => entry.path).sort());
    for (const entry of FILES) expect(read.get(entry.path)?.equals(entry.content)).toBe(true);
    const target = join(scratch, 'imported');
    expect(await extractBundleArchive(file, target)).toEqual(FILES.map((entry) => entry.path).sort());
    expect(await readFile(join(target, 'runs', '20261122-100000-compare', 'samples.jsonl'), 'utf8')).toBe(FILES[1]?.content.toString());
  });

  it('spreads a large tar over many gzip members that cnlab, tar and gzip read as one stream', async () => {
    // Bodies that straddle the 1 MiB slices, one larger than a slice, PAX headers for long paths, empty
    // files; half read from disk straight into the archive, half given from memory.
    const source = join(scratch, 'source');
    await mkdir(source);
    const files: BundleFile[] = Array.from({ length: 400 }, (_, index) => ({
      path: `runs/run-${index % 7}/${index % 3 === 0 ? `${'deep-name-'.repeat(11)}/` : ''}file-${index}.json`,
      content: randomBytes(index === 123 ? 2.5 * 2 ** 20 : (index * 7919) % 9000),
    }));
    const writer = await BundleArchiveWriter.open(join(scratch, 'big.tar.gz'));
    for (const [index, entry] of files.entries()) {
      if (index % 2 === 0) {
        writer.add(entry);
        continue;
      }
      await writeFile(join(source, `${index}`), entry.content);
      writer.addFromDisk(entry.path, join(source, `${index}`));
      await writer.room();
    }
    await writer.finish();
    const archive = join(scratch, 'big.tar.gz');
    const read = await readBundleArchive(archive);
    expect(read.size).toBe(files.length);
    for (const entry of files) expect(read.get(entry.path)?.equals(entry.content), entry.path).toBe(true);
    const listed = execFileSync('tar', ['-tzf', archive], { encoding: 'utf8', maxBuffer: 2 ** 24 }).split('\n').filter(Boolean);
    expect(listed.sort()).toEqual([...files.map((entry) => entry.path), 'SHA256SUMS'].sort());
    execFileSync('gzip', ['-t', archive]);
    const members = gzipMembers(await readFile(archive));
    expect(members).toBeGreaterThan(3);
  });

  it('names the file whose byte was flipped, and the one added or missing', async () => {
    const file = join(scratch, 'bundle.tar.gz');
    await writeBundleArchive(file, FILES);
    const tar = gunzipSync(await readFile(file));
    const at = tar.indexOf('{"type":"result"}');
    tar[at + 3] = tar[at + 3] === 0x41 ? 0x42 : 0x41;
    await writeFile(file, gzipSync(tar));
    expect((await refusal(readBundleArchive(file))).message).toMatch(/runs\/20261122-100000-compare\/samples\.jsonl does not match its checksum/);

    const added = await hostile('added.tar.gz', [rawEntry({ path: 'extra.txt', type: 'File' }, Buffer.from('x'))]);
    expect((await refusal(readBundleArchive(added))).message).toMatch(/extra\.txt is not listed in SHA256SUMS/);
    const missing = join(scratch, 'missing.tar.gz');
    await writeFile(missing, gzipSync(Buffer.concat([...rawEntry({ path: 'SHA256SUMS', type: 'File' }, Buffer.from(`${'0'.repeat(64)}  gone.txt\n`)), Buffer.alloc(1024)])));
    expect((await refusal(readBundleArchive(missing))).message).toMatch(/gone\.txt is listed in SHA256SUMS but missing/);
    const nosums = await hostile('nosums.tar.gz', [rawEntry({ path: 'manifest.json', type: 'File' }, Buffer.from('{}'))], false);
    expect((await refusal(readBundleArchive(nosums))).message).toMatch(/has no SHA256SUMS/);
  });

  it('refuses hostile entries before writing anything, inside or outside the target', async () => {
    const cases: [string, Buffer[][], RegExp][] = [
      ['traversal', [rawEntry({ path: '../../evil.sh', type: 'File' }, Buffer.from('boom'))], /leaves its folder|absolute/],
      ['nested-traversal', [rawEntry({ path: 'runs/../../evil.sh', type: 'File' }, Buffer.from('boom'))], /leaves its folder/],
      ['absolute', [rawEntry({ path: '/tmp/cnlab-evil.sh', type: 'File' }, Buffer.from('boom'))], /absolute path/],
      ['symlink', [rawEntry({ path: 'link', type: 'SymbolicLink', linkpath: '/etc/passwd' })], /is a SymbolicLink/],
      ['hardlink', [rawEntry({ path: 'hard', type: 'Link', linkpath: '/etc/passwd' })], /is a Link/],
      ['device', [rawEntry({ path: 'dev', type: 'CharacterDevice', devmaj: 1, devmin: 3 })], /is a CharacterDevice/],
      // 8 GiB declared and no body: refused from the header, never read.
      ['huge', [rawEntry({ path: 'huge.bin', type: 'File', size: 8 * 2 ** 30 })], /declares 8589934592 bytes/],
    ];
    for (const [name, entries, reason] of cases) {
      const file = await hostile(`${name}.tar.gz`, entries);
      const target = join(scratch, `target-${name}`);
      const error = await refusal(extractBundleArchive(file, target));
      expect(error.message, name).toMatch(reason);
      expect(error.message, name).toMatch(/nothing was extracted/);
    }
    const left = await readdir(scratch);
    expect(left.filter((entry) => !entry.endsWith('.tar.gz'))).toEqual([]);
    expect(await readdir('/tmp').then((names) => names.filter((entry) => entry.startsWith('cnlab-evil')))).toEqual([]);
  });

  it('refuses a file that is not a gzip tar, and an existing target folder', async () => {
    const junk = join(scratch, 'junk.tar.gz');
    await writeFile(junk, 'not a tarball at all');
    expect((await refusal(readBundleArchive(junk))).message).toMatch(/not a readable \.tar\.gz bundle|has no SHA256SUMS/);
    const file = join(scratch, 'bundle.tar.gz');
    await writeBundleArchive(file, FILES);
    expect((await refusal(extractBundleArchive(file, scratch))).message).toMatch(/already exists: import into a new folder/);
  });
});
