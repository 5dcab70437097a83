// What the recommendation panel asks and gets: the user's priorities, and the network modes ranked from
// this workspace's measured runs, each with its evidence. Types and the priority list only, so the
// contract can hand them to the page as they are.

/** What a user may care about when choosing a network. */
export const RECOMMENDATION_CRITERIA = ['throughput', 'latency', 'isolation', 'startup', 'multiHost', 'encryption'] as const;
export type RecommendationCriterion = (typeof RECOMMENDATION_CRITERIA)[number];

/** 0 = does not matter, 1 = nice to have, 2 = important, 3 = required (a mode without it is not ranked). */
export type PriorityWeight = 0 | 1 | 2 | 3;
export type RecommendationPriorities = Record<RecommendationCriterion, PriorityWeight>;

/** One piece of evidence for one mode and criterion: measured (which runs, which numbers) or a property of the mode. */
export interface RecommendationEvidence {
  criterion: RecommendationCriterion;
  /**
   * 0..1 within the modes compared on this criterion (1 = best of them): measured criteria as the mode's
   * performance relative to the best mode's (0.7 = 70 % of the best throughput, or 1/0.7 of its latency);
   * properties as levels (isolation high 1, moderate ⅔, medium ⅓, low 0; multi-host and encryption 1 or 0).
   * Null when there is no evidence.
   */
  score: number | null;
  /** The evidence in a sentence, with numbers, e.g. "−31.2 % throughput against baseline (95% CI …), 2 runs". */
  summary: string;
  /** measured: runs with intervals; uncertain: single runs or noisy/overlapping intervals; property: what the mode is, not a measurement. */
  certainty: 'measured' | 'uncertain' | 'property';
  /** The runs and cells it rests on (at most the newest 50; the summary counts them all); none for a property. */
  runs: { runId: string; name: string; cells: string[] }[];
}

export interface RankedMode {
  /** The mode as cnlab names it, with its runtime when not netns: "bridge", "vxlan (docker)"; "baseline" is no container. */
  mode: string;
  /** 1 = best; modes with equal scores share a rank; 0 = not ranked (excluded, or the baseline shown as reference). */
  rank: number;
  /** Weighted mean of the criteria scores with evidence; null when no weighted criterion has any. */
  score: number | null;
  evidence: RecommendationEvidence[];
  /** Weighted criteria this mode has no evidence for. */
  missing: RecommendationCriterion[];
  /**
   * Why it is not ranked: the required criteria it fails, or that it is the baseline (no container network,
   * the reference others are measured against); null when ranked. Such modes are listed after the ranked ones.
   */
  excluded: string | null;
}

export interface RecommendationView {
  priorities: RecommendationPriorities;
  ranked: RankedMode[];
  /** With too little data: which experiment or study to run, e.g. "No latency measured for macvlan: run study suo2018-fig4 …". */
  advice: string[];
  /** How much of the workspace it rests on: runs that compared modes on a criterion, container modes measured. */
  basis: { runs: number; modes: number };
}
