// The Add/Edit host form as plain data: fields ⇄ the HostInput the API takes, and validation with the
// shared saveHost schema so the form shows, field by field, exactly what the server would refuse.
import type { HostView } from '@contract/lab-api';
import { LAB_API_REQUEST_SCHEMAS } from '@contract/lab-api-schemas';
import type { HostInput } from '../../stores/hosts-store';

export type AuthChoice = 'key' | 'agent' | 'password';

export interface HostFormFields {
  kind: 'ssh' | 'local';
  name: string;
  address: string;
  /** Text, as typed: an empty port means 22. */
  port: string;
  user: string;
  auth: AuthChoice;
  keyFile: string;
  passphraseEnv: string;
  passwordEnv: string;
  jump: string;
  label: '' | 'bare-metal' | 'vm';
  notes: string;
}

export type HostFormField = keyof HostFormFields;
export type HostFormErrors = Partial<Record<HostFormField, string>>;

/** Said when a required field is empty; zod's own wording ("expected string…") means nothing to a user. */
const REQUIRED: Partial<Record<HostFormField, string>> = {
  name: 'give the host a name, e.g. node1',
  address: 'enter the host name or IP address cnlab connects to',
  keyFile: 'enter the private key file, e.g. ~/.ssh/id_ed25519',
  passwordEnv: 'enter the NAME of the environment variable that holds the password, e.g. NODE1_PASSWORD',
};

export function emptyFields(): HostFormFields {
  return { kind: 'ssh', name: '', address: '', port: '', user: 'root', auth: 'key', keyFile: '~/.ssh/id_ed25519', passphraseEnv: '', passwordEnv: '', jump: '', label: '', notes: '' };
}

export function fieldsOf(view: HostView): HostFormFields {
  const host = view.host;
  const fields: HostFormFields = { ...emptyFields(), kind: host.kind, name: host.name, label: host.label ?? '', notes: host.notes ?? '', keyFile: '' };
  if (host.kind === 'local') return fields;
  const auth = host.auth;
  return {
    ...fields,
    address: host.address,
    port: String(host.port),
    user: host.user,
    auth: auth.type,
    keyFile: auth.type === 'key' ? auth.keyFile : '',
    passphraseEnv: auth.type === 'key' ? (auth.passphraseEnv ?? '') : '',
    passwordEnv: auth.type === 'password' ? (auth.passwordEnv ?? '') : '',
    jump: host.jump ?? '',
  };
}

function optional(text: string): string | undefined {
  return text.trim() === '' ? undefined : text.trim();
}

/** The input to save; `original` keeps what the form does not edit (known_hosts files, agent socket). */
export function inputOf(fields: HostFormFields, original?: HostView): HostInput {
  const common = { name: fields.name.trim(), label: fields.label || undefined, notes: optional(fields.notes) };
  if (fields.kind === 'local') return { kind: 'local', ...common };
  const previous = original?.host.kind === 'ssh' ? original.host : undefined;
  const auth: Extract<HostInput, { kind: 'ssh' }>['auth'] =
    fields.auth === 'key'
      ? { type: 'key', keyFile: fields.keyFile.trim(), passphraseEnv: optional(fields.passphraseEnv) }
      : fields.auth === 'agent'
        ? { type: 'agent', socket: previous?.auth.type === 'agent' ? previous.auth.socket : undefined }
        : { type: 'password', passwordEnv: fields.passwordEnv.trim() };
  const port = fields.port.trim() === '' ? undefined : Number(fields.port);
  return {
    kind: 'ssh',
    ...common,
    address: fields.address.trim(),
    port,
    user: optional(fields.user),
    auth,
    jump: optional(fields.jump),
    knownHostsFiles: previous?.knownHostsFiles,
  };
}

/** Maps a schema issue's path (host.auth.keyFile, host.port…) to the form field that shows it. */
function fieldOfPath(path: readonly PropertyKey[]): HostFormField | null {
  const [, first, second] = path;
  if (first === 'auth') return second === 'keyFile' || second === 'passphraseEnv' || second === 'passwordEnv' ? second : 'auth';
  const known: HostFormField[] = ['name', 'address', 'port', 'user', 'jump', 'label', 'notes'];
  return known.find((field) => field === first) ?? null;
}

export function validate(fields: HostFormFields, original?: HostView): HostFormErrors {
  const errors: HostFormErrors = {};
  const input = inputOf(fields, original);
  if (fields.kind === 'ssh' && fields.port.trim() !== '' && !/^\d+$/.test(fields.port.trim())) errors.port = 'a port is a number from 1 to 65535 (empty means 22)';
  if (fields.kind === 'ssh' && fields.jump.trim() === fields.name.trim() && fields.jump.trim() !== '') errors.jump = 'a host cannot be its own jump host';
  const result = LAB_API_REQUEST_SCHEMAS.saveHost.safeParse({ host: input });
  if (result.success) return errors;
  for (const issue of result.error.issues) {
    const field = fieldOfPath(issue.path);
    if (!field || errors[field]) continue;
    const empty = typeof fields[field] === 'string' && fields[field].trim() === '';
    errors[field] = (empty && REQUIRED[field]) || (field === 'port' ? 'a port is a number from 1 to 65535 (empty means 22)' : issue.message);
  }
  return errors;
}
