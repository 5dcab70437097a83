// The one quoting function: every value that reaches a remote or local shell passes through here.
// POSIX single quotes are the only quoting with no special characters inside, so nothing is expanded.

import { CnlabError } from '../errors';

/** Quotes one value for POSIX sh. Refuses NUL, which no shell argument can carry. */
export function quoteShellArg(value: string | number): string {
  const text = String(value);
  if (text.includes('\0')) {
    throw new CnlabError('invalid-input', `a shell argument contains a NUL byte (${JSON.stringify(text.slice(0, 40))}): remove it`);
  }
  if (text !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Joins a program and its arguments into one command line, each word quoted. */
export function shellCommand(words: readonly (string | number)[]): string {
  return words.map(quoteShellArg).join(' ');
}

/**
 * Tagged template: literal parts are trusted shell text written by cnlab, every interpolated
 * value is quoted; an array interpolates as several quoted words.
 *   sh`ip link add ${name} type veth peer name ${peer}`
 */
export function sh(literals: TemplateStringsArray, ...values: readonly (string | number | readonly (string | number)[])[]): string {
  let out = literals[0] ?? '';
  values.forEach((value, index) => {
    out += Array.isArray(value) ? shellCommand(value) : quoteShellArg(value as string | number);
    out += literals[index + 1] ?? '';
  });
  return out;
}
