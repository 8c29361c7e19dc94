/** The module graph has no import cycles (type-only imports included). */
import assert from "node:assert/strict";

const ROOT = new URL("..", import.meta.url);

/** Local modules and what each imports, from `deno info --json`. */
async function moduleGraph(entry: string): Promise<Map<string, string[]>> {
  const { stdout, success } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: ROOT,
    stdout: "piped",
    stderr: "null",
  }).output();
  assert.ok(success, `deno info ${entry}`);
  const graph = new Map<string, string[]>();
  const info = JSON.parse(new TextDecoder().decode(stdout));
  for (const module of info.modules as { specifier: string; dependencies?: unknown[] }[]) {
    if (!module.specifier.startsWith("file://")) continue;
    const deps = (module.dependencies ?? []).flatMap((dep) => {
      const d = dep as { code?: { specifier: string }; type?: { specifier: string } };
      return [d.code?.specifier, d.type?.specifier].filter((s): s is string =>
        s?.startsWith("file://") ?? false
      );
    });
    graph.set(module.specifier, deps);
  }
  return graph;
}

Deno.test("lib/, scripts/ and mod.ts import no module that imports them back", async () => {
  const entries = [
    "mod.ts",
    "scripts/train.ts",
    "scripts/evaluate.ts",
    "lib/agent/learner_worker.ts",
  ];
  for (const entry of entries) {
    const graph = await moduleGraph(entry);
    const state = new Map<string, "open" | "done">();
    const path: string[] = [];
    const visit = (node: string) => {
      state.set(node, "open");
      path.push(node);
      for (const next of graph.get(node) ?? []) {
        if (state.get(next) === "open") {
          const cycle = path.slice(path.indexOf(next)).map((s) => s.slice(ROOT.href.length));
          assert.fail(`import cycle: ${cycle.join(" -> ")}`);
        }
        if (!state.has(next)) visit(next);
      }
      path.pop();
      state.set(node, "done");
    };
    for (const node of graph.keys()) if (!state.has(node)) visit(node);
    assert.ok(graph.size > 10, `${entry} has a module graph`);
  }
});

/**
 * What `deno doc --lint` may still report: a public type that uses a tfjs type. tfjs exports
 * those types itself; Deno 2.9.6 flags types of another package as private
 * (denoland/deno#27364).
 */
const TFJS_TYPE_REF =
  /^error\[private-type-ref\]: .* references private type '(Tensor2D|LayersModel)' /;

Deno.test("mod.ts documents every public symbol and exports every type its API uses", async () => {
  const { stderr, stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--lint", "mod.ts"],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const report = new TextDecoder().decode(stderr) + new TextDecoder().decode(stdout);
  const lines = report.split("\n");
  const problems = lines.flatMap((line, i) =>
    /^error\[/.test(line) ? [`${line} ${lines[i + 1]?.trim() ?? ""}`] : []
  );
  assert.deepEqual(problems.filter((line) => !TFJS_TYPE_REF.test(line)), []);
  assert.ok(
    problems.length <= 5,
    `only the five known tfjs type references, got ${problems.length}`,
  );
});
