import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The dashboard is built into web/dist and served by the API server at `/` (same origin).
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [react()],
  // ECharts alone is ~560 kB minified (~190 kB gzipped); it loads with the chart pages only.
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 600 },
  server: { proxy: { '/api': 'http://127.0.0.1:8000', '/health': 'http://127.0.0.1:8000' } },
});
