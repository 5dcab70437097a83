// Which pages may call the IPC bridge and which links leave for the system browser.
import { describe, expect, it } from 'vitest';
import { isAppUrl, isExternalWebUrl } from './app-url';

const packaged = { indexFile: '/opt/cnlab/resources/app.asar/out/renderer/index.html' };
const dev = { indexFile: packaged.indexFile, devServerUrl: 'http://localhost:5173' };

describe('isAppUrl', () => {
  it('accepts the packaged index.html, with a hash', () => {
    expect(isAppUrl('file:///opt/cnlab/resources/app.asar/out/renderer/index.html#/hosts', packaged)).toBe(true);
  });

  it('refuses other files, web pages and missing URLs when packaged', () => {
    expect(isAppUrl('file:///tmp/evil.html', packaged)).toBe(false);
    expect(isAppUrl('https://example.com/', packaged)).toBe(false);
    expect(isAppUrl(undefined, packaged)).toBe(false);
    expect(isAppUrl('not a url', packaged)).toBe(false);
  });

  it('accepts only the dev server origin in development', () => {
    expect(isAppUrl('http://localhost:5173/topology', dev)).toBe(true);
    expect(isAppUrl('http://localhost:5174/', dev)).toBe(false);
    expect(isAppUrl('file:///opt/cnlab/resources/app.asar/out/renderer/index.html', dev)).toBe(false);
  });
});

describe('isExternalWebUrl', () => {
  it('lets http(s) links out and keeps every other scheme in', () => {
    expect(isExternalWebUrl('https://github.com/cnlab/cnlab')).toBe(true);
    expect(isExternalWebUrl('http://example.com')).toBe(true);
    expect(isExternalWebUrl('file:///etc/passwd')).toBe(false);
    expect(isExternalWebUrl('javascript:alert(1)')).toBe(false);
    expect(isExternalWebUrl('smb://share/x')).toBe(false);
  });
});
