// Which tables and charts a run gets, with their titles and captions: the Results view and the bundle's
// report.html show the same sections, each only when the run measured what it needs.
import type { RunView } from '../../contract/lab-api';
import type { ChartPalette } from './chart-palette';
import { ciBarOption, latencyCdfOption, scalabilityOption, sizeLineOption } from './results-charts';
import { cpuTable, latencyTable, launchTable, throughputTable, type ResultsTable } from './results-tables';

export interface RunTableSection {
  name: string;
  title: string;
  caption: string;
  table: ResultsTable;
}

export interface RunChartSection {
  name: string;
  title: string;
  option: Record<string, unknown>;
}

export function runTables(run: RunView): RunTableSection[] {
  const sections = [
    { name: 'throughput', title: 'Throughput per mode', caption: 'Median over the measured runs, 95% confidence interval, and the change against the baseline with its interval (bold: significant).', table: throughputTable(run) },
    { name: 'latency', title: 'Latency', caption: 'Average and percentiles of every sample, pooled over the runs.', table: latencyTable(run) },
    { name: 'cpu', title: 'CPU and service demand', caption: 'Busy CPU per host during the runs, and CPU time per MB (or per transaction) per side, as in Table V of Suo et al.', table: cpuTable(run) },
    { name: 'launch', title: 'Network launch time', caption: 'From creating the namespace to the first ping reply, per step, as in Table VI of Suo et al.', table: launchTable(run) },
  ];
  return sections.filter((section): section is RunTableSection => section.table !== null);
}

export function runCharts(run: RunView, palette: ChartPalette): RunChartSection[] {
  const sections = [
    { name: 'ci-bars', title: 'Median with 95% interval per mode', option: ciBarOption(run, palette) },
    { name: 'sizes', title: 'Against packet size', option: sizeLineOption(run, palette) },
    { name: 'latency-cdf', title: 'Latency distribution (CDF)', option: latencyCdfOption(run, palette) },
    { name: 'scalability', title: 'Against the number of pairs', option: scalabilityOption(run, palette) },
  ];
  return sections.filter((section): section is RunChartSection => section.option !== null);
}
