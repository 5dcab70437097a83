// Scripts that read the on-host ledgers: teardown (undo every entry in reverse, then check that no
// tagged object is left), status, and sweep (find leftovers of crashed runs by tag). They work from
// what is on the host, never from the topology file, so a lost or edited file still cleans up.
import { quoteShellArg } from '../shell/quote';
import { DOCKER_LAB_LABEL as LAB_LABEL, LEDGER_ROOT, LINK_ALIAS_PREFIX, NETNS_PREFIX, type LabNames } from './naming';

export const MARK_UNDONE = '@@cnlab-undone';
export const MARK_LEFT = '@@cnlab-left';
export const MARK_LAB = '@@cnlab-lab';
export const MARK_SWEPT = '@@cnlab-swept';
export const MARK_STOPPED = '@@cnlab-stopped';

/**
 * Undo in reverse order. A sysctl is restored only when no other cnlab lab on the host still lists it,
 * since two labs may both need forwarding on.
 */
function undoLedgerFunction(): string {
  return [
    'undo_ledger() {',
    '  dir=$1',
    '  [ -f "$dir/ledger" ] || return 0',
    "  tac \"$dir/ledger\" | while IFS='\t' read -r kind name undo; do",
    '    if [ "$kind" = sysctl ]; then',
    `      others=$(grep -l "^sysctl\t$name\t" ${LEDGER_ROOT}/*/ledger 2>/dev/null | grep -v "^$dir/ledger$" | head -n 1)`,
    '      [ -n "$others" ] && continue',
    '    fi',
    '    sh -c "$undo" >/dev/null 2>&1 || true',
    `    printf '%s %s %s\\n' ${quoteShellArg(MARK_UNDONE)} "$kind" "$name"`,
    '  done',
    '}',
  ].join('\n');
}

/**
 * Stops an apply of the lab that still runs on the host before its ledger is undone. An apply whose SSH
 * session died (connection cut, cnlab killed) goes on until its next progress line, creating objects:
 * undone beside it, those would be made after the undo, with no ledger left to name them. Only the
 * process the state file names is stopped, and only while its start time is still the one recorded
 * (a pid reused by another program is left alone): its process group (its ip batches, its background
 * jobs; daemons run in sessions of their own) is killed, or the process alone should that group be
 * this script's own. Prints `@@cnlab-stopped <pid>` when it stopped one.
 */
function stopApplyFunction(): string {
  return [
    'stop_apply() {',
    '  set -- $(cat "$1/state" 2>/dev/null)',
    '  [ "${1:-}" = applying ] && [ -n "${4:-}" ] || return 0',
    '  pid=$3 start=$4',
    "  case \"$pid\" in ''|*[!0-9]*) return 0;; esac",
    '  [ "$pid" != "$$" ] || return 0',
    // After "pid (comm) ": 1 state, 3 process group, 20 start time.
    `  set -- $(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d ' ' -f 1,3,20)`,
    '  [ "${3:-}" = "$start" ] && [ "$1" != Z ] || return 0',
    `  own=$(sed 's/.*) //' /proc/$$/stat | cut -d ' ' -f 3)`,
    '  if [ "$2" -gt 1 ] && [ "$2" != "$own" ]; then group=$2; kill -KILL -- "-$group" 2>/dev/null; else group=; kill -KILL "$pid" 2>/dev/null; fi',
    '  i=0',
    '  while [ "$i" -lt 50 ] && apply_alive; do sleep 0.1; i=$((i + 1)); done',
    `  printf '%s %s\\n' ${quoteShellArg(MARK_STOPPED)} "$pid"`,
    '}',
    // The group while any of it lives (zombies waiting for their reaper do not count), else the process.
    'apply_alive() {',
    '  if [ -n "$group" ]; then',
    `    cat /proc/[0-9]*/stat 2>/dev/null | sed 's/.*) //' | awk -v g="$group" '$3 == g && $1 != "Z" { f = 1 } END { exit !f }'`,
    '  else',
    `    st=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d ' ' -f 1); [ -n "$st" ] && [ "$st" != Z ]`,
    '  fi',
    '}',
  ].join('\n');
}

/** Lists what still carries a lab's tag: namespaces by name prefix, links by alias. */
function leftoversFunction(): string {
  return [
    'leftovers() {',
    '  lab=$1',
    `  ip netns list 2>/dev/null | awk '{print $1}' | grep "^${NETNS_PREFIX}$lab-" | sed "s/^/${MARK_LEFT} netns /"`,
    `  ip -o link show 2>/dev/null | awk -v a="${LINK_ALIAS_PREFIX}$lab" '{n=$2; sub(":$","",n); sub("@.*","",n); for(i=1;i<NF;i++) if($i=="alias" && $(i+1)==a) print n}' | sed "s/^/${MARK_LEFT} link /"`,
    `  nft list table ip "cnlab_$(printf %s "$lab" | tr - _)" >/dev/null 2>&1 && echo "${MARK_LEFT} nft-table cnlab_$lab"`,
    // Daemons of the control planes (etcd, BIRD, watch agent) run from the lab's folder. The pattern is
    // read from stdin so that grep's own command line does not match it.
    `  printf '%s\\n' "${LEDGER_ROOT}/$lab/" | grep -lsF -f - /proc/[0-9]*/cmdline 2>/dev/null | sed 's|^/proc/||; s|/cmdline$||' | sed "s/^/${MARK_LEFT} process /"`,
    // runtime docker: containers and networks by the lab's label (none where Docker is absent or down).
    '  if command -v docker >/dev/null 2>&1; then',
    `    docker ps -a --filter "label=${LAB_LABEL}=$lab" --format '{{.Names}}' 2>/dev/null | sed "s/^/${MARK_LEFT} docker-container /"`,
    `    docker network ls --filter "label=${LAB_LABEL}=$lab" --format '{{.Name}}' 2>/dev/null | sed "s/^/${MARK_LEFT} docker-network /"`,
    '  fi',
    '  true',
    '}',
  ].join('\n');
}

export function renderTeardownScript(names: LabNames): string {
  return [
    'set -u',
    undoLedgerFunction(),
    stopApplyFunction(),
    leftoversFunction(),
    `lab=${quoteShellArg(names.labId)}`,
    `dir=${quoteShellArg(names.ledgerDir)}`,
    'stop_apply "$dir"',
    'undo_ledger "$dir"',
    'rm -rf "$dir"',
    'leftovers "$lab"',
    'exit 0',
    '',
  ].join('\n');
}

/** One line per lab with a ledger on the host: id, state word, fingerprint, pid of its apply, alive? */
export function renderStatusScript(): string {
  return [
    'set -u',
    `for dir in ${LEDGER_ROOT}/*/; do`,
    '  [ -d "$dir" ] || continue',
    '  lab=$(basename "$dir")',
    '  state=$(cat "$dir/state" 2>/dev/null || echo "unknown - -")',
    '  set -- $state',
    '  alive=no; [ "${3:-}" != "" ] && [ "${3:-}" != "-" ] && kill -0 "$3" 2>/dev/null && alive=yes',
    '  entries=$(wc -l < "$dir/ledger" 2>/dev/null || echo 0)',
    `  printf '%s %s %s %s %s %s\\n' ${quoteShellArg(MARK_LAB)} "$lab" "\${1:-unknown}" "\${2:--}" "$alive" "$entries"`,
    'done',
    'exit 0',
    '',
  ].join('\n');
}

export interface LabOnHost {
  labId: string;
  /** `applied`, `applying` (or a crashed apply), or `unknown`. */
  state: string;
  fingerprint: string | null;
  /** True while the apply script that wrote the state still runs. */
  applyRunning: boolean;
  ledgerEntries: number;
}

export function parseStatus(stdout: string): LabOnHost[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith(`${MARK_LAB} `))
    .map((line) => {
      const [, labId = '', state = 'unknown', fingerprint = '-', alive = 'no', entries = '0'] = line.split(' ');
      return { labId, state, fingerprint: fingerprint === '-' ? null : fingerprint, applyRunning: alive === 'yes', ledgerEntries: Number(entries) || 0 };
    });
}

export interface Leftover {
  kind: string;
  name: string;
}

/** Reads `<marker> <kind> <name>` lines. */
function parseMarkedObjects(stdout: string, marker: string): Leftover[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith(`${marker} `))
    .map((line) => {
      const [, kind = '', name = ''] = line.split(' ');
      return { kind, name };
    });
}

export function parseLeftovers(stdout: string): Leftover[] {
  return parseMarkedObjects(stdout, MARK_LEFT);
}

/**
 * Sweep: labs whose apply crashed (state `applying`, its script gone) are undone from their ledgers;
 * tagged objects that no ledger lists (an apply killed before it wrote one) are removed by tag.
 * Labs that are applied, or being applied right now, are left alone. With dryRun, only lists.
 */
export function renderSweepScript(dryRun: boolean): string {
  return [
    'set -u',
    undoLedgerFunction(),
    `swept() { printf '%s %s %s\\n' ${quoteShellArg(MARK_SWEPT)} "$1" "$2"; }`,
    `for dir in ${LEDGER_ROOT}/*/; do`,
    '  [ -d "$dir" ] || continue',
    '  dir=${dir%/}; lab=$(basename "$dir")',
    '  set -- $(cat "$dir/state" 2>/dev/null || echo "unknown - -")',
    '  [ "$1" = applied ] && continue',
    '  [ "${3:-}" != "" ] && [ "${3:-}" != "-" ] && kill -0 "$3" 2>/dev/null && continue',
    `  if [ ${dryRun ? 1 : 0} = 1 ]; then swept lab "$lab"; continue; fi`,
    '  undo_ledger "$dir" >/dev/null; rm -rf "$dir"; swept lab "$lab"',
    'done',
    // Objects with a cnlab tag whose lab has no ledger at all.
    `ip netns list 2>/dev/null | awk '{print $1}' | grep '^${NETNS_PREFIX}' | while read -r ns; do`,
    '  known=no; for d in ' + LEDGER_ROOT + '/*/; do [ -d "$d" ] || continue; l=$(basename "$d"); case "$ns" in ' + NETNS_PREFIX + '"$l"-*) known=yes;; esac; done',
    '  [ $known = yes ] && continue',
    `  [ ${dryRun ? 1 : 0} = 1 ] || ip netns del "$ns" 2>/dev/null`,
    '  swept netns "$ns"',
    'done',
    `ip -o link show 2>/dev/null | awk '{n=$2; sub(":$","",n); sub("@.*","",n); for(i=1;i<NF;i++) if($i=="alias" && index($(i+1),"${LINK_ALIAS_PREFIX}")==1) print n, substr($(i+1), ${LINK_ALIAS_PREFIX.length + 1})}' | while read -r link lab; do`,
    `  [ -d ${LEDGER_ROOT}/"$lab" ] && continue`,
    `  [ ${dryRun ? 1 : 0} = 1 ] || ip link del "$link" 2>/dev/null`,
    '  swept link "$link"',
    'done',
    // runtime docker: labelled containers, then networks, of labs that have no ledger.
    'if command -v docker >/dev/null 2>&1; then',
    `  docker ps -a --filter label=${LAB_LABEL} --format '{{.Names}} {{.Label "${LAB_LABEL}"}}' 2>/dev/null | while read -r name lab; do`,
    `    [ -n "$lab" ] && [ -d ${LEDGER_ROOT}/"$lab" ] && continue`,
    `    [ ${dryRun ? 1 : 0} = 1 ] || docker rm -f "$name" >/dev/null 2>&1`,
    '    swept docker-container "$name"',
    '  done',
    `  docker network ls --filter label=${LAB_LABEL} --format '{{.Name}} {{.Label "${LAB_LABEL}"}}' 2>/dev/null | while read -r name lab; do`,
    `    [ -n "$lab" ] && [ -d ${LEDGER_ROOT}/"$lab" ] && continue`,
    `    [ ${dryRun ? 1 : 0} = 1 ] || docker network rm "$name" >/dev/null 2>&1`,
    '    swept docker-network "$name"',
    '  done',
    'fi',
    'exit 0',
    '',
  ].join('\n');
}

export function parseSwept(stdout: string): Leftover[] {
  return parseMarkedObjects(stdout, MARK_SWEPT);
}
