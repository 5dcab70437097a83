// The recommendation panel's state: the user's priorities (a weight 0–3 per criterion), the ranking the main
// process answered for them, and whether that answer still fits (the weights changed, or runs finished since).
// Nothing is ranked here: the main process reads the runs and sends the view.
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { LabApiEvent, PriorityWeight, RecommendationCriterion, RecommendationPriorities, RecommendationView } from '@contract/lab-api';
import { useLabApi } from '../api/lab-client';

/** What most container-network choices hinge on; the rest is left for the user to raise. */
export const DEFAULT_PRIORITIES: Readonly<RecommendationPriorities> = { throughput: 2, latency: 2, isolation: 1, startup: 0, multiHost: 0, encryption: 0 };

const samePriorities = (a: RecommendationPriorities, b: RecommendationPriorities): boolean => (Object.keys(a) as RecommendationCriterion[]).every((criterion) => a[criterion] === b[criterion]);

export const useRecommendationStore = defineStore('recommendation', () => {
  const priorities = ref<RecommendationPriorities>({ ...DEFAULT_PRIORITIES });
  const view = shallowRef<RecommendationView | null>(null);
  const loading = ref(false);
  /** An experiment finished after the shown answer: its runs are not in it. */
  const runsSince = ref(false);
  let sequence = 0;

  const ranked = computed(() => view.value?.ranked.filter((entry) => entry.excluded === null) ?? []);
  /** Excluded by a required criterion, and the baseline shown as reference. */
  const notRanked = computed(() => view.value?.ranked.filter((entry) => entry.excluded !== null) ?? []);
  const outdated = computed(() => view.value !== null && (runsSince.value || !samePriorities(view.value.priorities, priorities.value)));

  function setWeight(criterion: RecommendationCriterion, weight: PriorityWeight): void {
    priorities.value = { ...priorities.value, [criterion]: weight };
  }

  async function recommend(): Promise<RecommendationView | null> {
    const current = ++sequence;
    loading.value = true;
    try {
      const answer = await useLabApi().recommendModes({ priorities: { ...priorities.value } });
      // A slower answer to an earlier click must not replace a newer one.
      if (current !== sequence) return null;
      view.value = answer;
      runsSince.value = false;
      return answer;
    } finally {
      if (current === sequence) loading.value = false;
    }
  }

  function applyEvent(event: LabApiEvent): void {
    if (event.type === 'job-finished' && event.kind === 'experiment' && view.value) runsSince.value = true;
  }

  /** Another workspace: its runs answer differently; the priorities are the user's and stay. */
  function reset(): void {
    sequence++;
    view.value = null;
    loading.value = false;
    runsSince.value = false;
  }

  return { priorities, view, loading, runsSince, ranked, notRanked, outdated, setWeight, recommend, applyEvent, reset };
});
