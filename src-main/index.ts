// Electron entry: the only main-process file besides src-main/platform/ that may import electron.
// It hands control to the platform layer, which adapts core to the desktop window.
import { startDesktopApp } from './platform/desktop-app';

startDesktopApp();
