// The designer's model of a topology (the file's own data, without the schema's defaults filled in) and
// its two ways to text: YAML with a stable key order for the editor, and YAML text read back with lines.
import { Document, isMap, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { topologySchema, type DiagramLayout, type NetworkMode } from '@contract/topology';
import { yamlNestingProblem } from '@common/yaml-nesting';

export interface NetworkDraft {
  name: string;
  mode: NetworkMode;
  subnet?: string;
  options?: Record<string, unknown>;
  [field: string]: unknown;
}

export interface ContainerDraft {
  name: string;
  host: string;
  /** Absent: one container without a number. */
  count?: number;
  networks?: string[];
  [field: string]: unknown;
}

export interface TopologyDraft {
  v: 1;
  name: string;
  hosts: string[];
  addressPool?: string;
  backend?: 'iproute2' | 'cni';
  runtime?: 'netns' | 'docker';
  networks: NetworkDraft[];
  containers: ContainerDraft[];
  layout?: DiagramLayout;
  [field: string]: unknown;
}

/** A problem with the text or the design; `path` is the field ("networks.0.name"), `line` where the YAML has it. */
export interface DraftProblem {
  path: string;
  message: string;
  line?: number;
}

export type DraftReading = { ok: true; draft: TopologyDraft } | { ok: false; problems: DraftProblem[] };

// The order a reader expects: what the lab is, where it runs, then its parts; the diagram's positions last.
const TOP_ORDER = ['v', 'name', 'hosts', 'addressPool', 'backend', 'runtime', 'docker', 'networks', 'containers', 'underlayShaping'];
const NETWORK_ORDER = ['name', 'mode', 'subnet', 'options', 'shaping'];
const CONTAINER_ORDER = ['name', 'host', 'count', 'networks', 'addresses', 'cpuset', 'shareNetnsWith'];

export function newDraft(): TopologyDraft {
  return { v: 1, name: '', hosts: [], networks: [], containers: [] };
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0) || (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0);
}

/** Known keys first in `order`, then the rest as they come; empty optional values dropped. */
function ordered(record: Record<string, unknown>, order: string[], keep: string[] = []): Record<string, unknown> {
  const keys = [...order.filter((key) => key in record), ...Object.keys(record).filter((key) => !order.includes(key))];
  const result: Record<string, unknown> = {};
  for (const key of keys) {
    const value = record[key];
    if (isEmpty(value) && !keep.includes(key)) continue;
    result[key] = value;
  }
  return result;
}

function withoutEmptyOptions(network: NetworkDraft): Record<string, unknown> {
  const options = network.options ? ordered(network.options, []) : undefined;
  return ordered({ ...network, options }, NETWORK_ORDER);
}

/** The plain data of the file, keys in the stable order (layout last). */
export function draftToData(draft: TopologyDraft): Record<string, unknown> {
  const { layout, ...rest } = draft;
  const data = ordered(
    {
      ...rest,
      networks: draft.networks.map(withoutEmptyOptions),
      containers: draft.containers.map((container) => ordered(container, CONTAINER_ORDER)),
    },
    TOP_ORDER,
    ['name', 'hosts', 'networks', 'containers'],
  );
  if (layout && Object.keys(layout).length > 0) data.layout = layout;
  return data;
}

function flowItems(node: unknown): void {
  if (!isSeq(node)) return;
  for (const item of node.items) if (isMap(item) || isSeq(item)) item.flow = true;
}

/** YAML the way the examples read: one line per network and container, positions as [x, y]. */
export function draftToYaml(draft: TopologyDraft): string {
  const document = new Document(draftToData(draft));
  const hosts = document.get('hosts');
  if (isSeq(hosts)) hosts.flow = true;
  flowItems(document.get('networks'));
  flowItems(document.get('containers'));
  const layout = document.get('layout');
  if (isMap(layout)) for (const pair of layout.items) if (isSeq(pair.value)) pair.value.flow = true;
  return document.toString({ lineWidth: 0 });
}

function pathText(path: readonly PropertyKey[]): string {
  return path.length > 0 ? path.map(String).join('.') : '(top)';
}

/** The line of the deepest node of `path` the document has (a missing key points at its parent). */
function lineOf(document: ReturnType<typeof parseDocument>, counter: LineCounter, path: readonly PropertyKey[]): number | undefined {
  for (let length = path.length; length >= 0; length--) {
    const keys = path.slice(0, length).map((key) => (typeof key === 'symbol' ? String(key) : key));
    const node = (length === 0 ? document.contents : document.getIn(keys, true)) as YamlNode | null | undefined;
    if (node?.range) return counter.linePos(node.range[0]).line;
  }
  return undefined;
}

/** Checks a draft with the shared schema, as the main process will. */
export function draftProblems(draft: TopologyDraft): DraftProblem[] {
  const result = topologySchema.safeParse(draftToData(draft));
  if (result.success) return [];
  return result.error.issues.map((issue) => ({ path: pathText(issue.path), message: issue.message }));
}

/** Reads editor text: a draft when it is a valid topology, else each problem with its line. */
export function readDraft(text: string): DraftReading {
  const deep = yamlNestingProblem(text);
  if (deep) return { ok: false, problems: [{ path: '(yaml)', message: deep }] };
  const counter = new LineCounter();
  const document = parseDocument(text, { lineCounter: counter, uniqueKeys: true });
  if (document.errors.length > 0) {
    return {
      ok: false,
      problems: document.errors.slice(0, 5).map((error) => ({ path: '(yaml)', message: error.message.split('\n')[0] ?? 'not valid YAML', line: error.linePos?.[0].line })),
    };
  }
  let data: unknown;
  try {
    // An alias that points nowhere (or expands past the library's limit) throws here, not in errors.
    data = document.toJS();
  } catch (error) {
    return { ok: false, problems: [{ path: '(yaml)', message: (error as Error).message.split('\n')[0] ?? 'not valid YAML', line: 1 }] };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return { ok: false, problems: [{ path: '(top)', message: 'a topology is a mapping with v, name, hosts, networks and containers', line: 1 }] };
  }
  if ((data as { v?: unknown }).v !== 1) {
    return { ok: false, problems: [{ path: 'v', message: 'write "v: 1": this cnlab reads format version 1', line: lineOf(document, counter, ['v']) }] };
  }
  const result = topologySchema.safeParse(data);
  if (!result.success) {
    return { ok: false, problems: result.error.issues.map((issue) => ({ path: pathText(issue.path), message: issue.message, line: lineOf(document, counter, issue.path) })) };
  }
  const raw = data as Partial<TopologyDraft>;
  return { ok: true, draft: { ...raw, v: 1, name: raw.name ?? '', hosts: raw.hosts ?? [], networks: raw.networks ?? [], containers: raw.containers ?? [] } };
}

/** "line 4: networks.0.name: …" — where to look and what to change. */
export function describeProblem(problem: DraftProblem): string {
  const where = problem.line !== undefined ? `line ${problem.line}: ` : '';
  return problem.path === '(yaml)' ? `${where}${problem.message}` : `${where}${problem.path}: ${problem.message}`;
}

/** The messages about one field (and what is inside it), to show beside it. */
export function problemsAt(problems: readonly DraftProblem[], path: string): string[] {
  return problems.filter((problem) => problem.path === path || problem.path.startsWith(`${path}.`)).map((problem) => problem.message);
}
