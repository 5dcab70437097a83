// Tests of the run folder in a temporary workspace: new run ids (unique, sortable), run.json round trip,
// samples appended and read back, a torn last line skipped and sealed before the next append, opening a
// run by id or prefix with the errors for ambiguous, unknown and malformed ids, and commands.log lines.
import { appendFile, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rejectedCnlabError } from '../../../tests/support/cnlab-error';
import { experimentFingerprint, experimentFromData } from './experiment-schema';
import { planRuns } from './matrix';
import { countMeasured, formatCommandLine, newRunRecord, parseSampleLines, RunStore, type ResultLine, type RunRecord, type SampleLine } from './run-store';

let workspace: string;

beforeEach(async () => {
  workspace = await mkdtemp(join(tmpdir(), 'cnlab-run-store-'));
});

afterEach(async () => {
  await rm(workspace, { recursive: true, force: true });
});

function recordFor(runId: string): RunRecord {
  const experiment = experimentFromData({ v: 1, kind: 'experiment', name: 'quick', hosts: ['h1'], placement: { server: 'h1', client: 'h1' }, modes: ['bridge'], workload: { tool: 'iperf3' } });
  const plan = planRuns(experiment, 4);
  return newRunRecord(
    { runId, experimentFile: 'quick.yaml', experiment, fingerprint: experimentFingerprint(experiment), hostMap: { h1: 'lab-a' }, cnlabVersion: '0.1.0', seed: 4, cells: plan.cells, blocks: plan.blocks },
    '2026-11-22T05:15:00.000Z',
  );
}

function result(key: string, value: number): ResultLine {
  return { type: 'result', key, cellIndex: 0, repetition: 1, warmup: false, startedAt: '2026-11-22T05:15:01.000Z', durationMs: 3000, metrics: { throughputBitsPerSecond: value } };
}

describe('RunStore.create', () => {
  it('names runs by UTC time and experiment, unique when created in the same second', async () => {
    const store = new RunStore(workspace);
    const now = new Date('2026-11-22T05:15:00.123Z');
    const first = await store.create('quick', now);
    const second = await store.create('quick', now);
    const third = await store.create('quick', now);
    expect([first.runId, second.runId, third.runId]).toEqual(['20261122-051500-quick', '20261122-051500-quick-2', '20261122-051500-quick-3']);
    expect(first.dir).toBe(join(workspace, 'runs', '20261122-051500-quick'));
    expect(await store.list()).toEqual([first.runId, second.runId, third.runId]);
  });

  it('lists runs in time order', async () => {
    const store = new RunStore(workspace);
    const later = await store.create('alpha', new Date('2026-11-22T05:15:01Z'));
    const earlier = await store.create('zulu', new Date('2026-11-22T05:15:00Z'));
    const nextDay = await store.create('alpha', new Date('2026-11-23T00:00:00Z'));
    expect(await store.list()).toEqual([earlier.runId, later.runId, nextDay.runId]);
  });

  it('lists nothing before the first run', async () => {
    expect(await new RunStore(workspace).list()).toEqual([]);
  });
});

describe('RunFolder', () => {
  it('saves and reads run.json back, leaving no temp file', async () => {
    const folder = await new RunStore(workspace).create('quick');
    const record = recordFor(folder.runId);
    await folder.saveRecord(record);
    expect(await folder.readRecord()).toEqual(record);
    await folder.saveRecord({ ...record, state: 'completed' });
    expect((await folder.readRecord()).state).toBe('completed');
    expect(await readdir(folder.dir)).toEqual(['run.json']);
  });

  it('refuses a folder without run.json and a record of another format', async () => {
    const folder = await new RunStore(workspace).create('quick');
    const missing = await rejectedCnlabError(folder.readRecord());
    expect(missing.code).toBe('not-found');
    expect(missing.message).toContain('has no run.json');
    await writeFile(join(folder.dir, 'run.json'), JSON.stringify({ ...recordFor(folder.runId), formatVersion: 2 }));
    const newer = await rejectedCnlabError(folder.readRecord());
    expect(newer.code).toBe('invalid-input');
    expect(newer.message).toContain('format version 2 is not supported');
  });

  it('refuses a run.json that is not a run record, naming the field (a re-signed bundle can carry one)', async () => {
    const folder = await new RunStore(workspace).create('quick');
    const record = recordFor(folder.runId);
    const cases: [unknown, string][] = [
      [null, 'the record'],
      [[], 'the record'],
      [{ ...record, cells: null }, 'cells'],
      [{ ...record, runId: '../../etc' }, 'runId'],
      [{ ...record, state: 'exploded' }, 'state'],
      [{ ...record, hostFacts: { h1: 'x' } }, 'hostFacts.h1'],
      [{ ...record, blocks: [{ caseLabel: 'bridge', runs: [{ key: 'a' }] }] }, 'blocks.0.runs.0.cellIndex'],
      [{ ...record, experiment: { name: 'quick' } }, 'experiment.workload'],
    ];
    for (const [value, field] of cases) {
      await writeFile(join(folder.dir, 'run.json'), JSON.stringify(value));
      const error = await rejectedCnlabError(folder.readRecord());
      expect(error.code).toBe('invalid-input');
      expect(error.message).toContain(`is not a cnlab run record (${field}`);
      expect(error.message).toContain(join(folder.dir, 'run.json'));
      expect(() => folder.readRecordSync()).toThrow(error.message);
    }
  });

  it('appends samples and reads them back in order', async () => {
    const folder = await new RunStore(workspace).create('quick');
    expect(await folder.readSamples()).toEqual([]);
    const lines: SampleLine[] = [result('0.r1', 1e9), { type: 'live', key: '0.r2', t: 1, metric: 'throughputBitsPerSecond', value: 9e8, source: 'client' }];
    await folder.appendSamples(lines);
    await folder.appendSamples([]);
    await folder.appendSamples([result('0.r2', 2e9)]);
    expect(await folder.readSamples()).toEqual([...lines, result('0.r2', 2e9)]);
  });

  it('skips a torn last line, and seals it so the next append starts clean', async () => {
    const folder = await new RunStore(workspace).create('quick');
    await folder.appendSamples([result('0.r1', 1e9)]);
    await appendFile(join(folder.dir, 'samples.jsonl'), '{"type":"result","key":"0.r2","met');
    expect(await folder.readSamples()).toEqual([result('0.r1', 1e9)]);
    await folder.sealTornLines();
    await folder.sealTornLines();
    await folder.appendSamples([result('0.r2', 2e9)]);
    expect(await folder.readSamples()).toEqual([result('0.r1', 1e9), result('0.r2', 2e9)]);
    const text = await readFile(join(folder.dir, 'samples.jsonl'), 'utf8');
    expect(text.split('\n')).toHaveLength(4);
  });

  it('loses the next line without sealing (why sealing matters)', async () => {
    const folder = await new RunStore(workspace).create('quick');
    await appendFile(join(folder.dir, 'samples.jsonl'), '{"type":"res');
    await folder.appendSamples([result('0.r1', 1e9)]);
    expect(await folder.readSamples()).toEqual([]);
  });

  it('seals commands.log too, and leaves whole files alone', async () => {
    const folder = await new RunStore(workspace).create('quick');
    await folder.appendCommands('a\tb\n');
    await folder.appendSamples([result('0.r1', 1e9)]);
    await folder.sealTornLines();
    expect(await readFile(join(folder.dir, 'commands.log'), 'utf8')).toBe('a\tb\n');
    await folder.appendCommands('torn');
    await folder.sealTornLines();
    await folder.appendCommands('next\n');
    expect(await readFile(join(folder.dir, 'commands.log'), 'utf8')).toBe('a\tb\ntorn\nnext\n');
  });

  it('saves raw outputs under safe names', async () => {
    const folder = await new RunStore(workspace).create('quick');
    await folder.saveRaw('../0.r1 iperf3/client.json', '{}');
    expect(await readdir(join(folder.dir, 'raw'))).toEqual(['.._0.r1_iperf3_client.json']);
  });
});

describe('parseSampleLines', () => {
  it('skips blank lines, torn lines and JSON that is not a sample line', () => {
    expect(parseSampleLines(`\n${JSON.stringify(result('0.r1', 1))}\n42\nnull\n{"no":"type"}\n{"type":\n`)).toEqual([result('0.r1', 1)]);
  });

  it('leaves out live samples unparsed when asked (the runs list needs only results and failures)', () => {
    const live: SampleLine = { type: 'live', key: '0.r1', t: 1, metric: 'throughputBitsPerSecond', value: 1e9, source: 'pair1/pair' };
    const text = [live, result('0.r1', 1), live].map((line) => JSON.stringify(line)).join('\n');
    expect(parseSampleLines(text)).toHaveLength(3);
    expect(parseSampleLines(text, { skipLive: true })).toEqual([result('0.r1', 1)]);
  });
});

describe('countMeasured', () => {
  it('counts distinct measured result keys and measured failures from the lines\' heads, as a full parse would', () => {
    const failure: SampleLine = { type: 'failure', key: '1.r1', cellIndex: 1, repetition: 1, warmup: false, startedAt: '2026-11-22T05:15:01.000Z', durationMs: 5, error: { code: 'timeout', message: 'x' } };
    const warm: SampleLine = { ...result('0.w1', 1), warmup: true };
    const reordered = JSON.stringify({ key: '2.r1', type: 'result', warmup: false, metrics: {} });
    const lines = [
      JSON.stringify({ type: 'live', key: '0.r1', t: 1, metric: 'm', value: 1, source: 's' }),
      JSON.stringify(result('0.r1', 1)),
      JSON.stringify(result('0.r1', 2)), // a retried run: one key
      JSON.stringify(result('weird "key"', 3)),
      JSON.stringify(warm),
      JSON.stringify(failure),
      reordered, // another shape: parsed whole
      '{"type":"result","key":"torn',
    ].join('\n');
    const full = parseSampleLines(lines).filter((line) => line.type !== 'live' && !line.warmup);
    expect(countMeasured(lines)).toEqual({ results: new Set(full.filter((line) => line.type === 'result').map((line) => line.key)).size, failures: full.filter((line) => line.type === 'failure').length });
    expect(countMeasured(lines)).toEqual({ results: 3, failures: 1 });
  });
});

describe('RunStore.open', () => {
  it('opens a run by its id or a unique prefix', async () => {
    const store = new RunStore(workspace);
    const quick = await store.create('quick', new Date('2026-11-22T05:15:00Z'));
    await store.create('quick', new Date('2026-11-22T05:15:00Z'));
    const other = await store.create('other', new Date('2026-11-23T06:00:00Z'));
    expect((await store.open(quick.runId)).dir).toBe(quick.dir);
    expect((await store.open('20261123')).dir).toBe(other.dir);
  });

  it('refuses an ambiguous prefix, naming the candidates', async () => {
    const store = new RunStore(workspace);
    const first = await store.create('quick', new Date('2026-11-22T05:15:00Z'));
    const second = await store.create('slow', new Date('2026-11-22T05:16:00Z'));
    const error = await rejectedCnlabError(store.open('20261122'));
    expect(error.code).toBe('invalid-input');
    expect(error.message).toContain('is ambiguous');
    expect(error.message).toContain(first.runId);
    expect(error.message).toContain(second.runId);
  });

  it('refuses an unknown id as not found', async () => {
    const store = new RunStore(workspace);
    await store.create('quick', new Date('2026-11-22T05:15:00Z'));
    const error = await rejectedCnlabError(store.open('20250101'));
    expect(error.code).toBe('not-found');
    expect(error.message).toContain('no run 20250101');
  });

  it.each(['../etc', 'a/b', 'run id', '', 'x;rm'])('refuses "%s" as a run id', async (runId) => {
    const error = await rejectedCnlabError(new RunStore(workspace).open(runId));
    expect(error.code).toBe('invalid-input');
    expect(error.message).toContain('is not a run id');
  });
});

describe('formatCommandLine', () => {
  it('writes one tab-separated line with the exit code', () => {
    expect(formatCommandLine({ host: 'h1', command: 'iperf3 -c 10.0.0.2', exitCode: 0, durationMs: 1234.6, startedAt: '2026-11-22T05:15:00.000Z' }, '0.r1')).toBe(
      '2026-11-22T05:15:00.000Z\t0.r1\th1\texit 0\t1235ms\tiperf3 -c 10.0.0.2\n',
    );
  });

  it('escapes tabs, newlines and backslashes so a command stays on its line', () => {
    const line = formatCommandLine({ host: 'h1', command: "sh -c 'a\tb\nc\\d'", exitCode: null, durationMs: 5, startedAt: 't', error: 'timed out\nafter 5 s' }, '1.w1');
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
    const fields = line.slice(0, -1).split('\t');
    expect(fields).toEqual(['t', '1.w1', 'h1', 'error: timed out\\nafter 5 s', '5ms', "sh -c 'a\\tb\\nc\\\\d'"]);
  });

  it('says signal when there is no exit code and no error', () => {
    expect(formatCommandLine({ host: 'h2', command: 'sleep 9', exitCode: null, durationMs: 0, startedAt: 't' }, 'k').split('\t')[3]).toBe('exit signal');
  });
});
