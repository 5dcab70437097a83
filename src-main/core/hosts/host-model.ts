// The host inventory entry: how to reach a lab host. Holds references to secrets (an env var name),
// never the secrets themselves, so an inventory can be saved and shared safely. A password or passphrase
// without a variable comes from the secret store or the session (secret-store.ts).

import { z } from 'zod';

/** Inventory names appear in file names, CLI arguments and scripts: keep them plain. */
export const HOST_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export const hostNameSchema = z
  .string()
  .regex(HOST_NAME_PATTERN, 'a host name has 1-63 letters, digits, "_", "." or "-" and starts with a letter or digit');

export const hostAuthSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('key'),
    keyFile: z.string().min(1),
    /** Name of the environment variable holding the key's passphrase, if the key is encrypted. */
    passphraseEnv: z.string().min(1).optional(),
  }),
  z.object({ type: z.literal('agent'), socket: z.string().min(1).optional() }),
  z.object({
    type: z.literal('password'),
    /** Name of the environment variable holding the password; without it the password is given in the console or at a prompt. */
    passwordEnv: z.string().min(1).optional(),
  }),
]);

export const sshHostSchema = z.object({
  name: hostNameSchema,
  kind: z.literal('ssh'),
  address: z.string().min(1).max(253).regex(/^[^\s'"`$;&|<>\\]+$/, 'an address is a host name or an IP address'),
  port: z.number().int().min(1).max(65535).default(22),
  user: z.string().regex(/^[a-z_][a-z0-9_.-]{0,31}$/i, 'a user name has letters, digits, "_", "." or "-"').default('root'),
  auth: hostAuthSchema,
  jump: hostNameSchema.optional(),
  /** Extra known_hosts files to trust, e.g. an ssh_config's UserKnownHostsFile. */
  knownHostsFiles: z.array(z.string().min(1)).default([]),
  label: z.enum(['bare-metal', 'vm']).optional(),
  notes: z.string().max(2000).optional(),
});

export const localHostSchema = z.object({
  name: hostNameSchema,
  kind: z.literal('local'),
  label: z.enum(['bare-metal', 'vm']).optional(),
  notes: z.string().max(2000).optional(),
});

export const hostSchema = z.discriminatedUnion('kind', [sshHostSchema, localHostSchema]);

export type HostAuth = z.infer<typeof hostAuthSchema>;
export type SshHost = z.infer<typeof sshHostSchema>;
export type LocalHost = z.infer<typeof localHostSchema>;
export type Host = z.infer<typeof hostSchema>;
export type HostInput = z.input<typeof hostSchema>;
