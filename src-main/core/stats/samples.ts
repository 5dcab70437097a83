// Input checks shared by every statistic: a NaN or Infinity from a broken parser must stop here, loudly,
// instead of turning a whole table into NaN or, worse, into a plausible-looking wrong number.
import { CnlabError } from '../errors.ts';

/** Throws `invalid-input` naming the first bad sample (index and value) and what was being measured. */
export function checkSamples(samples: readonly number[], label = 'samples'): void {
  if (!Array.isArray(samples)) {
    throw new CnlabError('invalid-input', `${label}: expected an array of numbers, got ${typeof samples}`, { label });
  }
  if (samples.length === 0) {
    throw new CnlabError('invalid-input', `${label}: no samples — the cell produced no measurements`, {
      label,
      problem: 'empty',
    });
  }
  for (let i = 0; i < samples.length; i++) {
    const value = samples[i];
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      const shown = typeof value === 'number' ? String(value) : `${typeof value} ${JSON.stringify(value)}`;
      throw new CnlabError(
        'invalid-input',
        `${label}: sample #${i + 1} is ${shown}, not a finite number — check the parser output for this run`,
        { label, index: i, value: shown, problem: Number.isNaN(value) ? 'nan' : 'not-finite' },
      );
    }
  }
}
