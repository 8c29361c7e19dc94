/**
 * CI regression of reward curves: short seeded runs reproduce the committed baselines
 * (rewards and counters exactly, losses to 1e-6). After a change that alters learning on
 * purpose, `deno task baseline` regenerates them.
 */
import assert from "node:assert/strict";
import { baselineDir, BASELINES } from "../scripts/baseline.ts";
import { train } from "../lib/trainer.ts";
import { initBackend } from "../lib/backend.ts";
import { assertUsageError, ROOT, runScript, snapshot } from "./_run.ts";

await initBackend();

const LOSS_COLUMNS = /loss/;

for (const { name, config } of BASELINES) {
  Deno.test(`train() reproduces the committed baseline ${name}`, async () => {
    const expected = (await Deno.readTextFile(`${baselineDir(name)}/metrics.csv`)).trim().split(
      "\n",
    );
    const outDir = await Deno.makeTempDir();
    await train(config, { outDir });
    const actual = (await Deno.readTextFile(`${outDir}/metrics.csv`)).trim().split("\n");
    await Deno.remove(outDir, { recursive: true });
    assert.equal(actual[0], expected[0], "header");
    assert.equal(actual.length, expected.length, "episodes");
    const columns = expected[0].split(",");
    for (let row = 1; row < expected.length; row++) {
      const want = expected[row].split(","), got = actual[row].split(",");
      columns.forEach((column, k) => {
        if (LOSS_COLUMNS.test(column)) {
          assert.ok(
            Math.abs(Number(got[k]) - Number(want[k])) <= 1e-6,
            `episode ${row} ${column}: ${got[k]} vs baseline ${want[k]}`,
          );
        } else {
          assert.equal(got[k], want[k], `episode ${row} ${column}`);
        }
      });
    }
  });
}

Deno.test("baseline refuses any flag with one line and exit code 2, and rewrites nothing", async () => {
  const before = await snapshot(`${ROOT}results/baselines`);
  assertUsageError(await runScript("baseline", ["--seeds", "0"], ROOT), /Unknown option '--seeds'/);
  assertUsageError(await runScript("baseline", ["extra"], ROOT), /Unexpected argument 'extra'/);
  assert.deepEqual(await snapshot(`${ROOT}results/baselines`), before);
  const help = await runScript("baseline", ["--help"], ROOT);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /notebook-seed42-ep25, maddpg-seed42-ep15/);
});
