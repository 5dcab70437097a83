// The browser mode's per-start secret: 32 random bytes in base64url, checked in constant time, so only
// the page opened from the URL `cnlab serve` printed can reach an API that drives root shells on lab hosts.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export function createAccessToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Hashing both sides first gives equal lengths, so neither the length nor the content leaks through timing. */
export function tokenMatches(expected: string, offered: string | null | undefined): boolean {
  if (typeof offered !== 'string' || offered.length === 0) return false;
  const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(expected), digest(offered));
}
