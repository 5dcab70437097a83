// Small helpers for benchmarks: repeat a timed action and summarise as min / median / max.
export interface Summary {
  min: number;
  median: number;
  max: number;
  runs: number;
}

export function summarise(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
  return { min: sorted[0] ?? 0, median, max: sorted[sorted.length - 1] ?? 0, runs: sorted.length };
}

export async function timeRepeated(runs: number, action: () => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const started = performance.now();
    await action();
    samples.push(performance.now() - started);
  }
  return samples;
}

export function formatSummary(summary: Summary, unit = 'ms'): string {
  return `${summary.min.toFixed(2)} / ${summary.median.toFixed(2)} / ${summary.max.toFixed(2)} ${unit}`;
}
