// How the CLI talks: results on stdout (JSON only with --json), progress and errors on stderr,
// exit codes 0 ok, 1 failure, 2 usage. Errors are one specific line, never a stack trace.
import type { CnlabError} from '../core/errors';
import { toCnlabError } from '../core/errors';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

export function printJson(io: CliIo, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}

/** A plain text table: columns padded to their widest cell. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

export function exitCodeFor(error: CnlabError): number {
  return error.code === 'usage' ? EXIT_USAGE : EXIT_FAILURE;
}

/**
 * Text a terminal shows as it is: control characters (but newline and tab), and the bidi and zero-width
 * characters that reorder or hide what is shown, as visible \u{…} escapes. Errors quote values users (or
 * a hostile file) gave, and a CR or U+202E in one could redraw the line (found by the injection campaign).
 */
export function terminalSafe(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, (char) => `\\u{${(char.codePointAt(0) ?? 0).toString(16)}}`);
}

export function reportError(io: CliIo, error: unknown, json: boolean): number {
  const known = toCnlabError(error);
  if (json) {
    printJson(io, { ok: false, error: { code: known.code, message: known.message } });
  }
  io.stderr(`cnlab: ${terminalSafe(known.message)}\n`);
  if (known.code === 'internal' && process.env.CNLAB_DEBUG && error instanceof Error) io.stderr(`${error.stack ?? ''}\n`);
  return exitCodeFor(known);
}
