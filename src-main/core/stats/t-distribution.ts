// Student-t and normal quantiles computed here instead of pulling @stdlib (223 packages, 26 MB for one function).
// Method: exact tail probabilities (regularized incomplete beta / gamma, Lentz continued fractions) inverted by safeguarded Newton.

import { CnlabError } from '../errors.ts';

// Lanczos (g = 7, n = 9): ~15 significant digits for x > 0, plenty for degrees of freedom up to the
// asymptotic cut-over below, where cancellation between the log-gamma terms would start to cost digits.
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

export function logGamma(x: number): number {
  if (x < 0.5) {
    // Reflection keeps the series in the range where it is accurate.
    return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  }
  const z = x - 1;
  let sum = LANCZOS[0] as number;
  for (let i = 1; i < LANCZOS.length; i++) sum += (LANCZOS[i] as number) / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

const TINY = 1e-300;
const EPS = 1e-16;
const MAX_ITERATIONS = 10_000;

/** Continued fraction for the incomplete beta (modified Lentz), valid where x < (a+1)/(a+b+2). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= MAX_ITERATIONS; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPS) return h;
  }
  throw new CnlabError('internal', `incomplete beta did not converge (x=${x}, a=${a}, b=${b})`);
}

/**
 * Regularized incomplete beta I_x(a, b). Takes 1−x separately because callers can compute it without
 * the cancellation that `1 - x` suffers when x is close to 1 (large t, small degrees of freedom).
 */
export function incompleteBeta(x: number, a: number, b: number, oneMinusX = 1 - x): number {
  if (x <= 0) return 0;
  if (oneMinusX <= 0) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(oneMinusX));
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(x, a, b)) / a;
  return 1 - (front * betaContinuedFraction(oneMinusX, b, a)) / b;
}

/** Upper regularized incomplete gamma Q(a, x): series below a+1, continued fraction above. */
function upperIncompleteGamma(a: number, x: number): number {
  if (x <= 0) return 1;
  const logFront = a * Math.log(x) - x - logGamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n <= MAX_ITERATIONS; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * EPS) break;
    }
    return 1 - sum * Math.exp(logFront);
  }
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i <= MAX_ITERATIONS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPS) break;
  }
  return Math.exp(logFront) * h;
}

/** P(Z > z) for the standard normal; computed as a tail so that small probabilities keep their digits. */
export function normalUpperTail(z: number): number {
  if (z < 0) return 1 - normalUpperTail(-z);
  return 0.5 * upperIncompleteGamma(0.5, (z * z) / 2);
}

function normalDensity(z: number): number {
  return Math.exp((-z * z) / 2) / Math.sqrt(2 * Math.PI);
}

/** P(T > t) for Student's t with `df` degrees of freedom (df may be fractional, as Welch's df is). */
export function tUpperTail(t: number, df: number): number {
  checkDegreesOfFreedom(df);
  if (df === Infinity) return normalUpperTail(t);
  if (t < 0) return 1 - tUpperTail(-t, df);
  const t2 = t * t;
  return 0.5 * incompleteBeta(df / (df + t2), df / 2, 0.5, t2 / (df + t2));
}

/** Cumulative distribution P(T ≤ t). */
export function tCdf(t: number, df: number): number {
  return 1 - tUpperTail(t, df);
}

function tDensity(t: number, df: number): number {
  const logC = logGamma((df + 1) / 2) - logGamma(df / 2) - 0.5 * Math.log(df * Math.PI);
  return Math.exp(logC - ((df + 1) / 2) * Math.log1p((t * t) / df));
}

/**
 * Finds z > 0 with tail(z) = q by Newton's method kept inside a bisection bracket, so a poor start
 * (heavy tails at df ≈ 1) can slow convergence but never make it diverge.
 */
function invertTail(tail: (z: number) => number, density: (z: number) => number, q: number, guess: number): number {
  let lo = 0;
  let hi = Math.max(1, guess);
  while (tail(hi) > q) {
    lo = hi;
    hi *= 2;
    if (!Number.isFinite(hi)) return Infinity;
  }
  let z = guess > lo && guess < hi ? guess : (lo + hi) / 2;
  for (let i = 0; i < 400; i++) {
    const f = tail(z) - q;
    if (f === 0) return z;
    if (f > 0) lo = z;
    else hi = z;
    let next = z + f / density(z);
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    if (Math.abs(next - z) <= 4 * Number.EPSILON * z) return next;
    z = next;
  }
  return z;
}

function checkProbability(p: number): void {
  if (!(p > 0 && p < 1)) {
    throw new CnlabError('invalid-input', `probability must be strictly between 0 and 1, got ${p}`, { p });
  }
}

function checkDegreesOfFreedom(df: number): void {
  if (!(df > 0)) {
    throw new CnlabError('invalid-input', `degrees of freedom must be positive, got ${df}`, { df });
  }
}

/** Inverse of the standard normal CDF. */
export function normalQuantile(p: number): number {
  checkProbability(p);
  if (p === 0.5) return 0;
  // Work from the smaller tail: `1 - p` would round 1e-20 away to nothing.
  return p < 0.5 ? -normalFromTail(p) : normalFromTail(1 - p);
}

function normalFromTail(q: number): number {
  // A crude start is enough: the bracketed Newton does the real work.
  const guess = Math.sqrt(-2 * Math.log(q)) * 0.9;
  return invertTail(normalUpperTail, normalDensity, q, guess);
}

// Above this many degrees of freedom the Cornish–Fisher series (Abramowitz & Stegun 26.7.5, four terms)
// is accurate to ~1e-14 and avoids the log-gamma cancellation of the exact route.
const ASYMPTOTIC_DF = 5000;

/** Quantiles already computed, by "p df": every summary asks for t(0.975, n − 1) with a handful of n. */
const quantiles = new Map<string, number>();
const QUANTILES_KEPT = 4096;

/** Quantile of Student's t: the t such that P(T ≤ t) = p, for df > 0 (Infinity gives the normal). */
export function tQuantile(p: number, df: number): number {
  checkProbability(p);
  checkDegreesOfFreedom(df);
  if (p === 0.5) return 0;
  const key = `${p} ${df}`;
  let t = quantiles.get(key);
  if (t === undefined) {
    // Newton on the incomplete beta: about 10 µs, which 24,000 summaries of a 1,000-run export felt.
    t = p < 0.5 ? -tFromTail(p, df) : tFromTail(1 - p, df);
    if (quantiles.size >= QUANTILES_KEPT) quantiles.clear();
    quantiles.set(key, t);
  }
  return t;
}

/** The t > 0 with P(T > t) = q, for 0 < q < 0.5. */
function tFromTail(q: number, df: number): number {
  if (df === Infinity) return normalFromTail(q);
  // Closed forms: exact, and they cover the heaviest tails, where Newton converges slowest.
  if (df === 1) return 1 / Math.tan(Math.PI * q);
  if (df === 2) return (1 - 2 * q) / Math.sqrt(2 * q * (1 - q));
  const z = normalFromTail(q);
  const z2 = z * z;
  const g1 = (z * (z2 + 1)) / 4;
  const g2 = (z * ((5 * z2 + 16) * z2 + 3)) / 96;
  const g3 = (z * (((3 * z2 + 19) * z2 + 17) * z2 - 15)) / 384;
  const g4 = (z * ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945)) / 92160;
  const asymptotic = z + g1 / df + g2 / df ** 2 + g3 / df ** 3 + g4 / df ** 4;
  if (df >= ASYMPTOTIC_DF) return asymptotic;
  return invertTail(
    (t) => tUpperTail(t, df),
    (t) => tDensity(t, df),
    q,
    asymptotic > 0 ? asymptotic : z,
  );
}
