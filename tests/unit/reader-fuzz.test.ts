// Fuzzing the readers of what a user opens or is sent (issue 10's fault campaign, second part): workspace.yaml
// (the loader with its format upgrade, then the host inventory over it) and result bundles (the archive reader,
// the import into imports/, the manifest), each fed 10,000+ inputs: random bytes, text and data, and real files
// mutated (a real workspace of each format version; a real bundle exported from synthetic runs, its bytes
// flipped or cut, its tar headers rewritten, hostile entries, files changed with their checksums re-signed).
// Every input loads or is refused with cnlab's own error naming the file; nothing crashes or hangs (fast-check's
// per-case timeout), and nothing is written outside the folder the reader writes to.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { CHECKSUMS_FILE, checksumsText, readBundleArchive } from '../../src-main/core/bundle/bundle-archive';
import { importBundle } from '../../src-main/core/bundle/bundle-import';
import { exportRunBundle, parseBundleManifest } from '../../src-main/core/bundle/run-bundle';
import { CnlabError, type ErrorCode } from '../../src-main/core/errors';
import { RunStore } from '../../src-main/core/experiment/run-store';
import { HostInventory } from '../../src-main/core/hosts/inventory';
import { loadWorkspaceDocument, WORKSPACE_FILE } from '../../src-main/core/workspace/workspace-file';
import { WORKSPACE_FORMAT_VERSION } from '../../src-main/core/workspace/workspace-format';
import { writeSyntheticRuns } from '../support/synthetic-runs';

const root = join(__dirname, '..', '..');
const RUNS = 10_000;
/** A case slower than this is a hang (the slowest real ones take a few ms). */
const CASE_TIMEOUT_MS = 5_000;
/** A name no reader has a reason to write: finding it anywhere but inside a target means an escape. */
const ESCAPE = `cnlab-fuzz-escape-${process.pid}`;

// tmpfs when there is one: every case touches disk, and 20,000 of them should cost memory copies, not syncs.
const scratchBase = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(scratchBase, 'cnlab-reader-fuzz-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** A fuzzed input that shows in a counterexample as its kind and its start, not as thousands of numbers. */
interface Input {
  kind: string;
  bytes: Buffer;
}

function labelled(kind: string, bytes: fc.Arbitrary<Buffer>, show: (bytes: Buffer) => string = (data) => data.toString('base64')): fc.Arbitrary<Input> {
  return bytes.map((data) => ({ kind, bytes: data, [fc.toStringMethod]: () => `${kind} (${data.length} bytes): ${show(data).slice(0, 3_000)}` }));
}

/** Passes a CnlabError of an expected code whose message names `file` and is not a raw schema dump. */
function expectRefusal(error: unknown, file: string, codes: readonly ErrorCode[] = ['invalid-input']): CnlabError {
  if (!(error instanceof CnlabError)) throw new Error(`not a CnlabError: ${String(error)}\n${(error as Error).stack ?? ''}`);
  if (!codes.includes(error.code)) throw new Error(`code ${error.code}: ${error.message}`);
  if (!error.message.includes(file)) throw new Error(`the message does not name ${file}: ${error.message}`);
  if (/"(code|path|expected)"\s*:/.test(error.message)) throw new Error(`the message is a schema dump: ${error.message}`);
  return error;
}

function thrownBy(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  return null;
}

/** Every file and folder under `dir`, as relative paths; a symbolic link or a special file fails the case. */
async function tree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .map((entry) => {
      if (!entry.isFile() && !entry.isDirectory()) throw new Error(`${join(entry.parentPath, entry.name)} is neither a file nor a folder`);
      return relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/') + (entry.isDirectory() ? '/' : '');
    })
    .sort();
}

const scalar = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.integer({ min: -2, max: 70_000 }).map(String),
  fc.constantFrom('null', '~', '[]', '{}', '"', "'", ':', '- ', '&a', '*a', '!!binary', '!!set', '!!omap', '<<', '0x1F', '1e999', '.nan', '-.inf', '\t', '\u0000', '\u202e', '\ufeff', '%YAML 1.1', '---', '...'),
);

/** A text mutated the ways a hand edit or a bad copy goes wrong, then perhaps its bytes (invalid UTF-8, NULs). */
function mutatedText(seeds: readonly string[]): fc.Arbitrary<Buffer> {
  const edit = fc.oneof(
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: scalar }),
    fc.record({ kind: fc.constant('drop-line' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('repeat-line' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('indent-line' as const), at: fc.nat(), by: fc.integer({ min: -4, max: 4 }) }),
    fc.record({ kind: fc.constant('replace-value' as const), at: fc.nat(), text: scalar }),
  );
  const byteEdit = fc.record({ at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }) });
  return fc
    .tuple(fc.constantFrom(...seeds), fc.array(edit, { minLength: 1, maxLength: 4 }), fc.option(fc.array(byteEdit, { minLength: 1, maxLength: 3 }), { freq: 4 }))
    .map(([seed, edits, byteEdits]) => {
      let text = seed;
      for (const change of edits) {
        const lines = text.split('\n');
        const line = change.at % Math.max(1, lines.length);
        const at = change.at % Math.max(1, text.length);
        if (change.kind === 'cut') text = text.slice(0, at) + text.slice(at + change.length);
        else if (change.kind === 'insert') text = text.slice(0, at) + change.text + text.slice(at);
        else {
          if (change.kind === 'drop-line') lines.splice(line, 1);
          else if (change.kind === 'repeat-line') lines.splice(line, 0, lines[line] ?? '');
          else if (change.kind === 'indent-line') lines[line] = change.by >= 0 ? ' '.repeat(change.by) + (lines[line] ?? '') : (lines[line] ?? '').slice(-change.by);
          else lines[line] = (lines[line] ?? '').replace(/:\s.*$/, `: ${change.text}`);
          text = lines.join('\n');
        }
      }
      let bytes = Buffer.from(text);
      for (const { at, bytes: inserted } of byteEdits ?? []) {
        const offset = at % Math.max(1, bytes.length);
        bytes = Buffer.concat([bytes.subarray(0, offset), Buffer.from(inserted), bytes.subarray(offset + 1)]);
      }
      return bytes;
    });
}

/** Values a field should not have but a file may hold: wrong types, out of range, near misses. */
const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(0, -1, 1.5, 2, 3, 22, 65_536, 1e21, Number.MAX_SAFE_INTEGER + 2, '', '2', 'x'.repeat(300), null, true, [], {}, { toString: 1 }, { valueOf: 1 }, JSON.parse('{"__proto__": 1}') as unknown, [null], 'ssh', 'local', 'key', 'agent', '../../etc', 'a b'),
  fc.jsonValue({ maxDepth: 2 }),
);

type Path = (string | number)[];

/** Every path to a value inside `value` (the root included). */
function pathsOf(value: unknown, at: Path = []): Path[] {
  const paths: Path[] = [at];
  if (Array.isArray(value)) value.forEach((item, index) => paths.push(...pathsOf(item, [...at, index])));
  else if (value && typeof value === 'object') for (const [key, item] of Object.entries(value)) paths.push(...pathsOf(item, [...at, key]));
  return paths;
}

/** Data edits: a value replaced by an odd one, a key dropped, an array item repeated (two hosts of one name). */
function mutatedData(seeds: readonly unknown[]): fc.Arbitrary<unknown> {
  const edit = fc.record({ kind: fc.constantFrom('set', 'set', 'drop', 'repeat', 'add-key'), at: fc.nat(), value: oddValue, key: fc.constantFrom('formatVersion', 'hosts', 'settings', 'autosaveMs', 'name', 'kind', 'port', 'auth', 'jump', 'runs', 'runId', 'bundleFormat', 'extra') });
  return fc.tuple(fc.constantFrom(...seeds), fc.array(edit, { minLength: 1, maxLength: 3 })).map(([seed, edits]) => {
    let data: unknown = structuredClone(seed);
    for (const { kind, at, value, key } of edits) {
      const paths = pathsOf(data);
      const path = paths[at % paths.length] ?? [];
      if (path.length === 0) {
        if (kind === 'set') data = structuredClone(value);
        continue;
      }
      let parent = data as Record<string | number, unknown>;
      for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
      const last = path.at(-1) as string | number;
      // A copy: the constants of oddValue are shared by every case and must not be edited or made cyclic.
      if (kind === 'set') parent[last] = structuredClone(value);
      else if (kind === 'drop') {
        if (Array.isArray(parent)) parent.splice(last as number, 1);
        else delete parent[last];
      } else if (kind === 'repeat' && Array.isArray(parent)) parent.splice(last as number, 0, structuredClone(parent[last as number]));
      else if (kind === 'add-key' && parent[last] && typeof parent[last] === 'object' && !Array.isArray(parent[last])) (parent[last] as Record<string, unknown>)[key] = structuredClone(value);
    }
    return data;
  });
}

// ---------------------------------------------------------------------------------------------------------
// workspace.yaml

const WORKSPACE_FIXTURE = readFileSync(join(root, 'src-main', 'core', 'workspace', 'fixtures', 'workspace-v1.yaml'), 'utf8');

/** Real workspace files, one or more per format version: set in beforeAll, from the fixture and the real writers. */
const workspaceSeeds: string[] = [WORKSPACE_FIXTURE, '# written before formatVersion existed\nhosts:\n  - name: box\n    kind: local\n'];

/** A mapping close to a workspace: versions, host entries and settings right or nearly so. */
const nearWorkspace = fc.record(
  {
    formatVersion: fc.oneof(fc.constantFrom(1, 2), oddValue),
    hosts: fc.array(
      fc.record(
        {
          name: fc.oneof(fc.constantFrom('lab-a', 'lab-b', 'box', '-x', 'a'.repeat(64)), oddValue),
          kind: fc.oneof(fc.constantFrom('ssh', 'local', 'docker'), oddValue),
          address: fc.oneof(fc.constantFrom('198.18.0.10', 'lab-b.example.org', 'a;b'), oddValue),
          port: fc.oneof(fc.integer({ min: -1, max: 70_000 }), oddValue),
          user: fc.oneof(fc.constantFrom('root', 'lab', '9bad'), oddValue),
          auth: fc.oneof(fc.record({ type: fc.constantFrom('key', 'agent', 'password', 'token'), keyFile: fc.constantFrom('~/.ssh/id', ''), passwordEnv: fc.constantFrom('PW', '') }, { requiredKeys: ['type'] }), oddValue),
          jump: fc.oneof(fc.constantFrom('lab-a', 'lab-b', 'nowhere'), oddValue),
          knownHostsFiles: fc.oneof(fc.array(fc.constantFrom('~/.ssh/known_hosts', '')), oddValue),
          label: fc.oneof(fc.constantFrom('bare-metal', 'vm', 'cloud'), oddValue),
        },
        { requiredKeys: ['name', 'kind'] },
      ),
      { maxLength: 4 },
    ),
    settings: fc.oneof(fc.record({ autosaveMs: fc.oneof(fc.integer({ min: 0, max: 100_000 }), oddValue) }), oddValue),
    owner: oddValue,
  },
  { requiredKeys: [] },
);

function workspaceInputs(): fc.Arbitrary<Input> {
  const text = (bytes: Buffer): string => JSON.stringify(bytes.toString('utf8'));
  return fc.oneof(
    { weight: 1, arbitrary: labelled('random bytes', fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes))) },
    { weight: 1, arbitrary: labelled('random text', fc.string({ maxLength: 200, unit: 'grapheme' }).map((value) => Buffer.from(value)), text) },
    { weight: 1, arbitrary: labelled('random YAML data', fc.jsonValue({ maxDepth: 4 }).map((value) => Buffer.from(stringify(value))), text) },
    { weight: 3, arbitrary: labelled('a near workspace', nearWorkspace.map((value) => Buffer.from(stringify(value))), text) },
    { weight: 3, arbitrary: labelled('a real workspace, data mutated', mutatedData(workspaceSeeds.map((seed) => parse(seed) as unknown)).map((value) => Buffer.from(stringify(value))), text) },
    { weight: 6, arbitrary: labelled('a real workspace, text mutated', mutatedText(workspaceSeeds), text) },
  );
}

/**
 * The workspace folder `dir` (empty) given `bytes` as workspace.yaml, loaded as the console opens it: the loader
 * (which may upgrade the file, keeping the original as a backup), then the host inventory over the same folder.
 */
async function loadWorkspaceCase(dir: string, bytes: Buffer): Promise<void> {
  const file = join(dir, WORKSPACE_FILE);
  await writeFile(file, bytes);
  const loaded = await loadWorkspaceDocument(dir).catch((error: unknown) => {
    expectRefusal(error, file);
    return null;
  });
  if (!loaded) {
    // Refused: nothing written, nothing moved.
    expect(await readdir(dir)).toEqual([WORKSPACE_FILE]);
    expect((await readFile(file)).equals(bytes)).toBe(true);
    return;
  }
  const { workspace, upgradedFrom, backupFile } = loaded;
  expect(workspace.formatVersion).toBe(WORKSPACE_FORMAT_VERSION);
  expect(Array.isArray(workspace.hosts)).toBe(true);
  expect(Number.isInteger(workspace.settings.autosaveMs)).toBe(true);
  if (upgradedFrom === null) {
    expect(backupFile).toBeNull();
    expect(await readdir(dir)).toEqual([WORKSPACE_FILE]);
    expect((await readFile(file)).equals(bytes)).toBe(true);
  } else {
    // Upgraded: the original kept byte for byte beside it, and no temp file left.
    expect(upgradedFrom).toBeLessThan(WORKSPACE_FORMAT_VERSION);
    expect(backupFile).toBe(join(dir, `workspace.v${upgradedFrom}.yaml.bak`));
    expect((await readdir(dir)).sort()).toEqual([`workspace.v${upgradedFrom}.yaml.bak`, WORKSPACE_FILE]);
    expect((await readFile(backupFile ?? '')).equals(bytes)).toBe(true);
  }
  // Without hosts and without an upgrade to read back, the inventory would add nothing but a second parse.
  if (upgradedFrom === null && workspace.hosts.length === 0) return;
  const inventory = await HostInventory.load(dir).catch((error: unknown) => {
    expectRefusal(error, file);
    return null;
  });
  if (inventory) {
    // Read again from the file the upgrade wrote, if any: now current, the same content.
    expect(inventory.upgrade).toBeNull();
    expect(inventory.list()).toHaveLength(workspace.hosts.length);
    expect(inventory.settings()).toEqual(workspace.settings);
  } else if (upgradedFrom !== null) {
    const again = await loadWorkspaceDocument(dir);
    expect(again.upgradedFrom).toBeNull();
    expect(again.workspace).toEqual(workspace);
  }
}

/** Runs one case in the workspace folder parent/ws, checks nothing appeared beside it, then empties it. */
async function inWorkspaceFolder(parent: string, bytes: Buffer): Promise<void> {
  const dir = join(parent, 'ws');
  await mkdir(dir, { recursive: true });
  try {
    await loadWorkspaceCase(dir, bytes);
    expect(await readdir(parent)).toEqual(['ws']);
  } finally {
    for (const name of await readdir(dir)) await rm(join(dir, name), { recursive: true, force: true });
  }
}

describe(`the workspace loader under ${RUNS.toLocaleString('en-US')} fuzzed workspace.yaml files`, () => {
  let parent: string;
  beforeAll(async () => {
    parent = await mkdtemp(join(scratch, 'workspace-'));
    // Real files of version 2: the fixture as the loader upgraded it, and a workspace the inventory saved.
    const upgraded = join(scratch, 'upgraded');
    await mkdir(upgraded);
    await writeFile(join(upgraded, WORKSPACE_FILE), WORKSPACE_FIXTURE);
    expect((await loadWorkspaceDocument(upgraded)).upgradedFrom).toBe(1);
    workspaceSeeds.push(await readFile(join(upgraded, WORKSPACE_FILE), 'utf8'));
    const saved = join(scratch, 'saved');
    const inventory = await HostInventory.load(saved);
    inventory.add({ name: 'box', kind: 'local', label: 'vm' });
    inventory.add({ name: 'lab-a', kind: 'ssh', address: '198.18.0.10', port: 2222, user: 'lab', auth: { type: 'key', keyFile: '~/.ssh/lab', passphraseEnv: 'LAB_PASS' }, knownHostsFiles: ['~/.ssh/known_hosts.lab'] });
    inventory.add({ name: 'lab-b', kind: 'ssh', address: '198.18.0.11', auth: { type: 'password', passwordEnv: 'LAB_PW' }, jump: 'lab-a', notes: 'behind lab-a' });
    await inventory.setSettings({ autosaveMs: 900 });
    workspaceSeeds.push(await readFile(join(saved, WORKSPACE_FILE), 'utf8'));
  });

  it('has real files of every format version to mutate, and they load', async () => {
    const versions = workspaceSeeds.map((text) => (parse(text) as { formatVersion?: number }).formatVersion ?? 1);
    expect(new Set(versions)).toEqual(new Set(Array.from({ length: WORKSPACE_FORMAT_VERSION }, (_, index) => index + 1)));
    for (const text of workspaceSeeds) await inWorkspaceFolder(parent, Buffer.from(text));
  });

  it('refuses what crashed or was vague before, naming the file', async () => {
    const refusals: [string, RegExp][] = [
      // A host name the YAML makes an object whose toString is not a function: String() threw a TypeError.
      ['formatVersion: 2\nhosts: [{name: {toString: 1}, kind: local}]\n', /workspace\.yaml: host \(unnamed\): name: /],
      // A host error named the host only, not the file it is in.
      ['formatVersion: 2\nhosts: [{name: box, kind: docker}]\n', /workspace\.yaml: host box: kind: /],
      // Nesting deeper than the stack: the library reports it as a YAML error, never throws it.
      [`hosts: ${'['.repeat(20_000)}`, /workspace\.yaml is not valid YAML: /],
      [`settings:\n${Array.from({ length: 3_000 }, (_, depth) => `${' '.repeat(depth + 1)}a:`).join('\n')}`, /workspace\.yaml is not valid YAML: /],
      ['a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n', /resource exhaustion/],
    ];
    const dir = join(scratch, 'regressions');
    const file = join(dir, WORKSPACE_FILE);
    for (const [text, reason] of refusals) {
      await mkdir(dir);
      try {
        await writeFile(file, text);
        const error = await HostInventory.load(dir).then(() => null, (thrown: unknown) => thrown);
        expect(expectRefusal(error, file).message).toMatch(reason);
        expect(await readdir(dir)).toEqual([WORKSPACE_FILE]);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    // A workspace.yaml that cannot be read is an io error naming it, not a crash.
    await mkdir(file, { recursive: true });
    expectRefusal(await loadWorkspaceDocument(dir).catch((error: unknown) => error), file, ['io']);
    await rm(dir, { recursive: true, force: true });
  });

  it('loads or refuses each input with a CnlabError naming the file, writing only a backup beside it', { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(workspaceInputs(), (input) => inWorkspaceFolder(parent, input.bytes)),
      { numRuns: RUNS, seed: 10_001, plugins: [fc.timeout(CASE_TIMEOUT_MS)] },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// Result bundles

const BLOCK = 512;

/** Writes the header checksum of the block at `offset` (sum of its bytes, the field counted as spaces). */
function sealHeader(tar: Buffer, offset: number): void {
  tar.fill(0x20, offset + 148, offset + 156);
  let sum = 0;
  for (let index = offset; index < offset + BLOCK; index++) sum += tar[index] ?? 0;
  tar.write(`${sum.toString(8).padStart(6, '0')}\0 `, offset + 148, 8, 'latin1');
}

/** A size field: octal as tar writes it, or base-256 (GNU) for what octal cannot hold, negative included. */
function sizeField(size: number): Buffer {
  if (size >= 0 && size < 8 ** 11) return Buffer.from(`${size.toString(8).padStart(11, '0')}\0`, 'latin1');
  const field = Buffer.alloc(12, size < 0 ? 0xff : 0);
  field.writeBigInt64BE(BigInt(size), 4);
  field[0] = size < 0 ? 0xff : 0x80;
  return field;
}

interface RawEntry {
  path: string;
  /** The typeflag byte: '0' file, '5' folder, '2' symbolic link, 'x' PAX, 'L' GNU long name... */
  type: string;
  body: Buffer;
  /** The size the header declares when it is not the body's. */
  declared?: number | null;
  linkpath?: string | null;
  /** How a path over 100 bytes is carried. */
  longName?: 'pax' | 'gnu';
}

function headerBlock(name: string, type: string, size: number, linkpath = ''): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(name, 0, 100, 'utf8');
  block.write(['0000644', '0000000', '0000000', ''].join('\u0000'), 100, 'latin1');
  sizeField(size).copy(block, 124);
  block.write('00000000000\0', 136, 'latin1');
  block.write(type.slice(0, 1) || '\0', 156, 1, 'latin1');
  block.write(linkpath, 157, 100, 'utf8');
  block.write('ustar\u000000', 257, 8, 'latin1');
  sealHeader(block, 0);
  return block;
}

function padded(body: Buffer): Buffer[] {
  return [body, Buffer.alloc((BLOCK - (body.length % BLOCK)) % BLOCK)];
}

/** A tar stream of raw entries, made by hand: cnlab's own writer refuses every hostile one of them. */
function tarOf(entries: readonly RawEntry[], end: 'zeros' | 'none' | 'one-block' | 'garbage' = 'zeros'): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    if (Buffer.byteLength(entry.path) > 100) {
      if (entry.longName === 'gnu') {
        const body = Buffer.from(`${entry.path}\0`);
        parts.push(headerBlock('././@LongLink', 'L', body.length), ...padded(body));
      } else {
        const record = ` path=${entry.path}\n`;
        let length = Buffer.byteLength(record) + 1;
        while (String(length).length + Buffer.byteLength(record) !== length) length = String(length).length + Buffer.byteLength(record);
        const body = Buffer.from(`${length}${record}`);
        parts.push(headerBlock('PaxHeader/entry', 'x', body.length), ...padded(body));
      }
    }
    parts.push(headerBlock(entry.path, entry.type, entry.declared ?? entry.body.length, entry.linkpath ?? ''), ...padded(entry.body));
  }
  if (end === 'zeros') parts.push(Buffer.alloc(2 * BLOCK));
  else if (end === 'one-block') parts.push(Buffer.alloc(BLOCK));
  else if (end === 'garbage') parts.push(Buffer.alloc(2 * BLOCK, 0x41));
  return Buffer.concat(parts);
}

/** The offsets of the header blocks of a tar stream cnlab wrote (octal sizes), up to the end marker. */
function headerOffsets(tar: Buffer): number[] {
  const offsets: number[] = [];
  for (let offset = 0; offset + BLOCK <= tar.length && tar[offset] !== 0; ) {
    offsets.push(offset);
    const size = Number.parseInt(tar.toString('latin1', offset + 124, offset + 135), 8);
    offset += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
  }
  return offsets;
}

const FILE_TYPES = ['0', '\0', '7'];

/** SHA256SUMS as the entries' files would have it (or damaged as `how` says). */
function sumsFor(entries: readonly RawEntry[], how: string): RawEntry | null {
  const files = entries.filter((entry) => FILE_TYPES.includes(entry.type)).map((entry) => ({ path: entry.path.replace(/\/+$/, ''), content: entry.body }));
  let text = checksumsText(files.filter((file) => file.path !== CHECKSUMS_FILE));
  if (how === 'none') return null;
  if (how === 'wrong-hash') text = text.replace(/^[0-9a-f]/, (digit) => (digit === '0' ? '1' : '0'));
  else if (how === 'missing-line') text = text.split('\n').slice(1).join('\n');
  else if (how === 'extra-line') text += `${'0'.repeat(64)}  runs/gone/run.json\n`;
  else if (how === 'malformed') text += 'not a checksum line\n';
  else if (how === 'crlf') text = text.replaceAll('\n', '\r\n');
  else if (how === 'upper') text = text.toUpperCase();
  return { path: CHECKSUMS_FILE, type: how === 'folder' ? '5' : '0', body: how === 'folder' ? Buffer.alloc(0) : Buffer.from(text) };
}

const HOSTILE_SEGMENTS = ['..', '.', '', '~', 'C:', 'a\\b', 'é', 'a\u0000b', '-', ' lead', 'trail ', '\u202e', 'x'.repeat(101), 'y'.repeat(256), 'con', '.hidden', ESCAPE];
const HOSTILE_LEADS = ['/', '/tmp/', '/dev/shm/', './', '../', '../../', '../../../', '../../../../', '../../../../../', 'C:/', '\\\\server\\'];

const segment = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('runs', 'a', 'b', 'run.json', 'samples.jsonl', 'manifest.json', CHECKSUMS_FILE, 'raw', 'x y') },
  { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_SEGMENTS) },
  { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
);

const entryPath = fc
  .tuple(fc.oneof({ weight: 6, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_LEADS) }), fc.array(segment, { minLength: 1, maxLength: 4 }), fc.constantFrom('', '', '', '', '/', '//'))
  .map(([lead, segments, trail]) => lead + segments.join('/') + trail);

const rawEntry: fc.Arbitrary<RawEntry> = fc.record({
  path: entryPath,
  type: fc.oneof({ weight: 8, arbitrary: fc.constant('0') }, { weight: 2, arbitrary: fc.constant('5') }, { weight: 3, arbitrary: fc.constantFrom('\0', '7', '1', '2', '3', '4', '6', 'D', 'g', 'x', 'K', 'L', 'N', 'V', 'S', 'M', 'A', 'I', 'Z', 'ÿ') }),
  body: fc.oneof(fc.uint8Array({ maxLength: 600 }).map((bytes) => Buffer.from(bytes)), fc.constantFrom('', '{}', 'path=../x\n', '30 path=../../escape-me\n', `${ESCAPE}\n`).map((text) => Buffer.from(text))),
  declared: fc.option(fc.oneof(fc.integer({ min: 0, max: 5_000 }), fc.constantFrom(-1, -512, 2 ** 31, 2 ** 33, 2 ** 40, 513 * 2 ** 20, Number.MAX_SAFE_INTEGER)), { freq: 6 }),
  linkpath: fc.option(fc.constantFrom('/etc/passwd', '../x', 'a', `/tmp/${ESCAPE}`), { freq: 3 }),
  longName: fc.constantFrom('pax' as const, 'gnu' as const),
});

/** Archives made entry by entry: hostile names and types, lying sizes, duplicates, checksums right or wrong. */
const handMadeArchive = fc
  .record({
    entries: fc.array(rawEntry, { maxLength: 6 }),
    repeat: fc.option(fc.nat(), { freq: 4 }),
    sums: fc.constantFrom('right', 'right', 'right', 'right', 'none', 'wrong-hash', 'missing-line', 'extra-line', 'malformed', 'crlf', 'upper', 'folder'),
    sumsFirst: fc.boolean(),
    end: fc.constantFrom('zeros' as const, 'zeros' as const, 'none' as const, 'one-block' as const, 'garbage' as const),
  })
  .map(({ entries, repeat, sums, sumsFirst, end }) => {
    const all = [...entries];
    if (repeat !== null && all.length > 0) all.push({ ...(all[repeat % all.length] as RawEntry), body: Buffer.from('second copy') });
    const sumsEntry = sumsFor(all, sums);
    if (sumsEntry) {
      if (sumsFirst) all.unshift(sumsEntry);
      else all.push(sumsEntry);
    }
    return tarOf(all, end);
  });

/** A real bundle, exported by cnlab from synthetic runs: its .tar.gz, its tar, and its files by path. */
interface RealBundle {
  gz: Buffer;
  tar: Buffer;
  headers: number[];
  files: Map<string, Buffer>;
}

const gzip = (data: Buffer): Buffer => gzipSync(data, { level: 1 });

/** Header fields worth damaging, as [offset, length] in the block. */
const HEADER_FIELDS: [number, number][] = [[0, 100], [100, 8], [124, 12], [136, 12], [156, 1], [157, 100], [257, 8], [345, 155]];
const FIELD_VALUES = ['', '0', '-1', '77777777777', '\u0080', '../x', `/tmp/${ESCAPE}`, `../../../../${ESCAPE}`, 'runs/../../x', '2', '5', '1', 'x', 'L', 'manifest.json', 'ustar  ', 'a'.repeat(200)];

/** The real bundle damaged: bytes flipped or cut (before or after gzip), header fields rewritten and resealed. */
function damagedBundles(real: RealBundle): fc.Arbitrary<Buffer> {
  const flips = fc.array(fc.record({ at: fc.nat(), value: fc.nat(255), header: fc.option(fc.nat(), { freq: 2 }) }), { minLength: 1, maxLength: 8 });
  const flippedTar = fc.record({ flips, reseal: fc.boolean() }).map(({ flips: changes, reseal }) => {
    const tar = Buffer.from(real.tar);
    const touched = new Set<number>();
    for (const { at, value, header } of changes) {
      const base = header === null ? null : (real.headers[header % real.headers.length] ?? 0);
      tar[base === null ? at % tar.length : base + (at % BLOCK)] = value;
      if (base !== null) touched.add(base);
    }
    if (reseal) for (const base of touched) sealHeader(tar, base);
    return gzip(tar);
  });
  const fieldEdit = fc
    .record({
      header: fc.nat(),
      field: fc.constantFrom(...HEADER_FIELDS),
      value: fc.oneof(fc.constantFrom(...FIELD_VALUES).map((text) => Buffer.from(text)), fc.uint8Array({ maxLength: 12 }).map((bytes) => Buffer.from(bytes))),
      terminate: fc.boolean(),
      reseal: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    })
    .map(({ header, field: [offset, length], value, terminate, reseal }) => {
      const tar = Buffer.from(real.tar);
      const base = real.headers[header % real.headers.length] ?? 0;
      if (terminate) tar.fill(0, base + offset, base + offset + length);
      value.copy(tar, base + offset, 0, Math.min(value.length, length));
      if (reseal) sealHeader(tar, base);
      return gzip(tar);
    });
  return fc.oneof(
    flippedTar,
    fieldEdit,
    fc.nat().map((at) => gzip(real.tar.subarray(0, at % real.tar.length))),
    fc.nat().map((at) => real.gz.subarray(0, at % real.gz.length)),
    flips.map((changes) => {
      const gz = Buffer.from(real.gz);
      for (const { at, value } of changes) gz[at % gz.length] = value;
      return gz;
    }),
    fc.uint8Array({ maxLength: 600 }).map((bytes) => Buffer.concat([real.gz, Buffer.from(bytes)])),
    fc.constant(Buffer.concat([real.gz, real.gz])),
    fc.constant(real.tar),
  );
}

/**
 * The real bundle's files changed and the archive rebuilt, mostly with SHA256SUMS re-signed to match: a JSON
 * file's data or any file's text mutated, a file dropped, added or renamed to a hostile path.
 */
function resignedBundles(real: RealBundle): fc.Arbitrary<Buffer> {
  const paths = [...real.files.keys()];
  const jsonPaths = paths.filter((path) => path.endsWith('.json'));
  const changed = fc.oneof(
    fc.constantFrom(...jsonPaths).chain((path) => mutatedData([JSON.parse((real.files.get(path) ?? Buffer.alloc(0)).toString('utf8')) as unknown]).map((data) => ({ path, content: Buffer.from(JSON.stringify(data) ?? '') }))),
    fc.constantFrom(...paths).chain((path) => mutatedText([(real.files.get(path) ?? Buffer.alloc(0)).toString('utf8')]).map((content) => ({ path, content }))),
  );
  const edit = fc.oneof(
    { weight: 4, arbitrary: changed.map((change) => ({ kind: 'change' as const, ...change })) },
    { weight: 1, arbitrary: fc.constantFrom(...paths).map((path) => ({ kind: 'drop' as const, path, content: Buffer.alloc(0) })) },
    { weight: 1, arbitrary: fc.tuple(entryPath, fc.uint8Array({ maxLength: 64 })).map(([path, bytes]) => ({ kind: 'add' as const, path, content: Buffer.from(bytes) })) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...paths), entryPath).map(([from, path]) => ({ kind: 'rename' as const, path, content: Buffer.from(from) })) },
  );
  return fc
    .record({
      edits: fc.array(edit, { minLength: 1, maxLength: 3 }),
      sums: fc.oneof({ weight: 8, arbitrary: fc.constant('right') }, { weight: 1, arbitrary: fc.constantFrom('wrong-hash', 'missing-line', 'extra-line', 'none') }),
    })
    .map(({ edits, sums }) => {
      const files = new Map(real.files);
      for (const { kind, path, content } of edits) {
        if (kind === 'change' || kind === 'add') files.set(path, content);
        else if (kind === 'drop') files.delete(path);
        else {
          const from = content.toString();
          const moved = files.get(from);
          files.delete(from);
          if (moved) files.set(path, moved);
        }
      }
      const entries: RawEntry[] = [...files].map(([path, body]) => ({ path, type: '0', body, longName: 'pax' }));
      const sumsEntry = sumsFor(entries, sums);
      return gzip(tarOf(sumsEntry ? [...entries, sumsEntry] : entries));
    });
}

/** Random bytes, bare or behind a compression format's magic number (tar sniffs gzip, zstd and brotli). */
function randomArchives(real: RealBundle): fc.Arbitrary<Buffer> {
  const magic = fc.constantFrom(Buffer.alloc(0), Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.from('BZh9'), real.tar.subarray(0, BLOCK));
  return fc.oneof(
    fc.tuple(magic, fc.uint8Array({ maxLength: 2_048 })).map(([prefix, bytes]) => Buffer.concat([prefix, Buffer.from(bytes)])),
    fc.uint8Array({ maxLength: 4_096 }).map((bytes) => gzip(Buffer.from(bytes))),
  );
}

function bundleInputs(real: RealBundle): fc.Arbitrary<Input> {
  return fc.oneof(
    { weight: 1, arbitrary: labelled('random bytes', randomArchives(real)) },
    { weight: 3, arbitrary: labelled('a hand-made archive', handMadeArchive.map((tar) => gzip(tar))) },
    { weight: 3, arbitrary: labelled('the real bundle damaged', damagedBundles(real)) },
    { weight: 3, arbitrary: labelled('the real bundle re-signed', resignedBundles(real)) },
  );
}

/**
 * Imports `bytes` as parent/fuzzed.tar.gz into the workspace parent/ws: imported (files only, exactly those
 * it reports, all inside imports/fuzzed/) or refused with a CnlabError naming the bundle and nothing extracted.
 * Nothing else appears in parent. An imported manifest is then read, and read or refused the same way.
 */
async function importCase(parent: string, bytes: Buffer): Promise<'imported' | 'refused'> {
  const bundle = join(parent, 'fuzzed.tar.gz');
  const workspace = join(parent, 'ws');
  await writeFile(bundle, bytes);
  try {
    const imported = await importBundle(workspace, bundle).catch((error: unknown) => {
      expectRefusal(error, bundle);
      return null;
    });
    expect(await readdir(parent)).toEqual(['fuzzed.tar.gz', 'ws']);
    const left = await tree(workspace);
    if (!imported) {
      // The folder for imports may have been made; nothing is in it.
      expect(left.filter((path) => path !== 'imports/')).toEqual([]);
      return 'refused';
    }
    expect(imported.target).toBe(join(workspace, 'imports', 'fuzzed'));
    expect(left.filter((path) => !path.endsWith('/'))).toEqual(imported.written.map((path) => `imports/fuzzed/${path}`).sort());
    expect(left.filter((path) => path.endsWith('/') && !path.startsWith('imports/fuzzed/') && path !== 'imports/' && path !== 'imports/fuzzed/')).toEqual([]);
    const manifest = await readFile(join(imported.target, 'manifest.json'), 'utf8').catch(() => undefined);
    try {
      const parsed = parseBundleManifest(manifest, bundle);
      for (const run of parsed.runs) expect(run.runId).toMatch(/^[A-Za-z0-9_][A-Za-z0-9._-]*$/);
    } catch (error) {
      expectRefusal(error, bundle);
    }
    return 'imported';
  } finally {
    await rm(join(workspace, 'imports'), { recursive: true, force: true });
  }
}

/** Names of `ESCAPE` files in the folders a hostile path could reach from a target. */
async function escapes(dirs: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  for (const dir of dirs) {
    const names = await readdir(dir).catch(() => [] as string[]);
    found.push(...names.filter((name) => name.includes(ESCAPE)).map((name) => join(dir, name)));
  }
  return found;
}

describe(`bundle import under ${RUNS.toLocaleString('en-US')} fuzzed archives`, () => {
  let parent: string;
  const real = {} as RealBundle;
  beforeAll(async () => {
    parent = await mkdtemp(join(scratch, 'bundle-'));
    await mkdir(join(parent, 'ws'));
    const source = join(scratch, 'source');
    // One run: every file kind of a bundle, small enough that 10,000 imports fit in seconds.
    const ids = await writeSyntheticRuns(source, 1);
    const file = join(scratch, 'real.tar.gz');
    await exportRunBundle(new RunStore(source), ids, file);
    real.gz = await readFile(file);
    real.tar = gunzipSync(real.gz);
    real.headers = headerOffsets(real.tar);
    real.files = await readBundleArchive(file);
  }, 60_000);

  it('starts from a real bundle that imports', async () => {
    expect([...real.files.keys()].sort()).toEqual(['manifest.json', 'results.csv', ...[...real.files.keys()].filter((path) => path.startsWith('runs/'))].sort());
    expect(real.headers.length).toBe(real.files.size + 1);
    expect(await importCase(parent, real.gz)).toBe('imported');
    expect(await importCase(parent, gzip(tarOf([...real.files].map(([path, body]) => ({ path, type: '0', body })).concat(sumsFor([...real.files].map(([path, body]) => ({ path, type: '0', body })), 'right') ?? []))))).toBe('imported');
  });

  it('refuses what crashed or left files behind before, naming the bundle and leaving no partial import', async () => {
    const files = (entries: [string, string][]): RawEntry[] => entries.map(([path, body]) => ({ path, type: '0', body: Buffer.from(body), longName: 'pax' }));
    const signed = (entries: RawEntry[]): Buffer => gzip(tarOf([...entries, sumsFor(entries, 'right') as RawEntry]));
    const deep = Array.from({ length: 20 }, (_, index) => `${index}`.padEnd(250, 'd')).join('/');
    const cases: [string, Buffer, RegExp, ErrorCode][] = [
      // tar took zstd's magic number for zstd and threw a TypeError out of its stream on Node 20 (no zstd there).
      ['zstd magic', Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.alloc(600, 7)]), /is not a readable \.tar\.gz bundle/, 'invalid-input'],
      // A file that is also a folder of other files: EEXIST from writeFile, with the files before it left behind.
      ['file and folder', signed(files([['runs', 'a file'], ['runs/x/run.json', '{}']])), /entry "runs" is a file and also the folder of other files.*nothing was extracted/, 'invalid-input'],
      // A name over 255 bytes: ENAMETOOLONG from mkdir, mid-import.
      ['long name', signed(files([[`runs/${'y'.repeat(256)}`, '{}']])), /has a name longer than 255 bytes/, 'invalid-input'],
      // Names each short enough, a path too long for the file system: what was written is removed again.
      ['long path', signed(files([['manifest.json', '{}'], ...Array.from({ length: 40 }, (_, index): [string, string] => [`runs/${index}.json`, '{}']), [deep, 'deep']])), /cannot import .*ENAMETOOLONG.*nothing was imported/, 'io'],
    ];
    for (const [name, bytes, reason, code] of cases) {
      const bundle = join(parent, 'fuzzed.tar.gz');
      await writeFile(bundle, bytes);
      const error = await importBundle(join(parent, 'ws'), bundle).then(() => null, (thrown: unknown) => thrown);
      expect(expectRefusal(error, bundle, [code]).message, name).toMatch(reason);
      expect((await tree(join(parent, 'ws'))).filter((path) => path !== 'imports/'), name).toEqual([]);
      expect(await readdir(parent), name).toEqual(['fuzzed.tar.gz', 'ws']);
    }
    // A manifest of the wrong shape was cast and used: manifest.runs.map threw a TypeError in `cnlab bundle verify`.
    for (const [text, reason] of [
      ['{"bundleFormat": 1, "cnlabVersion": "1.0.0", "createdAt": "x", "runs": 1}', /runs: Invalid input: expected array/],
      ['{"bundleFormat": 1, "cnlabVersion": "1.0.0", "createdAt": "x", "runs": [{"runId": "../../x", "name": "n", "state": "completed", "createdAt": "x"}]}', /runs\.0\.runId: a run id has/],
      ['{"bundleFormat": 2, "runs": "later"}', /is a bundle of format 2; this cnlab reads format 1: upgrade cnlab/],
      ['null', /manifest\.json is not a cnlab bundle manifest/],
      ['{', /manifest\.json is not valid JSON/],
    ] as const) {
      expect(expectRefusal(thrownBy(() => parseBundleManifest(text, 'fuzzed.tar.gz')), 'fuzzed.tar.gz').message).toMatch(reason);
    }
  });

  it('imports or refuses each archive with a CnlabError naming it, writing nothing outside imports/<bundle>/', { timeout: 120_000 }, async () => {
    const outcomes = { imported: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(bundleInputs(real), async (input) => {
        outcomes[await importCase(parent, input.bytes)]++;
      }),
      { numRuns: RUNS, seed: 10_002, plugins: [fc.timeout(CASE_TIMEOUT_MS)] },
    );
    // Both sides are exercised: a fuzzer that only ever met refusals would prove little.
    expect(outcomes.imported).toBeGreaterThan(RUNS / 20);
    expect(outcomes.refused).toBeGreaterThan(RUNS / 2);
    expect(await escapes(['/', '/tmp', '/dev/shm', tmpdir(), scratch, parent, join(parent, 'ws')])).toEqual([]);
  });
});

describe(`bundle manifests under ${RUNS.toLocaleString('en-US')} fuzzed inputs`, () => {
  it('reads or refuses each manifest with a CnlabError naming the bundle', async () => {
    const source = join(scratch, 'manifest-source');
    const ids = await writeSyntheticRuns(source, 2);
    const file = join(scratch, 'manifest.tar.gz');
    await exportRunBundle(new RunStore(source), ids, file);
    const text = (await readBundleArchive(file)).get('manifest.json')?.toString('utf8') ?? '';
    expect(parseBundleManifest(text, file).runs.map((run) => run.runId)).toEqual(ids);
    const inputs = fc.oneof(
      { weight: 1, arbitrary: fc.string({ maxLength: 200, unit: 'grapheme' }) },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value)) },
      { weight: 4, arbitrary: mutatedData([JSON.parse(text) as unknown]).map((value) => JSON.stringify(value) ?? '') },
      { weight: 2, arbitrary: mutatedText([text]).map((bytes) => bytes.toString('utf8')) },
    );
    fc.assert(
      fc.property(inputs, (input) => {
        try {
          const manifest = parseBundleManifest(input, 'fuzzed.tar.gz');
          for (const run of manifest.runs) expect(run.runId).toMatch(/^[A-Za-z0-9_][A-Za-z0-9._-]*$/);
        } catch (error) {
          expectRefusal(error, 'fuzzed.tar.gz');
        }
      }),
      { numRuns: RUNS, seed: 10_003 },
    );
  });
});
