// How many rounds a fault-campaign test runs: a short campaign inside `npm test` (each file under a
// minute), the full one under `npm run soak` (CNLAB_SOAK=1), as issue 10 asks.

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
