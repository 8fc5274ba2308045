// eslint with typescript-eslint's type-aware rules; `make test` runs it with no warnings allowed.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import noImportCycle from "./eslint/noImportCycle.js";

export default tseslint.config(
  { ignores: ["node_modules/", "src/api/schema.ts"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },
  {
    // no import cycles among the canvas's modules, type imports included (as the backend's import-linter
    // keeps the server's layers): interfaces live apart from what implements them
    files: ["src/**/*.ts"],
    plugins: { retouch: { rules: { "no-import-cycle": noImportCycle } } },
    rules: { "retouch/no-import-cycle": ["error", { root: "src" }] },
  },
  {
    files: ["eslint.config.js", "eslint/*.js"],
    ...tseslint.configs.disableTypeChecked,
  },
);
