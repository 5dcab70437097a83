// CNI CHECK for `backend: cni` labs, run on the hosts from what the apply left there: every ADD
// indexed in the lab's cni/attachments is checked by the same plugin with CNI_COMMAND=CHECK, the same
// config and, as the spec asks, the ADD's result as prevResult. Like teardown, it needs no topology file.
import { quoteShellArg } from '../shell/quote';
import { cniPaths } from './modes/cni';
import type { LabNames } from './naming';

const MARK_CHECK = '@@cnlab-cni-check';
const MARK_NONE = '@@cnlab-cni-none';

export interface CniCheckOutcome {
  host: string;
  container: string;
  ifname: string;
  plugin: string;
  ok: boolean;
  /** The plugin's error (its JSON error message), or '' when CHECK passed. */
  message: string;
}

/**
 * Runs CHECK for each indexed attachment, one after the other (as ADD did), and reports each as
 * `<marker> <container> <ifname> <plugin> <exit code> <output on one line>`. prevResult is spliced
 * into the config text: the config file is one JSON object, so it is the config without its closing
 * brace, `,"prevResult":`, the result file, and the brace.
 */
export function renderCniCheckScript(names: LabNames): string {
  const paths = cniPaths(names);
  return [
    'set -u',
    `index=${quoteShellArg(paths.index)}`,
    `[ -f "$index" ] || { echo ${quoteShellArg(MARK_NONE)}; exit 0; }`,
    "tab=$(printf '\\t')",
    'while IFS="$tab" read -r container ifname plugin dir cid netns config result; do',
    '  cfg=$(cat "$config")',
    `  out=$({ printf '%s,"prevResult":' "\${cfg%?}"; cat "$result"; printf '}'; } | CNI_COMMAND=CHECK CNI_CONTAINERID="$cid" CNI_NETNS="$netns" CNI_IFNAME="$ifname" CNI_PATH="$dir" "$dir/$plugin" 2>&1)`,
    '  code=$?',
    `  printf '%s %s %s %s %s %s\\n' ${quoteShellArg(MARK_CHECK)} "$container" "$ifname" "$plugin" "$code" "$(printf '%s' "$out" | tr '\\n\\t' '  ')"`,
    'done < "$index"',
    'exit 0',
    '',
  ].join('\n');
}

/** The plugin's message from its JSON error ({"code":..,"msg":..,"details":..}), else the raw text. */
function errorMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { msg?: unknown; details?: unknown };
    if (typeof parsed.msg === 'string') return typeof parsed.details === 'string' && parsed.details !== '' ? `${parsed.msg}: ${parsed.details}` : parsed.msg;
  } catch {
    // not JSON: the plugin did not get as far as its own error reporting
  }
  return text.trim();
}

/** Outcomes of one host's check script; no index at all is one failed outcome naming the host. */
export function parseCniChecks(host: string, stdout: string): CniCheckOutcome[] {
  const outcomes: CniCheckOutcome[] = [];
  for (const line of stdout.split('\n')) {
    if (line === MARK_NONE) {
      outcomes.push({ host, container: '', ifname: '', plugin: '', ok: false, message: `host ${host} holds no CNI attachments of this lab: apply it with backend: cni first` });
      continue;
    }
    if (!line.startsWith(`${MARK_CHECK} `)) continue;
    const [, container = '', ifname = '', plugin = '', code = '', ...rest] = line.split(' ');
    const ok = code === '0';
    outcomes.push({ host, container, ifname, plugin, ok, message: ok ? '' : errorMessage(rest.join(' ')) || `exit code ${code}` });
  }
  return outcomes;
}
