// `npm run bench`: runs every benchmark on this machine and writes BENCHMARKS.md. Ratios against
// floors and peers measured in the same run matter; absolute times drift on shared machines.
import { writeFileSync } from 'node:fs';
import { cpus, totalmem, release } from 'node:os';
import { join } from 'node:path';
import { applyMarkdown, benchApply } from './apply.bench.ts';
import { benchModes } from './modes.bench.ts';
import { benchExampleExperiments, benchExperiment } from './experiment.bench.ts';
import { benchSshLatency, sshLatencyMarkdown } from './ssh-latency.bench.ts';

async function main(): Promise<void> {
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}, Node ${process.version}`;
  const sections = [sshLatencyMarkdown(await benchSshLatency()), applyMarkdown(await benchApply(100)), await benchModes(), await benchExperiment(), await benchExampleExperiments()];
  const text = ['# Benchmarks', '', `Measured ${new Date().toISOString()} on ${machine}.`, 'Regenerate with `npm run bench` (root on Linux; it starts its own testbed).', '', ...sections].join('\n');
  writeFileSync(join(__dirname, '..', '..', 'BENCHMARKS.md'), text);
  process.stdout.write(text);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
