// How many rounds a fault-campaign test runs: a short campaign inside `npm test` (each file under a
// minute), the full one under `npm run soak` (CNLAB_SOAK=1), as issue 10 asks; and the seeded choices
// that let a failing campaign be replayed.
import { seededRandom } from '../../src-main/core/experiment/matrix';

/** True under `npm run soak`. */
export const SOAK = process.env.CNLAB_SOAK === '1';

/** The rounds of one campaign: `quick` in `npm test`, `soak` (the 50 by default) under `npm run soak`. */
export function campaignRounds(quick: number, soak = 50): number {
  return SOAK ? soak : quick;
}

/** A test timeout for `rounds` rounds of about `perRoundMs` each, plus set-up slack. */
export function campaignTimeout(rounds: number, perRoundMs: number, slackMs = 30_000): number {
  return rounds * perRoundMs + slackMs;
}

/** A campaign's seed: CNLAB_FAULT_SEED replays one; a soak draws a new one; `npm test` uses the file's fixed seed. */
export function campaignSeed(fixed: number): number {
  if (process.env.CNLAB_FAULT_SEED) return Number(process.env.CNLAB_FAULT_SEED);
  return SOAK ? Date.now() % 2 ** 31 : fixed;
}

/** The seeded choices of a campaign: a number in [0, 1), an integer in [low, high], one of a list. */
export function campaignRandom(seed: number): { random: () => number; between: (low: number, high: number) => number; pick: <T>(items: readonly T[]) => T } {
  const random = seededRandom(seed);
  const between = (low: number, high: number): number => low + Math.floor(random() * (high - low + 1));
  return { random, between, pick: <T>(items: readonly T[]): T => items[between(0, items.length - 1)] as T };
}
