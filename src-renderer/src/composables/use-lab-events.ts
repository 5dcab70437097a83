// Feeds the LabApi's event stream to the shell's stores for as long as the calling scope lives (the App).
// One subscription for all of them, so every store sees events in the order the server sent them.
import { onScopeDispose } from 'vue';
import { useLabApi } from '../api/lab-client';
import { useAppStore } from '../stores/app-store';
import { useCommandLogStore } from '../stores/command-log-store';
import { useExperimentsStore } from '../stores/experiments-store';
import { useHostsStore } from '../stores/hosts-store';
import { useJobsStore } from '../stores/jobs-store';
import { useResultsStore } from '../stores/results-store';

export function useLabEvents(): () => void {
  const jobs = useJobsStore();
  const hosts = useHostsStore();
  const log = useCommandLogStore();
  const app = useAppStore();
  const experiments = useExperimentsStore();
  const results = useResultsStore();
  // Jobs first: the app store reacts to a finished demo job that the strip should already show as done.
  const unsubscribe = useLabApi().onEvent((event) => {
    jobs.applyEvent(event);
    hosts.applyEvent(event);
    log.applyEvent(event);
    experiments.applyEvent(event);
    results.applyEvent(event);
    app.applyEvent(event);
  });
  onScopeDispose(unsubscribe);
  return unsubscribe;
}
