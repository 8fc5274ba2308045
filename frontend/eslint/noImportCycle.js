// An eslint rule: no module of the canvas may reach itself through its imports, type-only imports
// included (eslint-plugin-import's no-cycle skips those, and a cycle of types still ties modules together:
// one cannot be read, tested or moved without the others). The graph is read once per lint run with
// TypeScript's own import scanner, relative imports only.
import fs from "node:fs";
import path from "node:path";
import ts from "typescript";

const graphs = new Map(); // root folder -> { imports: Map<file, string[]>, cycles: Map<file, string[]> }

function resolve(from, specifier) {
  const base = path.resolve(path.dirname(from), specifier);
  for (const candidate of [base, `${base}.ts`, path.join(base, "index.ts")]) {
    if (candidate.endsWith(".ts") && fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  return null;
}

function sourceFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith(".ts") ? [full] : [];
  });
}

/** Every file's place in a cycle: the files it reaches itself through (Tarjan's strongly connected parts). */
function graphOf(root) {
  let graph = graphs.get(root);
  if (graph) return graph;
  const imports = new Map();
  for (const file of sourceFiles(root)) {
    const scanned = ts.preProcessFile(fs.readFileSync(file, "utf8"), true, true).importedFiles;
    imports.set(file, [...new Set(scanned.filter((i) => i.fileName.startsWith(".")).map((i) => resolve(file, i.fileName)).filter(Boolean))]);
  }
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const cycles = new Map();
  let counter = 0;
  const visit = (v) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of imports.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v), index.get(w)));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const part = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      part.push(w);
    } while (w !== v);
    if (part.length > 1 || (imports.get(v) ?? []).includes(v)) for (const file of part) cycles.set(file, part);
  };
  for (const file of imports.keys()) if (!index.has(file)) visit(file);
  graph = { imports, cycles };
  graphs.set(root, graph);
  return graph;
}

export default {
  meta: {
    type: "problem",
    docs: { description: "no import cycles between modules, type-only imports included" },
    schema: [{ type: "object", properties: { root: { type: "string" } }, additionalProperties: false }],
    messages: { cycle: "{{file}} is in an import cycle (type imports included) of {{count}} files: {{files}}" },
  },
  create(context) {
    const root = path.resolve(context.cwd, context.options[0]?.root ?? "src");
    const file = context.filename;
    return {
      Program(node) {
        const part = graphOf(root).cycles.get(file);
        if (!part) return;
        const names = part.map((f) => path.relative(root, f)).sort();
        context.report({ node, messageId: "cycle", data: { file: path.relative(root, file), count: String(part.length), files: names.join(", ") } });
      },
    };
  },
};
