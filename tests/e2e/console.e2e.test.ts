// The console as a new user meets it: the browser mode of the built app in Debian Chromium, with the real
// backend on a two-host testbed. From an empty workspace to an applied, verified, torn-down bridge + VXLAN
// lab without a terminal; then a changed host key is refused. Screenshots of each step: test-artifacts/e2e/.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startTestbed, type Testbed } from '../../src-main/core/testbed/testbed.ts';
import { expectNothingLeft } from '../support/lab-checks';
import { launchChromium, screenshotter } from './support/browser';
import { startConsoleServer, type ConsoleServer } from './support/console-server';

let testbed: Testbed;
let server: ConsoleServer;
let browser: Browser;
let page: Page;
const shot = screenshotter('console');
const pageErrors: string[] = [];

const byTestId = (id: string) => page.getByTestId(id);

/** The host key's fingerprint as OpenSSH prints it, read independently of cnlab. */
function fingerprintOf(name: string): string {
  const out = execFileSync('ssh-keygen', ['-lf', `${testbed.host(name).hostKeyPath}.pub`], { encoding: 'utf8' });
  return out.split(' ')[1] ?? '';
}

async function addHost(name: string): Promise<void> {
  const host = testbed.host(name);
  await byTestId('add-host').first().click();
  const form = byTestId('host-form');
  await form.getByTestId('host-name').fill(name);
  await form.getByTestId('host-address').fill(host.address);
  await form.getByTestId('host-port').fill(String(host.port));
  await form.getByTestId('host-user').fill('root');
  await form.getByTestId('host-auth').selectOption('key');
  await form.getByTestId('host-key-file').fill(testbed.clientKeyPath);
  await form.getByTestId('host-save').click();
  // A new host is tested at once: its key is unknown, so the trust-on-first-use dialog shows its fingerprint.
  const dialog = byTestId('trust-dialog');
  await dialog.waitFor();
  await expect.poll(() => dialog.getByTestId('trust-fingerprint').textContent()).toContain(fingerprintOf(name));
  await shot(page, `trust-${name}`);
  await dialog.getByTestId('trust-accept').click();
  await page.locator(`[data-testid="host-row-${name}"][data-state="connected"]`).waitFor({ timeout: 20_000 });
}

async function waitForJobToSettle(): Promise<void> {
  // Job events arrive batched (≤ 10/s): give the job a moment to show up, then wait until no job runs.
  const running = page.locator('[data-testid="job-progress"], [data-testid="lab-job"][data-outcome="running"]').first();
  await running.waitFor({ timeout: 2_000 }).catch(() => undefined);
  await running.waitFor({ state: 'detached', timeout: 90_000 });
}

beforeAll(async () => {
  testbed = await startTestbed({ hosts: 2 });
  server = await startConsoleServer();
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (error) => pageErrors.push(error.message));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await testbed?.teardown();
});

describe('a new user, empty workspace → applied, verified, torn-down two-host lab', () => {
  it('opens on an empty state that says what to do first', async () => {
    await page.goto(server.url);
    await expect.poll(() => page.textContent('body')).toMatch(/Add your first lab host/i);
    await shot(page, 'empty-workspace');
  });

  it('adds two testbed hosts, accepting their keys after comparing fingerprints', async () => {
    await addHost('h1');
    await addHost('h2');
    await shot(page, 'hosts-connected');
  });

  it('probes the hosts and shows their facts: kernel features as badges, tools with versions', async () => {
    await byTestId('hosts-probe-all').click();
    await waitForJobToSettle();
    await byTestId('host-row-h1').click();
    const facts = byTestId('facts-panel');
    await facts.waitFor();
    await expect.poll(() => facts.getByTestId('feature-bridge').getAttribute('data-supported')).toBe('true');
    expect(['true', 'false', 'unknown']).toContain(await facts.getByTestId('feature-ipvlan').getAttribute('data-supported'));
    await expect.poll(() => facts.getByTestId('tool-iproute2').textContent()).toMatch(/\d/);
    await shot(page, 'facts-h1');
  });

  it('designs a bridge + vxlan topology across both hosts, point and click; the YAML follows', async () => {
    await byTestId('nav-topology').click();
    await byTestId('topology-name').fill('demo');
    await byTestId('designer-host-h1').check();
    await byTestId('designer-host-h2').check();
    await byTestId('add-network').click();
    await byTestId('network-name-0').fill('lan');
    await byTestId('network-mode-0').selectOption('bridge');
    await byTestId('add-network').click();
    await byTestId('network-name-1').fill('ov');
    await byTestId('network-mode-1').selectOption('vxlan');
    const containers: [string, string, string[]][] = [
      ['web', 'h1', ['lan', 'ov']],
      ['db', 'h1', ['lan']],
      ['client', 'h2', ['ov']],
    ];
    for (const [index, [name, host, networks]] of containers.entries()) {
      await byTestId('add-container').click();
      await byTestId(`container-name-${index}`).fill(name);
      await byTestId(`container-host-${index}`).selectOption(host);
      for (const network of networks) await byTestId(`container-${index}-network-${network}`).check();
    }
    await expect.poll(() => byTestId('topology-yaml').inputValue()).toMatch(/mode: vxlan[\s\S]*name: client/);
    await expect.poll(async () => (await byTestId('topology-problems').count()) === 0 || (await byTestId('topology-problems').textContent())?.trim() === '').toBe(true);
    await shot(page, 'designed');
  });

  it('previews the exact commands per host without changing anything', async () => {
    await byTestId('action-preview').click();
    await expect.poll(() => byTestId('preview-script-h1').textContent(), { timeout: 20_000 }).toMatch(/netns add cnl-demo-web/);
    expect(await expectNothingLeft(testbed, 'demo')).toEqual([]);
    await shot(page, 'preview');
  });

  it('applies; the diagram nodes turn up', async () => {
    await byTestId('action-apply').click();
    for (const container of ['web', 'db', 'client']) {
      await page.locator(`[data-testid="diagram-node"][data-node="ctr:${container}"][data-state="up"]`).waitFor({ state: 'attached', timeout: 60_000 });
    }
    await waitForJobToSettle();
    await shot(page, 'applied');
  });

  it('verifies: every pair as expected, shown as a matrix', async () => {
    await byTestId('action-verify').click();
    await expect.poll(() => byTestId('verify-summary').textContent(), { timeout: 60_000 }).toMatch(/(\d+)\/\1 pairs as expected/);
    await shot(page, 'verified');
  });

  it('tears down: nothing left on the hosts', async () => {
    await byTestId('action-teardown').click();
    await page.locator('[data-testid="diagram-node"][data-node="ctr:web"][data-state="up"]').waitFor({ state: 'detached', timeout: 60_000 });
    await waitForJobToSettle();
    expect(await expectNothingLeft(testbed, 'demo')).toEqual([]);
    await shot(page, 'torn-down');
  });

  it('shows every command in the log drawer with its exit code', async () => {
    await page.keyboard.press('Control+l');
    const drawer = byTestId('log-drawer');
    await drawer.waitFor();
    await expect.poll(() => drawer.getByTestId('log-row').count()).toBeGreaterThan(3);
    await shot(page, 'log-drawer');
    await page.keyboard.press('Control+l');
  });
});

describe('a changed host key', () => {
  it('is refused with the fix, and the dialog offers no way to accept it', async () => {
    await testbed.regenerateHostKey('h2');
    await byTestId('nav-hosts').click();
    await byTestId('host-row-h2').getByTestId('host-check').click();
    const dialog = byTestId('key-changed-dialog');
    await dialog.waitFor({ timeout: 20_000 });
    expect(await dialog.textContent()).toMatch(/does not match/i);
    expect(await dialog.getByRole('button').allTextContents()).toEqual([expect.stringMatching(/close/i)]);
    await shot(page, 'key-changed');
    await dialog.getByTestId('key-changed-close').click();
    await page.locator('[data-testid="host-row-h2"][data-state="key-changed"]').waitFor();
    expect(pageErrors).toEqual([]);
  });
});
