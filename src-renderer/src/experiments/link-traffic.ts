// Per-link throughput for the live diagram: the newest rx/tx rates the hosts' samplers reported for each
// lab interface ("h1/<ifname>"), how old they are, and how an edge is drawn for a rate (width, colour, label).
import type { LiveSampleView } from '@contract/lab-api';

/** A counter older than this is stale: the link is idle or its run ended. */
export const STALE_AFTER_MS = 3000;

interface Rates {
  rxBytesPerSecond: number;
  txBytesPerSecond: number;
  at: number;
}

export class LinkRates {
  private readonly rates = new Map<string, Rates>();

  /** Takes the interface rates of a batch of live samples; other metrics are ignored. */
  push(samples: readonly LiveSampleView[], nowMs = Date.now()): void {
    for (const sample of samples) {
      if (sample.metric !== 'rxBytesPerSecond' && sample.metric !== 'txBytesPerSecond') continue;
      const entry = this.rates.get(sample.source) ?? { rxBytesPerSecond: 0, txBytesPerSecond: 0, at: nowMs };
      entry[sample.metric] = sample.value;
      entry.at = nowMs;
      this.rates.set(sample.source, entry);
    }
  }

  /**
   * Bits per second through `host`'s interface: the larger direction, not the sum, because a veth carries a
   * one-way bulk flow plus its ACKs, and the sum would count the ACK stream as throughput. Null when the
   * interface has no fresh counter.
   */
  rateOf(host: string, ifname: string, nowMs = Date.now()): { bitsPerSecond: number; at: number } | null {
    const entry = this.rates.get(`${host}/${ifname}`);
    if (!entry || nowMs - entry.at > STALE_AFTER_MS) return null;
    return { bitsPerSecond: 8 * Math.max(entry.rxBytesPerSecond, entry.txBytesPerSecond), at: entry.at };
  }

  reset(): void {
    this.rates.clear();
  }
}

export type TrafficLevel = 'idle' | 'low' | 'mid' | 'high';

/** Width 1..8 on a log scale of the busiest link; colour by share of it; null: the link has no counter. */
export function trafficStyle(bitsPerSecond: number | null, maxBitsPerSecond: number): { width: number; color: TrafficLevel; label: string } {
  if (bitsPerSecond === null) return { width: 1, color: 'idle', label: 'no counter' };
  // Below 1 kbit/s a link carries only ARP and keepalives.
  if (bitsPerSecond < 1000) return { width: 1, color: 'idle', label: 'idle' };
  const max = Math.max(maxBitsPerSecond, bitsPerSecond);
  const share = Math.log10(bitsPerSecond / 1000) / Math.max(Math.log10(max / 1000), 1e-9);
  const width = 1 + Math.round(7 * Math.min(1, Math.max(0, share)));
  const fraction = bitsPerSecond / max;
  return { width, color: fraction >= 0.66 ? 'high' : fraction >= 0.2 ? 'mid' : 'low', label: formatBitsPerSecond(bitsPerSecond) };
}

export function formatBitsPerSecond(value: number): string {
  const units = ['bit/s', 'kbit/s', 'Mbit/s', 'Gbit/s', 'Tbit/s'];
  let scaled = value;
  let unit = 0;
  while (Math.abs(scaled) >= 1000 && unit < units.length - 1) {
    scaled /= 1000;
    unit++;
  }
  return `${scaled >= 100 || unit === 0 ? scaled.toFixed(0) : scaled.toFixed(scaled >= 10 ? 1 : 2)} ${units[unit]}`;
}
