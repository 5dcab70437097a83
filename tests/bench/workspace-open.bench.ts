// Opening a workspace of 10,000 runs (issue 7; target under 1 s): the runs list as the console asks for it
// on open (listRuns through the dispatcher → ExperimentService.list → run-listing-index.ts), cold (no
// runs/index.json: the first open after an import or an upgrade, every run's files read) and warm (the
// index read, one stat per run). Floor, in the same run: listing runs/ and stat-ing the 10,000 run.json
// files, which is what any list of the runs must do at least. The files are in the page cache throughout.
import { readdirSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunListingView } from '../../src-main/contract/lab-api';
import { openTestConsole } from '../support/lab-console';
import { writeSyntheticRuns } from '../support/synthetic-runs';
import { formatSummary, summarise, type Summary } from './stats';

const RUNS = 10_000;
const COLD_REPEATS = 3;
const WARM_REPEATS = 7;
const TARGET_MS = 1000;

const ratio = (value: Summary, floor: Summary): string => `${(value.median / Math.max(floor.median, 1e-9)).toFixed(1)}x of floor`;
const verdict = (value: Summary): string => `target < ${TARGET_MS} ms: ${value.max < TARGET_MS ? 'met' : value.median < TARGET_MS ? 'met at the median, not every time' : 'MISSED'}`;

export async function benchWorkspaceOpen(): Promise<string> {
  const console = await openTestConsole('cnlab-bench-workspace-open-');
  try {
    await writeSyntheticRuns(console.workspaceDir, RUNS);
    const runsDir = join(console.workspaceDir, 'runs');
    const list = async (): Promise<number> => {
      const started = performance.now();
      const runs = await console.value<RunListingView[]>('listRuns');
      const elapsed = performance.now() - started;
      if (runs.length !== RUNS) throw new Error(`listRuns gave ${runs.length} runs, not ${RUNS}`);
      return elapsed;
    };
    const floor: number[] = [];
    const cold: number[] = [];
    const warm: number[] = [];
    for (let repeat = 0; repeat < COLD_REPEATS; repeat++) {
      await rm(join(runsDir, 'index.json'), { force: true });
      cold.push(await list());
    }
    for (let repeat = 0; repeat < WARM_REPEATS; repeat++) {
      const started = performance.now();
      for (const entry of readdirSync(runsDir, { withFileTypes: true })) if (entry.isDirectory()) statSync(join(runsDir, entry.name, 'run.json'));
      floor.push(performance.now() - started);
      warm.push(await list());
    }
    const floorSummary = summarise(floor);
    const coldSummary = summarise(cold);
    const warmSummary = summarise(warm);
    return [
      '## Opening a workspace of 10,000 runs (issue 7)',
      '',
      `${RUNS.toLocaleString('en')} synthetic completed runs (the Results bench's, written by the real run store: run.json about 4 KB, samples.jsonl about 12 KB each). Timed: the console's \`listRuns\` request through the dispatcher, as the Results view asks on open; min / median / max. Cold: runs/index.json removed before each of ${COLD_REPEATS} repeats, so every run's record and samples are read and the index written again; warm: ${WARM_REPEATS} repeats with the index in place. Files in the page cache throughout (a disk that has to seek is slower on the cold path). Floor: reading runs/ and one stat of each run.json (synchronously, the fastest way in Node), alternating with the warm repeats.`,
      '',
      '| figure | min / median / max | ratio (median) / target |',
      '|---|---|---|',
      `| floor: readdir runs/ + stat 10,000 run.json | ${formatSummary(floorSummary)} | 1.0x |`,
      `| runs list, index warm | ${formatSummary(warmSummary)} | ${ratio(warmSummary, floorSummary)}; ${verdict(warmSummary)} |`,
      `| runs list, cold (no index.json) | ${formatSummary(coldSummary)} | ${ratio(coldSummary, floorSummary)}; ${verdict(coldSummary)} |`,
      '',
    ].join('\n');
  } finally {
    await console.dispose();
  }
}
