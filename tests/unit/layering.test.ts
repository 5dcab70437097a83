// Enforces the layers of ARCHITECTURE.md by reading every import: core is plain Node, only the
// Electron entry, the preload and src-main/platform/ touch electron, the renderer only the typed API.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return entry === 'node_modules' || entry === 'fixtures' ? [] : sourceFiles(path);
    return /\.(ts|vue|cjs|mjs)$/.test(entry) ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found = [...text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm)];
  return found.map((match) => match[1] ?? match[2] ?? match[3] ?? match[4] ?? '');
}

function violations(dir: string, forbidden: (specifier: string, file: string) => boolean): string[] {
  return sourceFiles(join(root, dir)).flatMap((file) =>
    importsOf(file)
      .filter((specifier) => forbidden(specifier, file))
      .map((specifier) => `${relative(root, file)} imports ${specifier}`),
  );
}

const isElectron = (specifier: string): boolean => specifier === 'electron' || specifier.startsWith('electron/');

describe('layering', () => {
  it('finds the imports it scans (the scanner itself works)', () => {
    expect(importsOf(join(root, 'src-main', 'platform', 'desktop-app.ts'))).toContain('electron');
    expect(sourceFiles(join(root, 'src-main', 'core')).length).toBeGreaterThan(10);
  });

  it('keeps src-main/core free of electron and of its adapters', () => {
    expect(violations('src-main/core', (s) => isElectron(s) || /\/(platform|cli|server|api|contract)\//.test(s))).toEqual([]);
  });

  it('keeps the console backend (src-main/api) plain Node: no electron, no transport', () => {
    expect(violations('src-main/api', (s) => isElectron(s) || /\/(platform|cli|server)\//.test(s))).toEqual([]);
  });

  it('keeps the contract safe for the page: only zod, yaml and core schema modules, never node or ssh2', () => {
    const allowed = (s: string): boolean =>
      s === 'zod' || s === 'yaml' || s.startsWith('./') || /^\.\.\/core\/(hosts\/(host-model|host-facts)|topology\/(topology-schema|plan)|studies\/study-view|recommendation\/recommendation-view)$/.test(s);
    expect(violations('src-main/contract', (s, file) => !allowed(s) && !file.endsWith('.test.ts'))).toEqual([]);
  });

  it('keeps src-main/common pure for both sides: the contract, echarts and papaparse, nothing of node or core', () => {
    const allowed = (s: string): boolean => s.startsWith('./') || s === '../../contract/lab-api' || s === 'papaparse' || s === 'vitest' || s.startsWith('echarts/');
    expect(violations('src-main/common', (s) => !allowed(s))).toEqual([]);
  });

  it('lets only the entry, the preload and src-main/platform import electron', () => {
    const allowed = (file: string): boolean =>
      /src-main\/(index\.ts|preload\/|platform\/)/.test(relative(root, file));
    expect(violations('src-main', (s, file) => isElectron(s) && !allowed(file))).toEqual([]);
    expect(violations('tests', (s) => isElectron(s))).toEqual([]);
  });

  it('keeps the renderer away from electron, ssh2, node modules and main-process code', () => {
    expect(
      violations('src-renderer', (s) => isElectron(s) || s === 'ssh2' || s.startsWith('node:') || s.includes('src-main') || (s.startsWith('@') && s.includes('/core/'))),
    ).toEqual([]);
  });
});
