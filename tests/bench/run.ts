// `npm run bench`: runs every benchmark on this machine and writes BENCHMARKS.md. Ratios against
// floors and peers measured in the same run matter; absolute times drift on shared machines.
// `npm run bench -- experiment examples` re-runs only those benchmarks and replaces their sections.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, release } from 'node:os';
import { join } from 'node:path';
import { applyMarkdown, benchApply } from './apply.bench.ts';
import { benchModes } from './modes.bench.ts';
import { benchConsole } from './console.bench.ts';
import { benchExampleExperiments, benchExperiment } from './experiment.bench.ts';
import { benchExperimentsUi } from './experiments-ui.bench.ts';
import { benchSshLatency, sshLatencyMarkdown } from './ssh-latency.bench.ts';
import { benchBundles } from './bundles.bench.ts';
import { benchWorkspaceOpen } from './workspace-open.bench.ts';
import { benchDocker } from './docker.bench.ts';
import { benchOrchestration } from './orchestration.bench.ts';
import { benchConnectionScale } from './connection-scale.bench.ts';

const BENCHES: Record<string, () => Promise<string>> = {
  ssh: async () => sshLatencyMarkdown(await benchSshLatency()),
  apply: async () => applyMarkdown(await benchApply(100)),
  modes: benchModes,
  experiment: benchExperiment,
  examples: benchExampleExperiments,
  console: benchConsole,
  'experiments-ui': benchExperimentsUi,
  bundles: benchBundles,
  'workspace-open': benchWorkspaceOpen,
  docker: benchDocker,
  orchestration: benchOrchestration,
  'connection-scale': benchConnectionScale,
};

const FILE = join(__dirname, '..', '..', 'BENCHMARKS.md');

/** The `## ` sections of a markdown text, by heading line. */
function sectionsOf(text: string): Map<string, string> {
  const sections = new Map<string, string>();
  for (const part of text.split(/\n(?=## )/).slice(1)) sections.set(part.split('\n')[0] ?? '', part.trimEnd());
  return sections;
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((name) => !BENCHES[name]);
  if (unknown.length > 0) throw new Error(`unknown benchmark ${unknown.join(', ')}: choose from ${Object.keys(BENCHES).join(', ')}`);
  const names = wanted.length > 0 ? wanted : Object.keys(BENCHES);
  const fresh: string[] = [];
  for (const name of names) fresh.push((await (BENCHES[name] as () => Promise<string>)()).trimEnd());
  // Sections not re-run stay as they were, in their place; re-run ones replace theirs (or are appended).
  const kept = wanted.length > 0 && existsSync(FILE) ? sectionsOf(readFileSync(FILE, 'utf8')) : new Map<string, string>();
  for (const section of fresh) kept.set(section.split('\n')[0] ?? '', section);
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}, Node ${process.version}`;
  const text = ['# Benchmarks', '', `Measured ${new Date().toISOString()} on ${machine}${wanted.length > 0 ? ` (re-run: ${names.join(', ')})` : ''}.`, 'Regenerate with `npm run bench` (root on Linux; it starts its own testbed); `npm run bench -- NAME…` re-runs only some.', '', [...kept.values()].join('\n\n'), ''].join('\n');
  writeFileSync(FILE, text);
  process.stdout.write(text);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
