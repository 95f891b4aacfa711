// Checks Strimzi custom resources (a JSON list on stdin) against the schemas of Strimzi's CRDs, as
// @kubernetes-models/strimzi-kafka-operator publishes them (generated from Strimzi 0.49.0's
// strimzi-crds-0.49.0.yaml), in two ways:
//   - its compiled JSON Schema validators: types, enums, required fields, patterns, bounds;
//   - its TypeScript types, by the TypeScript compiler: a resource written as an object literal of
//     its type may hold no field the CRD does not declare (the validators let unknown fields
//     pass; the API server's strict field validation does not).
// Prints a JSON list of {kind, name, error}: empty when all are valid. Run by
// tests/kubernetes_render.py in the folder deploy/k8s/tools.sh installs it into.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const PACKAGE = "@kubernetes-models/strimzi-kafka-operator";

const input = await new Promise((resolve) => {
  let text = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk) => (text += chunk));
  process.stdin.on("end", () => resolve(text));
});
const resources = JSON.parse(input);
const problems = [];
const known = [];

for (const resource of resources) {
  const [group, version] = String(resource.apiVersion).split("/");
  const name = resource.metadata?.name ?? "?";
  const module = `${PACKAGE}/${group}/${version}/${resource.kind}`;
  let Model;
  try {
    Model = (await import(module))[resource.kind];
  } catch {
    problems.push({ kind: resource.kind, name, error: `no schema for ${resource.apiVersion} ${resource.kind}` });
    continue;
  }
  known.push({ resource, name, module });
  try {
    new Model(resource).validate();
  } catch (invalid) {
    problems.push({ kind: resource.kind, name, error: String(invalid.message ?? invalid) });
  }
}

// One line per import, then one line per resource: a diagnostic's line names its resource.
const imports = known.map(({ resource, module }, i) => `import type { I${resource.kind} as T${i} } from "${module}";`);
const literals = known.map(({ resource }, i) => `export const r${i}: T${i} = ${JSON.stringify(resource)};`);
const folder = mkdtempSync(join(dirname(fileURLToPath(import.meta.url)), ".check-"));
try {
  const file = join(folder, "resources.ts");
  writeFileSync(file, [...imports, ...literals].join("\n") + "\n");
  const program = ts.createProgram([file], {
    noEmit: true,
    strict: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    // No DOM: the resources need only the language's own types (and are checked 4 times faster).
    lib: ["lib.es2022.d.ts"],
    types: [],
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
  });
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, " ");
    if (diagnostic.file?.fileName !== file) {
      problems.push({ kind: "?", name: "?", error: text });
      continue;
    }
    const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
    const entry = known[line - imports.length];
    problems.push({ kind: entry?.resource.kind ?? "?", name: entry?.name ?? "?", error: text });
  }
} finally {
  rmSync(folder, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(problems));
