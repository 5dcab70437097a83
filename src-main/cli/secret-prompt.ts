// The CLI's last source of a password or passphrase: on a terminal, ask for it without echo (the answer
// is kept in memory for this command only); without a terminal, nothing is asked and the connection
// fails with the specific error that names the host and the ways to give the secret.
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import type { SecretRequest } from '../core/hosts/secret-store';

export interface PromptStreams {
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Where the question goes (stderr, so stdout stays clean for --json). */
  output: NodeJS.WritableStream;
}

export function secretQuestion(request: SecretRequest): string {
  const what = request.kind === 'password' ? `password of ${request.host}` : `passphrase for key ${request.keyFile ?? ''}`.trimEnd();
  return `cnlab: ${what} (host ${request.host}): `;
}

/** Reads one line with echo off: what is typed never reaches the output stream. */
export function readHidden(question: string, streams: PromptStreams): Promise<string | undefined> {
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      if (!muted) streams.output.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: streams.input, output, terminal: streams.input.isTTY === true });
  return new Promise((resolve) => {
    let answered = false;
    // Ctrl-C or Ctrl-D: no answer, so the connection fails with the error that names the other ways.
    rl.on('SIGINT', () => rl.close());
    rl.on('close', () => {
      if (answered) return;
      streams.output.write('\n');
      resolve(undefined);
    });
    rl.question(question, (answer) => {
      answered = true;
      rl.close();
      streams.output.write('\n');
      resolve(answer === '' ? undefined : answer);
    });
    // Everything after the question is the user's typing: never echoed.
    muted = true;
  });
}

/** The prompt for a SecretSources: undefined (no prompt) when stdin is not a terminal. */
export function terminalSecretPrompt(streams: PromptStreams = { input: process.stdin, output: process.stderr }): ((request: SecretRequest) => Promise<string | undefined>) | undefined {
  if (streams.input.isTTY !== true) return undefined;
  // One question at a time: hosts connecting in parallel must not interleave their prompts.
  let queue: Promise<unknown> = Promise.resolve();
  return (request) => {
    const next = queue.then(() => readHidden(secretQuestion(request), streams));
    queue = next.catch(() => undefined);
    return next;
  };
}
