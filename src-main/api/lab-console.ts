// The console's backend: the LabApi implemented over core for one open workspace. Plain Node, used by
// the two transports (Electron IPC in src-main/platform, the browser-mode WebSocket in src-main/server).
import { join } from 'node:path';
import { CnlabError } from '../core/errors';
import { CommandJournal } from '../core/exec/command-journal';
import { DemoLab } from '../core/demo-lab/demo-lab';
import { CNLAB_VERSION } from '../core/version';
import type { LabApiEvent, LabApiRequests } from '../contract/lab-api';
import { DemoArea, type DemoLabController } from './demo-area';
import { EventBatcher } from './event-batcher';
import { ExperimentsArea } from './experiments-area';
import { RecommendationArea } from './recommendation-area';
import { ResultsArea } from './results-area';
import { StudiesArea } from './studies-area';
import { HostsArea } from './hosts-area';
import { JobRegistry } from './job-registry';
import { SecretsArea } from './secrets-area';
import type { SecretStore } from '../core/hosts/secret-store';
import type { HostSecretKind, RecommendationPriorities } from '../contract/lab-api';
import { createLabApiDispatcher, type LabApiDispatcher } from './lab-api-dispatcher';
import { TopologyArea } from './topology-area';
import { recentWorkspaces, WorkspaceSession } from './workspace-session';

export interface LabConsoleOptions {
  workspaceDir: string;
  configDir: string;
  homeDir: string;
  env: NodeJS.ProcessEnv;
  shell: 'electron' | 'browser';
  /** Tests and embedders may bring their own demo lab; default: core's testbed-backed one. */
  demoLab?: DemoLabController;
  /** Event batch interval (default 100 ms: at most 10 messages a second). */
  eventIntervalMs?: number;
  /** Where remembered passwords and passphrases go (the desktop app's OS-encrypted store); none: session only. */
  secretStore?: SecretStore;
}

export interface LabConsole {
  dispatcher: LabApiDispatcher;
  /** Sends an event to every page (the desktop menu uses it). */
  emit(event: LabApiEvent): void;
  close(): Promise<void>;
}

/** A synchronous request as a promise: a throw becomes a rejection, as with every other request. */
function settled<T>(work: () => T): Promise<T> {
  return new Promise((resolve) => resolve(work()));
}

class ConsoleBackend implements LabApiRequests {
  readonly batcher: EventBatcher;
  readonly jobs: JobRegistry;
  readonly hostsArea: HostsArea;
  readonly topologyArea: TopologyArea;
  readonly experimentsArea: ExperimentsArea;
  readonly resultsArea: ResultsArea;
  readonly studiesArea: StudiesArea;
  readonly recommendationArea: RecommendationArea;
  readonly demoArea: DemoArea;

  constructor(
    private current: WorkspaceSession,
    private readonly options: LabConsoleOptions,
    readonly journal: CommandJournal,
    readonly secretsArea: SecretsArea,
  ) {
    this.batcher = new EventBatcher({ intervalMs: options.eventIntervalMs ?? 100 });
    const emit = (event: LabApiEvent): void => this.batcher.emit(event);
    this.jobs = new JobRegistry(emit);
    const session = (): WorkspaceSession => this.current;
    const demo = options.demoLab ?? new DemoLab({ stateDir: join(options.configDir, 'demo-lab') });
    this.demoArea = new DemoArea(demo, session, this.jobs, emit, (name) => this.hostsArea.probe(name));
    this.hostsArea = new HostsArea(session, this.jobs, emit, options.homeDir, options.env, (name) => this.demoArea.isDemoHost(name));
    this.topologyArea = new TopologyArea(session, this.jobs);
    this.experimentsArea = new ExperimentsArea(session, this.jobs);
    this.resultsArea = new ResultsArea(session);
    this.studiesArea = new StudiesArea(session);
    this.recommendationArea = new RecommendationArea(session);
    this.journal.subscribe((entry) => emit({ type: 'command', entry }));
  }

  private environment() {
    return { configDir: this.options.configDir, homeDir: this.options.homeDir, env: this.options.env, journal: this.journal, secrets: this.secretsArea.sources() };
  }

  async getAppInfo() {
    return { version: CNLAB_VERSION, shell: this.options.shell, workspaceDir: this.current.dir, demoLab: await this.demoArea.info(), platform: process.platform, secrets: this.secretsArea.info() };
  }

  async openWorkspace({ dir, create }: { dir: string; create: boolean }) {
    const running = this.jobs.runningKinds();
    // Its jobs hold the current workspace's connections: switching would cut them off mid-way.
    if (running.length > 0) throw new CnlabError('invalid-input', `${running.join(', ')} still running in this workspace: wait for it or cancel it before opening another workspace`);
    const next = await WorkspaceSession.open(dir, create, this.environment());
    const previous = this.current;
    this.current = next;
    this.hostsArea.reset();
    await previous.close();
    const workspace = await next.info();
    this.batcher.emit({ type: 'workspace-changed', workspace });
    return workspace;
  }

  listRecentWorkspaces() {
    return recentWorkspaces(this.options.configDir);
  }

  async saveWorkspaceAs({ dir }: { dir: string }) {
    const copy = await this.current.saveAs(dir);
    return this.openWorkspace({ dir: copy, create: false });
  }

  getWorkspaceInfo() {
    return this.current.info();
  }

  listHosts() {
    return this.hostsArea.list();
  }

  saveHost({ host, originalName }: Parameters<LabApiRequests['saveHost']>[0]) {
    return this.hostsArea.save(host, originalName);
  }

  removeHost({ name }: { name: string }) {
    return this.hostsArea.remove(name);
  }

  checkHost({ name }: { name: string }) {
    return this.hostsArea.check(name);
  }

  trustHostKey({ name, fingerprint }: { name: string; fingerprint: string }) {
    return this.hostsArea.trust(name, fingerprint);
  }

  probeHost({ name }: { name: string }) {
    return this.hostsArea.probe(name);
  }

  probeAllHosts() {
    return settled(() => this.hostsArea.probeAll());
  }

  previewSshConfigImport({ file }: { file?: string }) {
    return this.hostsArea.previewImport(file);
  }

  importSshConfigHosts({ file, names }: { file?: string; names: string[] }) {
    return this.hostsArea.importHosts(file, names);
  }

  setHostSecret(request: { host: string; kind: HostSecretKind; value: string; remember: boolean; acceptUnprotected?: boolean }) {
    return this.secretsArea.set(this.current, request);
  }

  forgetHostSecret(request: { host: string; kind: HostSecretKind }) {
    return this.secretsArea.forget(this.current, request);
  }

  listTopologies() {
    return this.current.listTopologies();
  }

  readTopology({ name }: { name: string }) {
    return this.current.readTopology(name);
  }

  saveTopology(topology: { name: string; text: string }) {
    return this.current.saveTopology(topology);
  }

  listExperiments() {
    return this.current.experimentFiles.list();
  }

  async readExperiment({ name }: { name: string }) {
    return { name, text: await this.current.experimentFiles.read(name) };
  }

  saveExperiment({ name, text }: { name: string; text: string }) {
    return this.current.experimentFiles.save(name, text);
  }

  checkTopology({ text }: { text: string }) {
    return this.topologyArea.check(text);
  }

  previewTopology({ text }: { text: string }) {
    return this.topologyArea.preview(text);
  }

  applyTopology({ text }: { text: string }) {
    return settled(() => this.topologyArea.apply(text));
  }

  verifyLab({ labId }: { labId: string }) {
    return settled(() => this.topologyArea.verify(labId));
  }

  teardownLab({ labId }: { labId: string }) {
    return settled(() => this.topologyArea.teardown(labId));
  }

  sweepHosts({ hosts, dryRun }: { hosts: string[]; dryRun: boolean }) {
    return settled(() => this.topologyArea.sweep(hosts, dryRun));
  }

  listLabs() {
    return this.topologyArea.listLabs();
  }

  getLab({ labId }: { labId: string }) {
    return this.topologyArea.getLab(labId);
  }

  planExperiment({ text }: { text: string }) {
    return settled(() => this.experimentsArea.plan(text));
  }

  startExperiment({ text }: { text: string }) {
    return settled(() => this.experimentsArea.start(text));
  }

  resumeRun({ runId }: { runId: string }) {
    return settled(() => this.experimentsArea.resume(runId));
  }

  listRuns() {
    return this.resultsArea.list();
  }

  getRun({ runId }: { runId: string }) {
    return this.resultsArea.get(runId);
  }

  compareRuns({ runA, runB }: { runA: string; runB: string }) {
    return this.resultsArea.compare(runA, runB);
  }

  importBundle({ file }: { file: string }) {
    return this.resultsArea.importBundle(file);
  }

  exportBundle({ runIds, file }: { runIds: string[]; file: string }) {
    return this.resultsArea.exportBundle(runIds, file);
  }

  writeRunReport({ runIds, file }: { runIds: string[]; file: string }) {
    return this.resultsArea.writeReport(runIds, file);
  }

  listStudies() {
    return this.studiesArea.list();
  }

  studyExperiment(request: { studyId: string; part: string; hostMap: Record<string, string> }) {
    return this.studiesArea.experiment(request);
  }

  recommendModes(request: { priorities: RecommendationPriorities }) {
    return this.recommendationArea.recommend(request.priorities);
  }

  cancelJob({ jobId }: { jobId: string }) {
    return settled(() => this.jobs.cancel(jobId));
  }

  getCommandLog(filter: { host?: string; lab?: string; limit?: number }) {
    return settled(() => this.journal.list(filter));
  }

  startDemoLab() {
    return settled(() => this.demoArea.start());
  }

  stopDemoLab() {
    return settled(() => this.demoArea.stop());
  }

  async close(): Promise<void> {
    await this.jobs.closeAll();
    await this.demoArea.stopOnClose().catch(() => undefined);
    this.batcher.close();
    await this.current.close();
  }
}

export async function openLabConsole(options: LabConsoleOptions): Promise<LabConsole> {
  // One journal for the console's lifetime: it outlives workspace switches, like the log drawer.
  const journal = new CommandJournal();
  const secrets = new SecretsArea(options.secretStore);
  const session = await WorkspaceSession.open(options.workspaceDir, true, { configDir: options.configDir, homeDir: options.homeDir, env: options.env, journal, secrets: secrets.sources() });
  const backend = new ConsoleBackend(session, options, journal, secrets);
  return {
    dispatcher: createLabApiDispatcher(backend, (listener) => backend.batcher.subscribe(listener)),
    emit: (event) => backend.batcher.emit(event),
    close: () => backend.close(),
  };
}
