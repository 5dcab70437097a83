// The version recorded in runs and bundles must be the package's version.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { CNLAB_VERSION } from '../../src-main/core/version';

it('reports the version of package.json', () => {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  expect(CNLAB_VERSION).toBe(pkg.version);
});
