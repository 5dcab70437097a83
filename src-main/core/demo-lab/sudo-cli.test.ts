// The sudo'd CLI call: its command line, its progress lines and its --json answer (errors included).
import { describe, expect, it } from 'vitest';
import { parseCliAnswer, progressReader, sudoCliArgv } from './sudo-cli';

describe('running the demo lab CLI through sudo', () => {
  it('runs the same binary as node on the CLI bundle, without a password prompt', () => {
    const argv = sudoCliArgv(['demo-lab', 'up', '--json'], { cliBundle: '/opt/cnlab/out/main/cli.js', runtime: '/opt/cnlab/cnlab' });
    expect(argv.slice(0, 4)).toEqual(['-n', '--preserve-env=ELECTRON_RUN_AS_NODE', '/opt/cnlab/cnlab', '-e']);
    expect(argv.slice(5)).toEqual(['/opt/cnlab/out/main/cli.js', 'demo-lab', 'up', '--json']);
  });

  it('turns progress lines split across chunks into progress calls and ignores other lines', () => {
    const seen: string[] = [];
    const read = progressReader((done, total, message) => seen.push(`${done}/${total}:${message}`));
    read('progress 1/7 created nam');
    read('espaces\nsome warning\nprogress 2/7 checked\n');
    expect(seen).toEqual(['1/7:created namespaces', '2/7:checked']);
  });

  it('returns the JSON answer, and rebuilds a CLI error with its code and message', () => {
    expect(parseCliAnswer<{ id: string }>('{"id":"tb0001"}', '', 0)).toEqual({ id: 'tb0001' });
    expect(() => parseCliAnswer('{"ok":false,"error":{"code":"tool-missing","message":"install openssh-server"}}', '', 1)).toThrow(
      expect.objectContaining({ code: 'tool-missing', message: 'install openssh-server' }),
    );
  });

  it('names sudo and its last error line when the answer is not JSON', () => {
    expect(() => parseCliAnswer('', 'sudo: a password is required\n', 1)).toThrow(/through sudo failed \(exit 1\): sudo: a password is required/);
  });
});
