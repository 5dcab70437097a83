// Kendall's tau-b: how far two rankings of the same items agree (1 same order, −1 reversed, 0 unrelated),
// with ties counted as neither. simple-statistics has Pearson and Spearman but not Kendall; with the handful
// of networks a study ranks, the O(n²) pair count is the clearest and fast enough.

/** tau-b of the pairs (x[i], y[i]); null when fewer than 2 pairs or one side is all ties (no order to compare). */
export function kendallTauB(x: readonly number[], y: readonly number[]): number | null {
  if (x.length !== y.length) throw new Error(`kendallTauB: ${x.length} x values against ${y.length} y values`);
  let concordant = 0;
  let discordant = 0;
  let tiedX = 0;
  let tiedY = 0;
  for (let i = 0; i < x.length; i += 1) {
    for (let j = i + 1; j < x.length; j += 1) {
      const dx = Math.sign((x[i] as number) - (x[j] as number));
      const dy = Math.sign((y[i] as number) - (y[j] as number));
      if (dx === 0 && dy === 0) continue;
      if (dx === 0) tiedX += 1;
      else if (dy === 0) tiedY += 1;
      else if (dx === dy) concordant += 1;
      else discordant += 1;
    }
  }
  const denominator = Math.sqrt((concordant + discordant + tiedX) * (concordant + discordant + tiedY));
  return denominator === 0 ? null : (concordant - discordant) / denominator;
}
