// The live charts' data while a run goes: throughput per stream and per cell, and CPU per host, on one
// time axis (seconds since the experiment started). Bounded: at most 64 throughput series (further streams
// fold into their cell's "other"), at most 600 points each (10 minutes at 1 Hz), oldest dropped. The chart
// asks what changed since it last drew, so each update sends only the series that moved.
import type { LiveSampleView } from '@contract/lab-api';

export interface LiveSeries {
  id: string;
  name: string;
  kind: 'throughput' | 'cpu';
  /** Seconds since the experiment started, and the values there (bit/s or % busy). */
  xs: number[];
  ys: number[];
}

export interface LiveSeriesOptions {
  /** Throughput series kept apart; more streams fold into "<cell> other". Default 64. */
  maxSeries?: number;
  /** Points kept per series. Default 600. */
  maxPoints?: number;
}

const THROUGHPUT = 'throughputBitsPerSecond';
const CPU = 'cpuPercent';

/** "pair3/pair" → "pair3"; "pair1/flows" → "flows": the stream's name within its cell. */
function streamName(source: string): string {
  const [pair, inner] = source.split('/');
  return inner === 'flows' ? 'flows' : (pair ?? source);
}

export class LiveSeriesBuffer {
  private readonly series = new Map<string, LiveSeries>();
  private readonly dirty = new Set<string>();
  private readonly added: string[] = [];
  /** Wall time each run's t = 0 fell on, and the experiment's own start. */
  private readonly runStarts = new Map<string, number>();
  private startedAt: number | null = null;
  private throughputSeries = 0;
  private readonly maxSeries: number;
  private readonly maxPoints: number;

  constructor(options: LiveSeriesOptions = {}) {
    this.maxSeries = options.maxSeries ?? 64;
    this.maxPoints = options.maxPoints ?? 600;
  }

  /** One batch of a run's samples; `cellLabel` names the run's cell in series names. */
  push(key: string, cellLabel: string, samples: readonly LiveSampleView[], arrivedAtMs: number): void {
    for (const sample of samples) {
      if (sample.metric !== THROUGHPUT && sample.metric !== CPU) continue;
      // A run's clock starts at its own t = 0: anchor it at the first batch, so consecutive runs line up.
      const runStart = this.runStarts.get(key) ?? arrivedAtMs - sample.t * 1000;
      this.runStarts.set(key, runStart);
      this.startedAt ??= runStart;
      const x = Math.round(((runStart - this.startedAt) / 1000 + sample.t) * 10) / 10;
      const target = sample.metric === CPU ? this.cpuSeries(sample.source) : this.throughputSeriesFor(cellLabel, streamName(sample.source));
      this.append(target, x, sample.value);
    }
  }

  private cpuSeries(host: string): LiveSeries {
    return this.seriesFor(`cpu:${host}`, host, 'cpu');
  }

  private throughputSeriesFor(cellLabel: string, stream: string): LiveSeries {
    const id = `tp:${cellLabel}:${stream}`;
    if (this.series.has(id) || this.throughputSeries < this.maxSeries - 1) return this.seriesFor(id, `${cellLabel} ${stream}`, 'throughput');
    // The last slot is kept for the folded streams, so the chart never holds more than maxSeries lines.
    return this.seriesFor(`tp:${cellLabel}:other`, `${cellLabel} other streams`, 'throughput');
  }

  private seriesFor(id: string, name: string, kind: LiveSeries['kind']): LiveSeries {
    let found = this.series.get(id);
    if (!found) {
      found = { id, name, kind, xs: [], ys: [] };
      this.series.set(id, found);
      this.added.push(id);
      if (kind === 'throughput') this.throughputSeries++;
    }
    return found;
  }

  /** Streams folded into one series add up at the same second; a repeated second of one stream replaces. */
  private append(target: LiveSeries, x: number, value: number): void {
    const last = target.xs.length - 1;
    if (last >= 0 && target.xs[last] === x) {
      target.ys[last] = target.id.endsWith(':other') ? (target.ys[last] ?? 0) + value : value;
    } else {
      target.xs.push(x);
      target.ys.push(value);
      if (target.xs.length > this.maxPoints) {
        target.xs.splice(0, target.xs.length - this.maxPoints);
        target.ys.splice(0, target.ys.length - this.maxPoints);
      }
    }
    this.dirty.add(target.id);
  }

  /** Series that changed since the last drain, and whether new ones appeared (then the chart redraws all). */
  drain(): { changed: LiveSeries[]; added: boolean } {
    const changed = [...this.dirty].map((id) => this.series.get(id)).filter((entry): entry is LiveSeries => entry !== undefined);
    const added = this.added.length > 0;
    this.dirty.clear();
    this.added.length = 0;
    return { changed, added };
  }

  /** Every series, throughput first then CPU, in the order they appeared. */
  snapshot(): LiveSeries[] {
    const all = [...this.series.values()];
    return [...all.filter((entry) => entry.kind === 'throughput'), ...all.filter((entry) => entry.kind === 'cpu')];
  }

  pointCount(): number {
    let count = 0;
    for (const entry of this.series.values()) count += entry.xs.length;
    return count;
  }

  reset(): void {
    this.series.clear();
    this.dirty.clear();
    this.added.length = 0;
    this.runStarts.clear();
    this.startedAt = null;
    this.throughputSeries = 0;
  }
}

export interface DisplayOptions {
  /** The newest seconds drawn at full (1 s) resolution. Default 60. */
  recentSeconds?: number;
  /** Older points drawn as the mean of each bucket of this many seconds. Default 10. */
  bucketSeconds?: number;
}

/**
 * The points a chart draws for a series: the last minute as measured, everything before it averaged per
 * 10 s. 64 series × 10 minutes is then about 64 × 114 points per redraw instead of 64 × 600, which is what
 * keeps a software-rendered canvas under a frame's budget; the full seconds stay in the buffer.
 */
export function displayPoints(series: Pick<LiveSeries, 'xs' | 'ys'>, options: DisplayOptions = {}): [number, number][] {
  const recent = options.recentSeconds ?? 60;
  const bucket = options.bucketSeconds ?? 10;
  const latest = series.xs[series.xs.length - 1];
  if (latest === undefined) return [];
  const cut = latest - recent;
  const points: [number, number][] = [];
  let bucketStart = Number.NaN;
  let sumX = 0;
  let sumY = 0;
  let count = 0;
  const flush = (): void => {
    if (count > 0) points.push([sumX / count, sumY / count]);
    sumX = 0;
    sumY = 0;
    count = 0;
  };
  for (let index = 0; index < series.xs.length; index++) {
    const x = series.xs[index] ?? 0;
    const y = series.ys[index] ?? 0;
    if (x > cut) {
      flush();
      points.push([x, y]);
      continue;
    }
    const start = Math.floor(x / bucket) * bucket;
    if (start !== bucketStart) {
      flush();
      bucketStart = start;
    }
    sumX += x;
    sumY += y;
    count++;
  }
  flush();
  return points;
}
