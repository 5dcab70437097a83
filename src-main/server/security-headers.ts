// The headers every page of the console is served with, shared by the browser-mode server and the
// Electron window (which sets the same policy on its responses), so both shells run the page equally locked down.

/** No inline script, no foreign hosts: the page talks only to its own origin (the API socket included). */
export const CONTENT_SECURITY_POLICY = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'";

export function securityHeaders(): Record<string, string> {
  return {
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    // The token lives in the URL fragment; no-referrer keeps the page's address out of any request it makes.
    'Referrer-Policy': 'no-referrer',
    // A console that drives root shells must not be framed by another site (clickjacking).
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
  };
}
