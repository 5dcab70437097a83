// The main window's remembered bounds: parsing, validating and fitting them to the screens present now.
// Pure (no electron import) so it is unit-tested; desktop-app.ts reads and writes the file around it.
import { join } from 'node:path';

export interface Rectangle {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface WindowState {
  /** Absent: let the window manager centre the window. */
  x?: number;
  y?: number;
  width: number;
  height: number;
  maximized: boolean;
}

export const DEFAULT_WINDOW_STATE: WindowState = { width: 1280, height: 820, maximized: false };
export const MIN_WINDOW_SIZE = { width: 800, height: 560 };
/** How much of the window's top strip must lie on a screen for the user to grab and move it. */
const GRIP = { width: 120, height: 40 };

export function windowStateFile(configDir: string): string {
  return join(configDir, 'window-state.json');
}

function finite(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function overlap(a: Rectangle, b: Rectangle): Rectangle {
  const x = Math.max(a.x, b.x);
  const y = Math.max(a.y, b.y);
  return { x, y, width: Math.min(a.x + a.width, b.x + b.width) - x, height: Math.min(a.y + a.height, b.y + b.height) - y };
}

/** True when the window's title strip is visible enough on one of the screens to be dragged. */
function grabbable(bounds: Rectangle, screens: readonly Rectangle[]): boolean {
  const titleStrip = { x: bounds.x, y: bounds.y, width: bounds.width, height: GRIP.height };
  return screens.some((screen) => {
    const shared = overlap(titleStrip, screen);
    return shared.width >= Math.min(GRIP.width, bounds.width) && shared.height >= GRIP.height;
  });
}

/**
 * The state to open the window with, from the saved file's text (or null when there is none) and the work
 * areas of the screens connected now. Anything unreadable falls back to the defaults; a size larger than
 * every screen shrinks; a position off every screen (a monitor unplugged) is dropped so the window centres.
 */
export function restoreWindowState(text: string | null, screens: readonly Rectangle[]): WindowState {
  let saved: unknown;
  try {
    saved = text === null ? null : JSON.parse(text);
  } catch {
    saved = null;
  }
  if (typeof saved !== 'object' || saved === null) return { ...DEFAULT_WINDOW_STATE };
  const { x, y, width, height, maximized } = saved as Record<string, unknown>;
  if (!finite(width) || !finite(height)) return { ...DEFAULT_WINDOW_STATE };
  const largest = screens.reduce((max, screen) => ({ width: Math.max(max.width, screen.width), height: Math.max(max.height, screen.height) }), { width: 0, height: 0 });
  const fit = (value: number, min: number, max: number): number => Math.round(Math.max(min, max > 0 ? Math.min(value, max) : value));
  const state: WindowState = {
    width: fit(width, MIN_WINDOW_SIZE.width, largest.width),
    height: fit(height, MIN_WINDOW_SIZE.height, largest.height),
    maximized: maximized === true,
  };
  if (finite(x) && finite(y) && grabbable({ x, y, width: state.width, height: state.height }, screens)) {
    state.x = Math.round(x);
    state.y = Math.round(y);
  }
  return state;
}

/** What is written back: the normal (un-maximized) bounds, so un-maximizing later restores them. */
export function serializeWindowState(normalBounds: Rectangle, maximized: boolean): string {
  const state: WindowState = { x: normalBounds.x, y: normalBounds.y, width: normalBounds.width, height: normalBounds.height, maximized };
  return `${JSON.stringify(state, null, 2)}\n`;
}
