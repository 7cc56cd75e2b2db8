// `npm run build` writes the static app to dist/, which `sluice serve` serves at `/`.
// `npm run dev` serves the sources with hot reload and forwards the API to a running server:
//   SLUICE_URL=http://127.0.0.1:8080 npm run dev
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const server = process.env.SLUICE_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react()],
  base: './',
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1024 },
  server: { proxy: { '/v1': server } },
});
