// The new user's path through the console, step by step, shared by both back ends (browser mode in
// Chromium, Electron) so each runs exactly the same clicks and checks against the real testbed.
import { expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { Testbed } from '../../../src-main/core/testbed/testbed.ts';
import { expectNothingLeft } from '../../support/lab-checks';
import { hostKeyFingerprint } from '../../support/testbed-hosts';

export interface FlowContext {
  /** The console's page: a Chromium tab on `cnlab serve`, or the Electron main window. */
  page: Page;
  testbed: Testbed;
  shot: (page: Page, step: string) => Promise<string>;
}

/** The lab the flow designs; its id names everything it creates on the hosts. */
export const FLOW_LAB_ID = 'demo';

async function waitForJobToSettle(page: Page): Promise<void> {
  // Job events arrive batched (≤ 10/s): give the job a moment to show up, then wait until no job runs.
  const running = page.locator('[data-testid="job-progress"], [data-testid="lab-job"][data-outcome="running"]').first();
  await running.waitFor({ timeout: 2_000 }).catch(() => undefined);
  await running.waitFor({ state: 'detached', timeout: 90_000 });
}

export async function seeEmptyWorkspace({ page, shot }: FlowContext): Promise<void> {
  await expect.poll(() => page.textContent('body')).toMatch(/Add your first lab host/i);
  await shot(page, 'empty-workspace');
}

/** Adds one testbed host; being new, it is tested at once and its unknown key goes through trust on first use. */
export async function addHostTrustingKey({ page, testbed, shot }: FlowContext, name: string): Promise<void> {
  const host = testbed.host(name);
  await page.getByTestId('add-host').first().click();
  const form = page.getByTestId('host-form');
  await form.getByTestId('host-name').fill(name);
  await form.getByTestId('host-address').fill(host.address);
  await form.getByTestId('host-port').fill(String(host.port));
  await form.getByTestId('host-user').fill('root');
  await form.getByTestId('host-auth').selectOption('key');
  await form.getByTestId('host-key-file').fill(testbed.clientKeyPath);
  await form.getByTestId('host-save').click();
  const dialog = page.getByTestId('trust-dialog');
  await dialog.waitFor();
  await expect.poll(() => dialog.getByTestId('trust-fingerprint').textContent()).toContain(hostKeyFingerprint(testbed, name));
  await shot(page, `trust-${name}`);
  await dialog.getByTestId('trust-accept').click();
  await page.locator(`[data-testid="host-row-${name}"][data-state="connected"]`).waitFor({ timeout: 20_000 });
}

export async function addTestbedHosts(context: FlowContext): Promise<void> {
  await addHostTrustingKey(context, 'h1');
  await addHostTrustingKey(context, 'h2');
  await context.shot(context.page, 'hosts-connected');
}

export async function probeAndSeeFacts({ page, shot }: FlowContext): Promise<void> {
  await page.getByTestId('hosts-probe-all').click();
  await waitForJobToSettle(page);
  await page.getByTestId('host-row-h1').click();
  const facts = page.getByTestId('facts-panel');
  await facts.waitFor();
  await expect.poll(() => facts.getByTestId('feature-bridge').getAttribute('data-supported')).toBe('true');
  expect(['true', 'false', 'unknown']).toContain(await facts.getByTestId('feature-ipvlan').getAttribute('data-supported'));
  await expect.poll(() => facts.getByTestId('tool-iproute2').textContent()).toMatch(/\d/);
  await shot(page, 'facts-h1');
}

/** Point and click only: a bridge on h1 and a VXLAN overlay across h1 and h2; the YAML view must follow. */
export async function designBridgeAndVxlan({ page, shot }: FlowContext): Promise<void> {
  const byTestId = (id: string) => page.getByTestId(id);
  await byTestId('nav-topology').click();
  await byTestId('topology-name').fill(FLOW_LAB_ID);
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
  const problems = byTestId('topology-problems');
  await expect.poll(async () => (await problems.count()) === 0 || (await problems.textContent())?.trim() === '').toBe(true);
  await shot(page, 'designed');
}

export async function previewCommands({ page, testbed, shot }: FlowContext): Promise<void> {
  await page.getByTestId('action-preview').click();
  await expect.poll(() => page.getByTestId('preview-script-h1').textContent(), { timeout: 20_000 }).toMatch(/netns add cnl-demo-web/);
  // A preview must not touch the hosts.
  expect(await expectNothingLeft(testbed, FLOW_LAB_ID)).toEqual([]);
  await shot(page, 'preview');
}

export async function applyLab({ page, shot }: FlowContext): Promise<void> {
  await page.getByTestId('action-apply').click();
  for (const container of ['web', 'db', 'client']) {
    await page.locator(`[data-testid="diagram-node"][data-node="ctr:${container}"][data-state="up"]`).waitFor({ state: 'attached', timeout: 60_000 });
  }
  await waitForJobToSettle(page);
  // A node's details: where the container ended up and how long each launch phase took on its host.
  // Selected through the diagram's node list (the same action as a click on the canvas node).
  await page.locator('[data-testid="diagram-node"][data-node="ctr:web"] button').dispatchEvent('click');
  const details = page.getByTestId('node-details');
  await expect.poll(() => details.textContent()).toMatch(/198\.19\.\d+\.\d+\/\d+/);
  expect(await details.textContent()).toMatch(/netns: \d+(\.\d+)? ms/);
  await shot(page, 'applied');
}

export async function verifyLab({ page, shot }: FlowContext): Promise<void> {
  await page.getByTestId('action-verify').click();
  await expect.poll(() => page.getByTestId('verify-summary').textContent(), { timeout: 60_000 }).toMatch(/(\d+)\/\1 pairs as expected/);
  await shot(page, 'verified');
}

export async function tearDownLab({ page, testbed, shot }: FlowContext): Promise<void> {
  await page.getByTestId('action-teardown').click();
  await page.locator('[data-testid="diagram-node"][data-node="ctr:web"][data-state="up"]').waitFor({ state: 'detached', timeout: 60_000 });
  await waitForJobToSettle(page);
  expect(await expectNothingLeft(testbed, FLOW_LAB_ID)).toEqual([]);
  await shot(page, 'torn-down');
}

/** Opens the command log with its shortcut, checks it lists the commands, and closes it again. */
export async function seeCommandLog({ page, shot }: FlowContext): Promise<void> {
  await page.keyboard.press('Control+l');
  const drawer = page.getByTestId('log-drawer');
  await drawer.waitFor();
  await expect.poll(() => drawer.getByTestId('log-row').count()).toBeGreaterThan(3);
  await shot(page, 'log-drawer');
  await page.keyboard.press('Control+l');
}

/** h2 gets a new host key; checking it must show the refusal with no way to accept the new key. */
export async function refuseChangedHostKey({ page, testbed, shot }: FlowContext): Promise<void> {
  await testbed.regenerateHostKey('h2');
  await page.getByTestId('nav-hosts').click();
  await page.getByTestId('host-row-h2').getByTestId('host-check').click();
  const dialog = page.getByTestId('key-changed-dialog');
  await dialog.waitFor({ timeout: 20_000 });
  expect(await dialog.textContent()).toMatch(/does not match/i);
  expect(await dialog.getByRole('button').allTextContents()).toEqual([expect.stringMatching(/close/i)]);
  await shot(page, 'key-changed');
  await dialog.getByTestId('key-changed-close').click();
  await page.locator('[data-testid="host-row-h2"][data-state="key-changed"]').waitFor();
}

/**
 * The flow's steps after the empty workspace, one test each, in order: both back ends (browser mode and
 * Electron) register exactly these, so they prove the same things.
 */
export function registerFlowSteps(context: () => FlowContext): void {
  it('adds two testbed hosts, accepting their keys after comparing fingerprints', () => addTestbedHosts(context()));
  it('probes the hosts and shows their facts: kernel features as badges, tools with versions', () => probeAndSeeFacts(context()));
  it('designs a bridge + vxlan topology across both hosts, point and click; the YAML follows', () => designBridgeAndVxlan(context()));
  it('previews the exact commands per host without changing anything', () => previewCommands(context()));
  it('applies; the diagram nodes turn up', () => applyLab(context()));
  it('verifies: every pair as expected, shown as a matrix', () => verifyLab(context()));
  it('tears down: nothing left on the hosts', () => tearDownLab(context()));
  it('shows every command in the log drawer with its exit code', () => seeCommandLog(context()));
}
