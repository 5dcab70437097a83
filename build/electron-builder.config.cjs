// electron-builder configuration for release machines: `npm run dist` builds the bundles, then the Linux
// AppImage and deb, the macOS dmg or the Windows installer, with icons from resources/. Not runnable here.
'use strict';

/** A release machine may bring its own Electron (no download): CNLAB_ELECTRON_DIST points at its folder. */
const electronDist = process.env.CNLAB_ELECTRON_DIST;

/** @type {import('electron-builder').Configuration} */
module.exports = {
  appId: 'org.cnlab.console',
  productName: 'cnlab',
  executableName: 'cnlab',
  copyright: 'Copyright © cnlab contributors',
  directories: { output: 'dist', buildResources: 'resources' },
  // The bundles hold the app; production dependencies (ssh2, ws, …) are added by electron-builder itself.
  files: ['out/**', 'package.json'],
  // The study templates are read at run time (core/studies/study-catalog.ts looks in resources/studies).
  extraResources: [{ from: 'resources/studies', to: 'studies', filter: ['*.yaml'] }],
  // ssh2's optional native crypto is not built (it runs in pure JavaScript), so nothing needs rebuilding.
  npmRebuild: false,
  ...(electronDist ? { electronDist } : {}),
  asar: true,
  linux: {
    target: ['AppImage', 'deb'],
    category: 'Network;Development',
    icon: 'resources/icon.png',
    maintainer: 'cnlab maintainers <maintainers@cnlab.org>',
    synopsis: 'Lab console for container-network experiments',
  },
  deb: {
    // The console runs ip, ssh and friends on remote hosts; locally it needs nothing beyond Electron's own.
    priority: 'optional',
  },
  mac: {
    target: ['dmg'],
    category: 'public.app-category.developer-tools',
    icon: 'resources/icon.png',
  },
  win: {
    target: ['nsis'],
    icon: 'resources/icon.png',
  },
  nsis: {
    oneClick: false,
    allowToChangeInstallationDirectory: true,
  },
};
