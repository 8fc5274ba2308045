import { defineConfig } from "vitest/config";

// Built into the Python package, which serves it at `/` (`retouch serve`).
export default defineConfig({
  base: "./",
  build: {
    outDir: "../backend/retouch/static",
    emptyOutDir: true,
    target: "es2022",
  },
  server: {
    // `npm run dev` next to `retouch serve` on 8000
    proxy: { "/api": { target: "http://127.0.0.1:8000", ws: true } },
  },
  test: {
    include: ["unit/**/*.test.ts"],
    environment: "node",
  },
});
