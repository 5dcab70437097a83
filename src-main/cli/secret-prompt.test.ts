// The CLI's prompt: asks on a terminal only, never echoes what is typed, one question at a time.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readHidden, secretQuestion, terminalSecretPrompt } from './secret-prompt';

function terminal() {
  const input = Object.assign(new PassThrough(), { isTTY: true });
  const output = new PassThrough();
  let written = '';
  output.on('data', (chunk: Buffer) => (written += chunk.toString('utf8')));
  return { input, output, written: () => written };
}

describe('secret prompt', () => {
  it('asks the question and never echoes the answer', async () => {
    const io = terminal();
    const answer = readHidden('cnlab: password of h1 (host h1): ', io);
    io.input.write('s3cret-typed\r');
    expect(await answer).toBe('s3cret-typed');
    expect(io.written()).toContain('cnlab: password of h1 (host h1): ');
    expect(io.written()).not.toContain('s3cret');
  });

  it('gives no answer when the input ends (Ctrl-D) or the line is empty', async () => {
    const ended = terminal();
    const none = readHidden('q: ', ended);
    ended.input.end();
    expect(await none).toBeUndefined();
    const empty = terminal();
    const blank = readHidden('q: ', empty);
    empty.input.write('\r');
    expect(await blank).toBeUndefined();
  });

  it('asks nothing without a terminal', () => {
    expect(terminalSecretPrompt({ input: new PassThrough(), output: new PassThrough() })).toBeUndefined();
  });

  it('asks hosts one after another', async () => {
    const io = terminal();
    const prompt = terminalSecretPrompt(io);
    expect(prompt).toBeDefined();
    const first = prompt?.({ host: 'h1', kind: 'password' });
    const second = prompt?.({ host: 'h2', kind: 'passphrase', keyFile: '/k/id' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(io.written()).not.toContain('h2');
    io.input.write('one\r');
    expect(await first).toBe('one');
    await new Promise((resolve) => setTimeout(resolve, 20));
    io.input.write('two\r');
    expect(await second).toBe('two');
    expect(io.written()).toContain(secretQuestion({ host: 'h2', kind: 'passphrase', keyFile: '/k/id' }));
    expect(io.written()).not.toMatch(/one|two/);
  });
});
