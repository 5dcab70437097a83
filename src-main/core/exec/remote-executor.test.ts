// The remote executor's reading of a command's end from ssh2's channel events. Test double: an ssh2
// channel cannot be made to deliver its packets in a chosen order by a real sshd, so a fake channel
// replays the orders seen: exit before close, and exit already emitted before the channel reached us.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { SshConnection } from '../ssh/ssh-connection';
import type { SshConnectionPool } from '../ssh/connection-pool';
import { PID_MARKER } from './process-group';
import { RemoteExecutor } from './remote-executor';

class FakeChannel extends EventEmitter {
  readonly stderr = new EventEmitter();
  end(): void {}
  close(): void {}
  resume(): this {
    return this;
  }
}

function executorWith(play: (channel: FakeChannel) => void): RemoteExecutor {
  const connection = {
    host: { name: 'h1' },
    isOpen: true,
    onClose: () => () => undefined,
    exec: () => {
      const channel = new FakeChannel();
      play(channel);
      return Promise.resolve(channel);
    },
  } as unknown as SshConnection;
  const pool = { connection: () => Promise.resolve(connection) } as unknown as SshConnectionPool;
  return new RemoteExecutor('h1', pool);
}

describe('RemoteExecutor exit status', () => {
  it('takes the status from the exit event', async () => {
    const executor = executorWith((channel) =>
      setTimeout(() => {
        channel.stderr.emit('data', Buffer.from(`${PID_MARKER}4242\n`));
        channel.emit('data', Buffer.from('h1\n'));
        channel.emit('exit', 0);
        channel.emit('close', 0);
      }, 5),
    );
    expect(await executor.exec('hostname')).toMatchObject({ code: 0, signal: null, stdout: 'h1\n' });
  });

  it('takes it from close when exit fired before the channel was handed over', async () => {
    const executor = executorWith((channel) => {
      // ssh2 read the exec reply, the output and the exit status in one go: 'exit' has no listener yet.
      channel.emit('exit', 3);
      setTimeout(() => {
        channel.emit('data', Buffer.from('h1\n'));
        channel.emit('close', 3);
      }, 5);
    });
    expect(await executor.exec('hostname')).toMatchObject({ code: 3, signal: null, stdout: 'h1\n' });
  });

  it('reports a signal the same way, and no status when the session ended without one', async () => {
    const signalled = executorWith((channel) => setTimeout(() => channel.emit('close', null, 'SIGKILL'), 5));
    expect(await signalled.exec('sleep 9')).toMatchObject({ code: null, signal: 'SIGKILL' });
    const silent = executorWith((channel) => setTimeout(() => channel.emit('close'), 5));
    expect(await silent.exec('true')).toMatchObject({ code: null, signal: null });
  });
});
