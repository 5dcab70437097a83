// The quoting function is the shell-injection boundary: every hostile value must arrive at the
// program as exactly one argument, byte for byte, and nothing in it may run.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { quoteShellArg, sh, shellCommand } from './quote';

const scratch = mkdtempSync(join(tmpdir(), 'cnlab-quote-'));
const marker = join(scratch, 'pwned');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs the quoted words through a real sh and returns the arguments it received. */
function argumentsSeenBySh(command: string): string[] {
  const out = execFileSync('/bin/sh', ['-c', `set -- ${command}; for a in "$@"; do printf '%s\\0' "$a"; done`]);
  return out.toString('utf8').split('\0').slice(0, -1);
}

const hostile = [
  'a;reboot',
  `a; touch ${marker}`,
  `$(touch ${marker})`,
  `\`touch ${marker}\``,
  "it's",
  `"double"`,
  'line\nbreak',
  'tab\tand space',
  '*',
  '~root',
  '$HOME',
  '--help',
  '',
  'ünï©ødé ‮',
  '\\',
  "'; touch " + marker + "; echo '",
];

describe('quoteShellArg', () => {
  it.each(hostile)('passes %j to sh as one unchanged argument', (value) => {
    expect(argumentsSeenBySh(quoteShellArg(value))).toEqual([value]);
  });

  it('never lets a hostile value run a command', () => {
    for (const value of hostile) argumentsSeenBySh(quoteShellArg(value));
    expect(existsSync(marker)).toBe(false);
  });

  it('leaves plain words readable', () => {
    expect(quoteShellArg('eth0')).toBe('eth0');
    expect(quoteShellArg('198.19.0.1/24')).toBe('198.19.0.1/24');
    expect(quoteShellArg(42)).toBe('42');
  });

  it('refuses a NUL byte with a specific error', () => {
    expect(() => quoteShellArg('a\0b')).toThrow(/NUL byte/);
  });
});

describe('shellCommand and sh``', () => {
  it('quotes every word of a command', () => {
    expect(argumentsSeenBySh(shellCommand(['ip', 'link', 'add', 'a;b', '$(id)']))).toEqual(['ip', 'link', 'add', 'a;b', '$(id)']);
  });

  it('quotes interpolations and arrays but keeps literal parts as shell text', () => {
    const name = "x'; reboot; '";
    const command = sh`printf %s ${name} ${['a b', 'c']}`;
    expect(command).toBe(`printf %s 'x'\\''; reboot; '\\''' 'a b' c`);
    expect(execFileSync('/bin/sh', ['-c', command]).toString()).toBe(`${name}a bc`);
  });
});
