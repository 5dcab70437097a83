// The release packaging that cannot run here (no Electron binary): its configuration is loaded and checked
// against electron-builder's own schema, its fields and icons, and the `dist` script that runs it.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');
const configPath = join(root, 'build', 'electron-builder.config.cjs');
const require = createRequire(import.meta.url);

interface PlatformConfig {
  target: string[];
  icon: string;
  category?: string;
  maintainer?: string;
}

interface BuilderConfig {
  appId: string;
  productName: string;
  directories: { output: string; buildResources: string };
  files: string[];
  npmRebuild: boolean;
  electronDist?: string;
  linux: PlatformConfig;
  mac: PlatformConfig;
  win: PlatformConfig;
}

/** Loads the config afresh, so a change of environment is seen. */
function loadConfig(): BuilderConfig {
  delete require.cache[require.resolve(configPath)];
  return require(configPath) as BuilderConfig;
}

function pngSize(file: string): { width: number; height: number } {
  const bytes = readFileSync(file);
  expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  expect(bytes.toString('ascii', 12, 16)).toBe('IHDR');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

afterEach(() => {
  delete process.env.CNLAB_ELECTRON_DIST;
});

describe('electron-builder configuration', () => {
  it("passes electron-builder's own schema validation", async () => {
    // electron-builder's validator: a misspelt or misplaced key fails here rather than on a release machine.
    const { validateConfiguration } = require('app-builder-lib/out/util/config/config') as { validateConfiguration: (config: unknown, logger: unknown) => Promise<void> };
    const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
    await expect(validateConfiguration(loadConfig(), new DebugLogger(false))).resolves.toBeUndefined();
  });

  it('names the app and packs only the bundles, without rebuilding native modules', () => {
    const config = loadConfig();
    expect(config.appId).toBe('org.cnlab.console');
    expect(config.productName).toBe('cnlab');
    expect(config.directories.output).toBe('dist');
    expect(config.files).toEqual(['out/**', 'package.json']);
    expect(config.npmRebuild).toBe(false);
  });

  it('targets AppImage and deb on Linux, dmg on macOS and nsis on Windows', () => {
    const config = loadConfig();
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.linux.category).toBe('Network;Development');
    expect(config.linux.maintainer).toMatch(/^.+ <[^@\s]+@[^@\s]+>$/);
    expect(config.mac.target).toEqual(['dmg']);
    expect(config.win.target).toEqual(['nsis']);
  });

  it('takes the Electron distribution from CNLAB_ELECTRON_DIST only when it is set', () => {
    expect(loadConfig()).not.toHaveProperty('electronDist');
    process.env.CNLAB_ELECTRON_DIST = '/opt/electron-45';
    expect(loadConfig().electronDist).toBe('/opt/electron-45');
  });

  it('refers only to icons that exist and are 512×512 PNGs', () => {
    const config = loadConfig();
    const icons = [config.linux.icon, config.mac.icon, config.win.icon];
    expect(icons.every((icon) => icon.startsWith(`${config.directories.buildResources}/`))).toBe(true);
    for (const icon of new Set(icons)) expect(pngSize(join(root, icon))).toEqual({ width: 512, height: 512 });
  });
});

describe('package scripts', () => {
  const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

  it('builds the bundles and then packages with this configuration in `npm run dist`', () => {
    expect(scripts.dist).toBe('electron-vite build && electron-builder --config build/electron-builder.config.cjs');
  });

  it('builds and serves the browser mode in `npm run web`', () => {
    expect(scripts.web).toBe('electron-vite build && node src-main/cli/bin.cjs serve');
  });
});
