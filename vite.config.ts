import { defineConfig } from "vite";

// The UI lives in ui/ and is embedded by the Tauri build from dist/ui.
export default defineConfig({
  root: "ui",
  clearScreen: false,
  build: { outDir: "../dist/ui", emptyOutDir: true, target: "safari13" },
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  server: { port: 5173, strictPort: true },
});
