// Maps what ssh2 and the socket layer throw to specific CnlabErrors that name the host and the fix.
// Users see these messages: they must say what happened and what to do, never a stack trace.
import { CnlabError } from '../errors';
import type { SshHost } from '../hosts/host-model';

function authDescription(host: SshHost): string {
  switch (host.auth.type) {
    case 'key':
      return `key ${host.auth.keyFile}`;
    case 'password':
      return host.auth.passwordEnv ? `the password from $${host.auth.passwordEnv}` : 'the password given to cnlab';
    case 'agent':
      return 'the keys in ssh-agent';
  }
}

export function describeConnectError(host: SshHost, error: unknown): CnlabError {
  if (error instanceof CnlabError) return error;
  const err = error as NodeJS.ErrnoException & { level?: string };
  const where = `${host.address}:${host.port}`;
  const code = err.code ?? '';
  const message = err.message ?? String(error);
  const facts = { host: host.name, address: host.address, port: host.port };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') {
    return new CnlabError('dns-failure', `host ${host.name}: cannot resolve address ${host.address} (DNS lookup failed): check the address or use an IP address`, facts);
  }
  if (code === 'ECONNREFUSED') {
    return new CnlabError('connection-refused', `host ${host.name}: connection refused at ${where}: check that sshd runs there and listens on port ${host.port}`, facts);
  }
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EHOSTDOWN') {
    return new CnlabError('host-unreachable', `host ${host.name}: ${where} is unreachable (${code}): check the address and that the host is up`, facts);
  }
  if (code === 'ETIMEDOUT' || /timed out while waiting for handshake/i.test(message)) {
    return new CnlabError('connect-timeout', `host ${host.name}: no SSH answer from ${where} in time: check the address, the port and any firewall`, facts);
  }
  if (err.level === 'client-authentication' || /authentication methods failed/i.test(message)) {
    return new CnlabError('auth-failed', `host ${host.name}: authentication failed for user ${host.user} with ${authDescription(host)}: check the user name and that the key or password is accepted by the host`, {
      ...facts,
      // A refused password can be given again (the page prompts for it).
      ...(host.auth.type === 'password' ? { needsSecret: 'password' } : {}),
    });
  }
  if (code === 'ECONNRESET' || /connection lost|socket hang up|closed/i.test(message)) {
    return new CnlabError('connection-lost', `host ${host.name}: the connection to ${where} closed during the SSH handshake: check sshd's logs on the host (MaxStartups, AllowUsers)`, facts);
  }
  return new CnlabError('connection-lost', `host ${host.name}: cannot connect to ${where}: ${message}`, facts, { cause: error });
}
