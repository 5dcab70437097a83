// Build of the three bundles: main (Electron entry + the `cnlab` CLI, both over src-main/core),
// the preload, and the Vue renderer. The CLI shares the main build so core is compiled once.
import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import vue from '@vitejs/plugin-vue';

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'src-main/index.ts'),
          cli: resolve(__dirname, 'src-main/cli/main.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      rollupOptions: { input: { index: resolve(__dirname, 'src-main/preload/index.ts') } },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src-renderer'),
    plugins: [vue()],
    // The renderer reaches main-process code only through the contract folder (types, method list, schemas)
    // and common/ (pure presentation code the main process shares: results tables, charts, CSV).
    resolve: { alias: { '@contract': resolve(__dirname, 'src-main/contract'), '@common': resolve(__dirname, 'src-main/common') } },
    build: {
      outDir: resolve(__dirname, 'out/renderer'),
      rollupOptions: { input: { index: resolve(__dirname, 'src-renderer/index.html') } },
    },
  },
});
