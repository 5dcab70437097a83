// Imports inventory hosts from an OpenSSH client config (~/.ssh/config): one ssh host per concrete
// Host alias, resolved as `ssh alias` would resolve it, without ever running a command from the config.

import { access, readdir, readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { LineType, SSHConfig, type Line, type Match, type Section } from 'ssh-config';
import { CnlabError } from '../errors';
import { HOST_NAME_PATTERN, sshHostSchema, type HostAuth, type HostInput } from './host-model';

export interface ImportEnv {
  homeDir: string;
  /** The local user: the default remote user, and `%u`. */
  userName: string;
  /** $SSH_AUTH_SOCK when set: hosts without an IdentityFile then use the agent. */
  sshAuthSock?: string;
}

export interface ImportResult {
  hosts: HostInput[];
  warnings: string[];
}

/** The file access the import needs, injected so tests can use in-memory files. */
export interface ConfigFileSource {
  /** The file's text; undefined when it does not exist. Other failures throw. */
  readFile(path: string): Promise<string | undefined>;
  /** Entry names in a folder; [] when it does not exist. */
  listDir(path: string): Promise<string[]>;
  exists(path: string): Promise<boolean>;
}

/** OpenSSH's READCONF_MAX_DEPTH: also what stops a file that includes itself. */
export const MAX_INCLUDE_DEPTH = 16;

const DEFAULT_KEY_NAMES = ['id_ed25519', 'id_rsa'];

/** Reads the file, then imports it; see {@link importSshConfigText}. */
export async function importSshConfig(path: string, env: ImportEnv): Promise<ImportResult> {
  const file = resolve(expandTildePath(path, env.homeDir));
  let text: string | undefined;
  try {
    text = await nodeConfigFiles.readFile(file);
  } catch (error) {
    throw new CnlabError('io', `cannot read ssh config ${file} (${errnoCode(error) ?? String(error)}): make it readable by this user`, { file }, { cause: error });
  }
  if (text === undefined) {
    throw new CnlabError('not-found', `ssh config ${file} does not exist: name an OpenSSH client config such as ~/.ssh/config`, { file });
  }
  return importSshConfigText(text, file, env, nodeConfigFiles);
}

/** Real files. Missing files and folders read as absent, as OpenSSH ignores an Include matching nothing. */
export const nodeConfigFiles: ConfigFileSource = {
  async readFile(path) {
    try {
      return await readFile(path, 'utf8');
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  },
  async listDir(path) {
    try {
      return await readdir(path);
    } catch (error) {
      if (isMissing(error)) return [];
      throw error;
    }
  },
  async exists(path) {
    try {
      await access(path);
      return true;
    } catch {
      return false;
    }
  },
};

/**
 * The import itself, given the main file's text and path. Everything it reads beyond that (included
 * files, default key files) goes through `files`, so it does no I/O of its own.
 */
export async function importSshConfigText(text: string, path: string, env: ImportEnv, files: ConfigFileSource): Promise<ImportResult> {
  const warnings: string[] = [];
  let parsed: SSHConfig;
  try {
    parsed = SSHConfig.parse(text);
  } catch (error) {
    throw new CnlabError('invalid-input', `cannot parse ssh config ${path}: ${errorText(error)}: fix that line (check quotes and Match arguments)`, { file: path }, { cause: error });
  }
  const includes: IncludeContext = { env, files, warnings, baseDir: includeBaseDir(path, env.homeDir) };
  const config = await expandTopLevel(parsed, path, 0, includes);
  neutralise(config, warnings);
  return new Importer(config, env, files, warnings).run();
}

// ---------------------------------------------------------------------------------------------
// Include: the ssh-config library keeps Include as a plain directive, so it is expanded here.

interface IncludeContext {
  env: ImportEnv;
  files: ConfigFileSource;
  warnings: string[];
  /** Where relative Include paths live: ~/.ssh for a user config, /etc/ssh for the system one. */
  baseDir: string;
}

function includeBaseDir(configPath: string, homeDir: string): string {
  return resolve(configPath).startsWith('/etc/ssh/') ? '/etc/ssh' : join(homeDir, '.ssh');
}

type Directive = Extract<Line, { type: LineType.DIRECTIVE }>;

function includeLine(line: Line): Directive | undefined {
  return line.type === LineType.DIRECTIVE && /^include$/i.test(line.param) ? line : undefined;
}

function isSection(line: Line): line is Section {
  return line.type === LineType.DIRECTIVE && 'config' in line;
}

/**
 * Splices included files in place of top-level Include lines. Splicing lines (not text) keeps OpenSSH's
 * rule that lines after an Include apply as if the included file had not opened Host blocks: they stay
 * separate top-level lines, which the library applies to every host.
 */
async function expandTopLevel(config: SSHConfig, file: string, depth: number, ctx: IncludeContext): Promise<SSHConfig> {
  const out = new SSHConfig();
  for (const line of config) {
    const include = includeLine(line);
    if (include) {
      for (const lines of await includedConfigs(include, file, depth, ctx)) out.push(...lines);
    } else if (isSection(line)) {
      line.config = await expandInSection(line, file, depth, ctx);
      out.push(line);
    } else {
      out.push(line);
    }
  }
  return out;
}

/**
 * An Include inside a Host/Match block: the included file's leading directives belong to that block.
 * Host/Match blocks inside such a file would apply only when both conditions hold, which the library's
 * flat model cannot express: they are skipped with a warning rather than applied too widely.
 */
async function expandInSection(section: Section, file: string, depth: number, ctx: IncludeContext): Promise<SSHConfig> {
  const out = new SSHConfig();
  for (const line of section.config) {
    const include = includeLine(line);
    if (!include) {
      out.push(line);
      continue;
    }
    for (const lines of await includedConfigs(include, file, depth, ctx)) {
      const firstSection = lines.findIndex(isSection);
      out.push(...(firstSection < 0 ? lines : lines.slice(0, firstSection)));
      if (firstSection >= 0) {
        ctx.warnings.push(
          `${file}: a file included inside "${sectionLabel(section)}" has its own Host/Match blocks; those blocks were skipped (move the Include to the top level)`,
        );
      }
    }
  }
  return out;
}

/** Each file an Include line names, parsed and expanded, in OpenSSH's order (patterns in order, globs sorted). */
async function includedConfigs(line: Directive, file: string, depth: number, ctx: IncludeContext): Promise<SSHConfig[]> {
  if (depth + 1 > MAX_INCLUDE_DEPTH) {
    ctx.warnings.push(`${file}: Include nested more than ${MAX_INCLUDE_DEPTH} deep (does a file include itself?); skipped`);
    return [];
  }
  const results: SSHConfig[] = [];
  for (const pattern of directiveValues(line.value)) {
    const expanded = expandIncludePath(pattern, ctx);
    if (!expanded.ok) {
      ctx.warnings.push(`${file}: Include ${pattern}: ${expanded.reason}; skipped`);
      continue;
    }
    const literal = !hasGlobMagic(expanded.value);
    const paths = literal ? [expanded.value] : await expandGlob(expanded.value, ctx.files);
    for (const includedPath of paths) {
      let text: string | undefined;
      try {
        text = await ctx.files.readFile(includedPath);
      } catch (error) {
        ctx.warnings.push(`${file}: Include ${includedPath}: cannot read it (${errnoCode(error) ?? errorText(error)}); skipped`);
        continue;
      }
      if (text === undefined) {
        // OpenSSH is silent about a missing include; a typo in a literal path is worth a line here.
        if (literal) ctx.warnings.push(`${file}: Include ${includedPath}: no such file; skipped`);
        continue;
      }
      let parsed: SSHConfig;
      try {
        parsed = SSHConfig.parse(text);
      } catch (error) {
        ctx.warnings.push(`${includedPath}: cannot parse it (${errorText(error)}); the whole file was skipped`);
        continue;
      }
      results.push(await expandTopLevel(parsed, includedPath, depth + 1, ctx));
    }
  }
  return results;
}

function expandIncludePath(pattern: string, ctx: IncludeContext): { ok: true; value: string } | { ok: false; reason: string } {
  const tilde = expandTilde(pattern, ctx.env);
  if (!tilde.ok) return tilde;
  return { ok: true, value: isAbsolute(tilde.value) ? tilde.value : join(ctx.baseDir, tilde.value) };
}

// ---------------------------------------------------------------------------------------------
// Glob for Include (glob(3) subset: * ? [...]), walked one path component at a time.

export function hasGlobMagic(path: string): boolean {
  return /[*?[]/.test(path);
}

/**
 * One path component's pattern as a RegExp. Like glob(3), a leading `.` must be matched literally,
 * so `conf.d/*` does not pick up editor swap files such as `.host.swp`.
 */
export function globComponentToRegExp(component: string): RegExp {
  let source = '';
  for (let i = 0; i < component.length; i++) {
    const ch = component[i] as string;
    if (ch === '*') source += '[^/]*';
    else if (ch === '?') source += '[^/]';
    else if (ch === '[') {
      const close = component.indexOf(']', i + 2);
      if (close < 0) {
        source += '\\[';
        continue;
      }
      let body = component.slice(i + 1, close);
      const negated = body.startsWith('!') || body.startsWith('^');
      if (negated) body = body.slice(1);
      source += `[${negated ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = close;
    } else if (ch === '\\' && i + 1 < component.length) {
      source += escapeRegExp(component[++i] as string);
    } else source += escapeRegExp(ch);
  }
  const hiddenGuard = component.startsWith('.') ? '' : '(?!\\.)';
  return new RegExp(`^${hiddenGuard}${source}$`);
}

/** Absolute paths matching an absolute glob pattern, sorted like glob(3). */
export async function expandGlob(pattern: string, files: ConfigFileSource): Promise<string[]> {
  const components = pattern.split('/').filter((part) => part !== '');
  let candidates = ['/'];
  for (const component of components) {
    if (!hasGlobMagic(component)) {
      candidates = candidates.map((dir) => join(dir, component));
      continue;
    }
    const matcher = globComponentToRegExp(component);
    const next: string[] = [];
    for (const dir of candidates) {
      let names: string[];
      try {
        names = await files.listDir(dir);
      } catch {
        names = [];
      }
      for (const name of names) if (matcher.test(name)) next.push(join(dir, name));
    }
    candidates = next;
  }
  return candidates.sort();
}

// ---------------------------------------------------------------------------------------------
// Making the parsed config safe to compute.

const NEVER_MATCHES = 'cnlab-not-evaluated';
const EVALUATED_MATCH_CRITERIA = new Set(['all', 'canonical', 'final', 'host', 'originalhost', 'user', 'localuser']);

/**
 * Defence in depth on top of `matchExec: false`: Match blocks with `exec` get a criterion the library
 * never matches, so no library default or future change can run the command. CanonicalizeHostName lines
 * are dropped because the library runs `nslookup` for them, and an import should not touch the network.
 */
function neutralise(config: SSHConfig, warnings: string[]): void {
  let canonicalizeWarned = false;
  const dropCanonicalize = (lines: SSHConfig): void => {
    for (let i = lines.length - 1; i >= 0; i--) {
      const line = lines[i] as Line;
      if (line.type === LineType.DIRECTIVE && /^canonicalizehostname$/i.test(line.param)) {
        if (!canonicalizeWarned && directiveValues(line.value).join(' ').toLowerCase() !== 'no') {
          warnings.push('CanonicalizeHostName is not applied (the import does not resolve names); host names are imported as written');
          canonicalizeWarned = true;
        }
        lines.splice(i, 1);
      }
    }
  };
  dropCanonicalize(config);
  for (const line of config) {
    if (!isSection(line)) continue;
    dropCanonicalize(line.config);
    if (!('criteria' in line)) continue;
    const match: Match = line;
    const keys = Object.keys(match.criteria).map((key) => key.toLowerCase());
    if (keys.some((key) => key.replace(/^!/, '') === 'exec')) {
      warnings.push(`"${sectionLabel(line)}": Match exec was not run (cnlab never runs commands from an ssh config); its settings were not applied`);
      match.criteria = { [NEVER_MATCHES]: [] };
    } else {
      const unsupported = keys.filter((key) => !EVALUATED_MATCH_CRITERIA.has(key));
      if (unsupported.length > 0) {
        warnings.push(`"${sectionLabel(line)}": Match ${unsupported.join(', ')} is not evaluated by the import; its settings were not applied`);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Resolving hosts.

type Computed = Record<string, string | string[]>;

interface JumpHop {
  user?: string;
  host: string;
  port?: number;
}

type Outcome = { ok: true; name: string } | { ok: false };

class Importer {
  private readonly aliases: string[];
  private readonly aliasSet: Set<string>;
  /** Results by inventory name, in creation order, memoised because jumps are resolved on demand. */
  private readonly entries = new Map<string, HostInput>();
  private readonly aliasOutcomes = new Map<string, Promise<Outcome>>();
  private readonly extraOutcomes = new Map<string, Promise<Outcome>>();
  private readonly extraNames: string[] = [];
  private readonly extraNameByKey = new Map<string, string>();

  constructor(
    private readonly config: SSHConfig,
    private readonly env: ImportEnv,
    private readonly files: ConfigFileSource,
    private readonly warnings: string[],
  ) {
    this.aliases = concreteAliases(config);
    this.aliasSet = new Set(this.aliases);
  }

  async run(): Promise<ImportResult> {
    for (const alias of this.aliases) await this.resolveAlias(alias, []);
    const ordered = [...this.aliases, ...this.extraNames];
    const hosts = ordered.flatMap((name) => {
      const entry = this.entries.get(name);
      return entry ? [entry] : [];
    });
    return { hosts, warnings: this.warnings };
  }

  private resolveAlias(alias: string, chain: readonly string[]): Promise<Outcome> {
    let outcome = this.aliasOutcomes.get(alias);
    if (!outcome) {
      outcome = this.buildAlias(alias, chain);
      this.aliasOutcomes.set(alias, outcome);
    }
    return outcome;
  }

  private async buildAlias(alias: string, chain: readonly string[]): Promise<Outcome> {
    if (!HOST_NAME_PATTERN.test(alias)) {
      this.warnings.push(`Host ${alias}: not usable as an inventory name (letters, digits, "_", "." or "-", starting with a letter or digit); skipped`);
      return { ok: false };
    }
    return this.build(alias, alias, {}, [...chain, alias]);
  }

  /** A ProxyJump hop that is no Host alias becomes an inventory entry of its own, named after its host. */
  private resolveExtra(hop: JumpHop, forHost: string, chain: readonly string[]): Promise<Outcome> {
    const key = hopKey(hop);
    let outcome = this.extraOutcomes.get(key);
    if (!outcome) {
      const name = this.freeName(hop);
      if (!name) {
        this.warnings.push(`Host ${forHost}: no usable inventory name for jump host ${formatHop(hop)}; skipped`);
        outcome = Promise.resolve({ ok: false });
      } else {
        this.extraNames.push(name);
        this.extraNameByKey.set(key, name);
        this.warnings.push(`Host ${forHost}: jump host ${formatHop(hop)} is not a Host in the config; added it to the inventory as "${name}"`);
        outcome = this.build(hop.host, name, hop, [...chain, name], forHost);
      }
      this.extraOutcomes.set(key, outcome);
    }
    return outcome;
  }

  private freeName(hop: JumpHop): string | undefined {
    const base = hop.host.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '');
    const taken = (name: string): boolean => this.aliasSet.has(name) || this.extraNames.includes(name);
    const candidates = [base, `${base}-${hop.port ?? 22}`];
    for (let n = 2; n < 100; n++) candidates.push(`${base}-${n}`);
    return candidates.find((name) => HOST_NAME_PATTERN.test(name) && !taken(name));
  }

  /**
   * Computes the config for `configHost` as `ssh configHost` would (Match exec disabled), overrides user
   * and port for an explicit jump hop, then builds and validates the inventory entry.
   */
  private async build(configHost: string, name: string, override: Omit<JumpHop, 'host'>, chain: readonly string[], jumpOf?: string): Promise<Outcome> {
    const label = `Host ${name}`;
    const computed = this.config.compute(configHost, { matchExec: false, ignoreCase: true }) as Computed;

    const hostNameRaw = first(computed.hostname);
    const address = hostNameRaw === undefined ? configHost : expandTokens(hostNameRaw, { h: configHost, '%': '%' });
    if (address === undefined) {
      this.warnings.push(`${label}: HostName ${hostNameRaw} uses a token other than %h or %%; skipped`);
      return { ok: false };
    }
    const portText = first(computed.port);
    const port = override.port ?? (portText === undefined ? 22 : parsePort(portText));
    if (port === undefined) {
      this.warnings.push(`${label}: Port ${portText} is not a TCP port; skipped`);
      return { ok: false };
    }
    const user = override.user ?? first(computed.user) ?? this.env.userName;
    const tokens: Tokens = { h: address, p: String(port), r: user, u: this.env.userName, d: this.env.homeDir, n: configHost, '%': '%' };

    const strict = first(computed.stricthostkeychecking)?.toLowerCase();
    if (strict !== undefined && strict !== 'yes' && strict !== 'ask') {
      this.warnings.push(`${label}: StrictHostKeyChecking ${strict} is ignored; cnlab checks every host key`);
    }

    const proxy = proxyOf(computed);
    if (proxy.kind === 'command') {
      this.warnings.push(`${label}: ProxyCommand is not supported; skipped`);
      return { ok: false };
    }
    let jump: string | undefined;
    if (proxy.kind === 'jump') {
      const resolved = await this.resolveJump(proxy.value, label, configHost, name, chain);
      if (!resolved.ok) return { ok: false };
      jump = resolved.jump;
    }

    const auth = await this.authFor(computed, tokens, label);
    const knownHostsFiles = this.pathList(computed.userknownhostsfile, tokens, `${label}: UserKnownHostsFile`).filter(
      (file) => file !== '/dev/null' && file.toLowerCase() !== 'none',
    );

    const input: HostInput = {
      name,
      kind: 'ssh',
      address,
      port,
      user,
      auth,
      knownHostsFiles,
      ...(jump ? { jump } : {}),
      ...(jumpOf ? { notes: `imported from an ssh config as the jump host of ${jumpOf}` } : {}),
    };
    const checked = sshHostSchema.safeParse(input);
    if (!checked.success) {
      const problems = checked.error.issues.map((issue) => `${issue.path.join('.') || 'entry'}: ${issue.message}`).join('; ');
      this.warnings.push(`${label}: ${problems}; skipped`);
      return { ok: false };
    }
    this.entries.set(name, input);
    return { ok: true, name };
  }

  private async resolveJump(value: string, label: string, configHost: string, name: string, chain: readonly string[]): Promise<{ ok: true; jump?: string } | { ok: false }> {
    const hops = value.split(',').map((hop) => hop.trim()).filter((hop) => hop !== '');
    if (hops.length !== 1) {
      // An inventory host has one jump; a chain would need every hop's own jump set to the previous one.
      this.warnings.push(`${label}: ProxyJump through ${hops.length} hosts (${value}) is not supported, only one; skipped`);
      return { ok: false };
    }
    if (value.includes('%')) {
      this.warnings.push(`${label}: ProxyJump ${value} uses % tokens, which the import does not expand; skipped`);
      return { ok: false };
    }
    const hop = parseJumpHop(hops[0] as string);
    if (!hop) {
      this.warnings.push(`${label}: ProxyJump ${value} is not [user@]host[:port]; skipped`);
      return { ok: false };
    }
    if (hop.host === configHost) {
      // `Host * / ProxyJump bastion` also applies to bastion itself: jumping through yourself means direct.
      this.warnings.push(`${label}: ProxyJump names the host itself; connecting directly`);
      return { ok: true };
    }
    const target = this.aliasSet.has(hop.host) ? hop.host : undefined;
    const targetName = target ?? this.extraNameFor(hop);
    if (targetName !== undefined && chain.includes(targetName)) {
      this.warnings.push(`${label}: ProxyJump loops (${[...chain, targetName].join(' -> ')}); skipped`);
      return { ok: false };
    }
    const outcome = target !== undefined ? await this.resolveAlias(target, chain) : await this.resolveExtra(hop, name, chain);
    if (!outcome.ok) {
      this.warnings.push(`${label}: its jump host ${formatHop(hop)} could not be imported; skipped`);
      return { ok: false };
    }
    if (target !== undefined && (hop.user !== undefined || hop.port !== undefined)) {
      const entry = this.entries.get(target);
      if (entry?.kind === 'ssh' && ((hop.user !== undefined && hop.user !== entry.user) || (hop.port !== undefined && hop.port !== entry.port))) {
        this.warnings.push(`${label}: ProxyJump ${formatHop(hop)} overrides user or port of Host ${target}; the import uses Host ${target} as configured`);
      }
    }
    return { ok: true, jump: outcome.name };
  }

  /** The name an extra entry for this hop already got, so loops through extra entries are caught too. */
  private extraNameFor(hop: JumpHop): string | undefined {
    return this.extraNameByKey.get(hopKey(hop));
  }

  /** First IdentityFile, else the agent, else a default key file that exists, as ssh would try them. */
  private async authFor(computed: Computed, tokens: Tokens, label: string): Promise<HostAuth> {
    const identityFiles = this.pathList(computed.identityfile, tokens, `${label}: IdentityFile`).filter((file) => file.toLowerCase() !== 'none');
    if (identityFiles[0] !== undefined) return { type: 'key', keyFile: identityFiles[0] };

    const agentSetting = first(computed.identityagent);
    if (agentSetting !== undefined && agentSetting.toLowerCase() !== 'none' && agentSetting !== 'SSH_AUTH_SOCK') {
      const socket = this.pathList(agentSetting, tokens, `${label}: IdentityAgent`)[0];
      if (socket !== undefined) return { type: 'agent', socket };
    }
    const agentAllowed = agentSetting === undefined || agentSetting === 'SSH_AUTH_SOCK';
    // The socket path changes with every login session, so the entry says "agent" and not which socket.
    if (agentAllowed && this.env.sshAuthSock) return { type: 'agent' };

    const defaults = DEFAULT_KEY_NAMES.map((key) => join(this.env.homeDir, '.ssh', key));
    for (const keyFile of defaults) {
      if (await this.files.exists(keyFile)) return { type: 'key', keyFile };
    }
    const fallback = defaults[0] as string;
    this.warnings.push(`${label}: no IdentityFile, no ssh-agent and no ~/.ssh/id_ed25519 or id_rsa; set to ${fallback}, change its auth before connecting`);
    return { type: 'key', keyFile: fallback };
  }

  /** Expands ~ and % tokens in path values; a value that cannot be expanded is left out with a warning. */
  private pathList(value: string | string[] | undefined, tokens: Tokens, label: string): string[] {
    const values = value === undefined ? [] : Array.isArray(value) ? value : [value];
    const out: string[] = [];
    for (const raw of values) {
      if (raw.toLowerCase() === 'none') {
        out.push(raw);
        continue;
      }
      const expanded = expandConfigPath(raw, tokens, this.env);
      if (!expanded.ok) {
        this.warnings.push(`${label} ${raw}: ${expanded.reason}; ignored`);
        continue;
      }
      if (!isAbsolute(expanded.value)) {
        this.warnings.push(`${label} ${raw} is relative; taken as relative to ${this.env.homeDir}`);
        out.push(join(this.env.homeDir, expanded.value));
      } else out.push(expanded.value);
    }
    return out;
  }
}

/** Every Host name without wildcards or negation, in file order: those are what `ssh NAME` targets. */
export function concreteAliases(config: SSHConfig): string[] {
  const aliases: string[] = [];
  for (const line of config) {
    if (line.type !== LineType.DIRECTIVE || !/^host$/i.test(line.param)) continue;
    for (const pattern of directiveValues(line.value)) {
      if (/[*?!]/.test(pattern) || aliases.includes(pattern)) continue;
      aliases.push(pattern);
    }
  }
  return aliases;
}

/** Which of ProxyJump / ProxyCommand applies: the first one in the config wins, as in OpenSSH. */
function proxyOf(computed: Computed): { kind: 'none' } | { kind: 'jump'; value: string } | { kind: 'command' } {
  const keys = Object.keys(computed);
  const jumpAt = keys.indexOf('proxyjump');
  const commandAt = keys.indexOf('proxycommand');
  const winner = jumpAt < 0 ? 'proxycommand' : commandAt < 0 || jumpAt < commandAt ? 'proxyjump' : 'proxycommand';
  const value = first(computed[winner]);
  if (value === undefined || value.toLowerCase() === 'none') return { kind: 'none' };
  return winner === 'proxyjump' ? { kind: 'jump', value } : { kind: 'command' };
}

/** `[user@]host[:port]`, `[user@][v6addr]:port` or `ssh://[user@]host[:port]`, as OpenSSH accepts. */
export function parseJumpHop(text: string): JumpHop | undefined {
  let rest = text.trim();
  if (rest.startsWith('ssh://')) rest = rest.slice('ssh://'.length).replace(/\/$/, '');
  const at = rest.lastIndexOf('@');
  const user = at >= 0 ? rest.slice(0, at) : undefined;
  rest = rest.slice(at + 1);
  let host: string;
  let portText: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) return undefined;
    host = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) return undefined;
    portText = after === '' ? undefined : after.slice(1);
  } else {
    const colons = rest.split(':').length - 1;
    if (colons === 1) [host, portText] = rest.split(':') as [string, string];
    else host = rest;
  }
  if (host === '' || user === '') return undefined;
  const hop: JumpHop = { host };
  if (user !== undefined) hop.user = user;
  if (portText !== undefined) {
    const port = parsePort(portText);
    if (port === undefined) return undefined;
    hop.port = port;
  }
  return hop;
}

function hopKey(hop: JumpHop): string {
  return `${hop.user ?? ''}@${hop.host}:${hop.port ?? ''}`;
}

function formatHop(hop: JumpHop): string {
  return `${hop.user ? `${hop.user}@` : ''}${hop.host}${hop.port ? `:${hop.port}` : ''}`;
}

// ---------------------------------------------------------------------------------------------
// ~ and % expansion.

export type Tokens = Partial<Record<'h' | 'p' | 'r' | 'u' | 'd' | 'n' | '%', string>>;

/** Replaces %X tokens; undefined when a token is not in `tokens` (e.g. %C), so the caller can say so. */
export function expandTokens(value: string, tokens: Tokens): string | undefined {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch !== '%') {
      out += ch;
      continue;
    }
    const name = value[++i];
    const replacement = name === undefined ? undefined : tokens[name as keyof Tokens];
    if (replacement === undefined) return undefined;
    out += replacement;
  }
  return out;
}

/** `~` and `~/…` are the home folder; `~user` only for the current user (other homes are unknown here). */
export function expandTilde(value: string, env: Pick<ImportEnv, 'homeDir' | 'userName'>): { ok: true; value: string } | { ok: false; reason: string } {
  if (!value.startsWith('~')) return { ok: true, value };
  const slash = value.indexOf('/');
  const user = value.slice(1, slash < 0 ? undefined : slash);
  if (user !== '' && user !== env.userName) return { ok: false, reason: `~${user} is another user's home folder, which the import does not look up` };
  return { ok: true, value: env.homeDir + (slash < 0 ? '' : value.slice(slash)) };
}

/** OpenSSH order for IdentityFile and friends: ~ first, then % tokens. `${VAR}` is refused, not guessed. */
export function expandConfigPath(value: string, tokens: Tokens, env: Pick<ImportEnv, 'homeDir' | 'userName'>): { ok: true; value: string } | { ok: false; reason: string } {
  if (value.includes('${')) return { ok: false, reason: 'environment variables (${…}) are not expanded by the import' };
  const tilde = expandTilde(value, env);
  if (!tilde.ok) return tilde;
  const expanded = expandTokens(tilde.value, tokens);
  if (expanded === undefined) return { ok: false, reason: 'uses a % token other than %h %p %r %u %d %n %%' };
  return { ok: true, value: expanded };
}

function expandTildePath(path: string, homeDir: string): string {
  return path === '~' ? homeDir : path.startsWith('~/') ? join(homeDir, path.slice(2)) : path;
}

// ---------------------------------------------------------------------------------------------
// Small helpers.

function directiveValues(value: Section['value']): string[] {
  return typeof value === 'string' ? [value] : value.map((part) => part.val);
}

function sectionLabel(section: Section): string {
  return `${section.param} ${directiveValues(section.value).join(' ')}`;
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function isMissing(error: unknown): boolean {
  const code = errnoCode(error);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function errnoCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
