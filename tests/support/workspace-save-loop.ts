// Child process of tests/unit/workspace-crash.test.ts: opens the workspace given as its argument and saves it
// in a loop until it is killed, printing `saved N` once save N has resolved. Each save carries the counter N
// in host lab-b's notes, and even saves also in the settings (a save that writes two places at once).
// It prints `ready` once loaded and touches the workspace only after a line on stdin (so a test can start it ahead).
// Usage: node --import tsx tests/support/workspace-save-loop.ts WORKSPACE_DIR
import { once } from 'node:events';
import { HostInventory } from '../../src-main/core/hosts/inventory';

/** The counter a workspace holds (0 before the first save). */
export function savedCounter(inventory: HostInventory): number {
  const notes = inventory.find('lab-b')?.notes ?? '';
  return /^saves (\d+)$/.exec(notes) ? Number(notes.slice('saves '.length)) : 0;
}

/** The autosaveMs that save N (or the last even save before it) wrote. */
export function autosaveFor(counter: number): number {
  const even = counter - (counter % 2);
  return even === 0 ? 1500 : 200 + (even % 1000);
}

async function main(dir: string): Promise<void> {
  process.stdout.write('ready\n');
  await once(process.stdin, 'data');
  const inventory = await HostInventory.load(dir);
  let counter = savedCounter(inventory);
  process.stdout.write(`loaded ${counter}\n`);
  for (;;) {
    counter += 1;
    inventory.add({ ...inventory.getSsh('lab-b'), notes: `saves ${counter}` }, { replace: true });
    if (counter % 2 === 0) await inventory.setSettings({ autosaveMs: autosaveFor(counter) });
    else await inventory.save();
    process.stdout.write(`saved ${counter}\n`);
  }
}

if (process.argv[1]?.endsWith('workspace-save-loop.ts')) {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write('usage: node --import tsx tests/support/workspace-save-loop.ts WORKSPACE_DIR\n');
    process.exit(2);
  }
  main(dir).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
