// Remembered window bounds: restored when they fit the screens present, reset to sane defaults when the
// file is bad or the window would open where nobody can see or grab it.
import { describe, expect, it } from 'vitest';
import { DEFAULT_WINDOW_STATE, MIN_WINDOW_SIZE, restoreWindowState, serializeWindowState } from './window-state';

const laptop = { x: 0, y: 0, width: 1920, height: 1050 };
const rightMonitor = { x: 1920, y: 0, width: 2560, height: 1400 };

describe('restoreWindowState', () => {
  it('uses the defaults when there is no file or it is not valid JSON', () => {
    expect(restoreWindowState(null, [laptop])).toEqual(DEFAULT_WINDOW_STATE);
    expect(restoreWindowState('{"width": 1000,', [laptop])).toEqual(DEFAULT_WINDOW_STATE);
    expect(restoreWindowState('[1, 2]', [laptop])).toEqual(DEFAULT_WINDOW_STATE);
    expect(restoreWindowState('{"width": "wide", "height": 700}', [laptop])).toEqual(DEFAULT_WINDOW_STATE);
  });

  it('restores a saved position and size that fit a connected screen', () => {
    const text = serializeWindowState({ x: 2000, y: 100, width: 1400, height: 900 }, true);
    expect(restoreWindowState(text, [laptop, rightMonitor])).toEqual({ x: 2000, y: 100, width: 1400, height: 900, maximized: true });
  });

  it('drops the position of a window left on a monitor that is no longer connected', () => {
    const text = serializeWindowState({ x: 2000, y: 100, width: 1400, height: 900 }, false);
    expect(restoreWindowState(text, [laptop])).toEqual({ width: 1400, height: 900, maximized: false });
  });

  it('drops a position whose title bar is above the screen, where it cannot be grabbed', () => {
    const text = JSON.stringify({ x: 100, y: -500, width: 1000, height: 700, maximized: false });
    expect(restoreWindowState(text, [laptop])).toEqual({ width: 1000, height: 700, maximized: false });
  });

  it('shrinks a window larger than every screen and grows one below the minimum', () => {
    expect(restoreWindowState(JSON.stringify({ width: 9000, height: 9000 }), [laptop])).toMatchObject({ width: 1920, height: 1050 });
    expect(restoreWindowState(JSON.stringify({ width: 10, height: -5 }), [laptop])).toMatchObject(MIN_WINDOW_SIZE);
  });
});
