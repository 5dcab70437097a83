import { describe, expect, it } from 'vitest';
import { CnlabError } from '../core/errors';
import { reportError, terminalSafe } from './output';

describe('terminalSafe', () => {
  it('shows control, bidi and zero-width characters as escapes, and leaves other text alone', () => {
    expect(terminalSafe('host a\rb\u202Ec\u200Dd\u0000e\u001b[2Jf')).toBe('host a\\u{d}b\\u{202e}c\\u{200d}d\\u{0}e\\u{1b}[2Jf');
    expect(terminalSafe('line one\nline two\tx ；ünïcödé 漢字')).toBe('line one\nline two\tx ；ünïcödé 漢字');
  });

  it('is applied to the error line the CLI prints', () => {
    const lines: string[] = [];
    const io = { stdout: (text: string) => lines.push(text), stderr: (text: string) => lines.push(text) };
    reportError(io, new CnlabError('not-found', 'host x\r\u202Eevil is not in the inventory'), false);
    expect(lines).toEqual(['cnlab: host x\\u{d}\\u{202e}evil is not in the inventory\n']);
  });
});
