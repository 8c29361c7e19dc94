/**
 * `deno task bench` end to end on a tiny budget: it runs, writes its numbers, and the numbers
 * that do not depend on the machine are exact. Timings are never asserted (see the guide:
 * performance lives in the bench, not in tests).
 */
import assert from "node:assert/strict";
import { actingMicroseconds } from "../scripts/bench.ts";
import { assertUsageError, runScript } from "./_run.ts";

Deno.test("bench runs the grid-world run and the mpe section and writes its numbers", async () => {
  const dir = await Deno.makeTempDir({ prefix: "maddpg-bench-test-" });
  try {
    const json = `${dir}/bench.json`;
    const args = ["--only", "run,mpe", "--episodes", "3", "--mpe-steps", "600"];
    const result = await runScript(
      "bench",
      [...args, "--repeats", "1", "--rounds", "2", "--seed", "7", "--json", json],
      dir,
    );
    assert.equal(result.code, 0, result.stderr);
    const numbers = JSON.parse(await Deno.readTextFile(json));
    assert.equal(numbers.cores, navigator.hardwareConcurrency);
    // The FLOPs of one round at the peer's shapes (3 agents, batch B = 256, 18-64-64-5
    // actors, 69-64-64-1 critics), by hand, in multiply-adds per batch row: actor forward
    // 18·64 + 64·64 + 64·5 = 5 568, critic forward 69·64 + 64·64 + 64 = 8 576, critic input
    // gradient at the agent's own 5 action inputs 64 + 64·64 + 64·5 = 4 480, critic backward
    // (weights, biases, deltas) 129 + 8 256 + 4 480 = 12 865, actor backward 645 + 8 256 +
    // 1 216 = 10 117. Per agent: 3 critic forwards, 1 critic backward, 1 input gradient, 1
    // actor forward and backward = 58 758; the round's target actions add 3 actor forwards:
    // 3·58 758 + 3·5 568 = 192 978, × 2 × 256 = 98 804 736.
    assert.equal(numbers.mpe_round_gflop_peer, 0.098804736);
    assert.equal(numbers.mpe_round_gflop_paper, 0.395218944); // batch 1 024: four times
    // 600 steps of 25-step episodes, a round every 15 steps once the buffer holds more than
    // a batch: steps 270, 285, …, 600 for batch 256; none for batch 1 024.
    assert.equal(numbers.mpe_run_peer_update_rounds, 23);
    assert.equal(numbers.mpe_run_paper_update_rounds, 0);
    assert.equal(numbers.mpe_run_peer_fused_update_rounds, 23);
    for (const name of ["peer", "paper"]) {
      // At the best rate of any product, a round cannot take longer than its products one by
      // one at their own rates.
      const atPeak = numbers[`mpe_round_ms_at_peak_${name}`];
      assert.ok(atPeak > 0 && atPeak <= numbers[`mpe_floor_ms_1core_${name}`] + 1e-9);
      assert.ok(numbers[`mpe_run_${name}_peak_rss_mb`] > 0);
      assert.ok(numbers[`mpe_run_${name}_fused_ms_per_step`] > 0);
      for (const kind of ["inline", "helper", "parallel", "helper_fused"]) {
        assert.ok(numbers[`mpe_update_round_ms_${name}_${kind}`] > 0, `${name} ${kind}`);
      }
    }
    assert.ok(numbers.matmul_peak_gflops > 0 && numbers.kernel_peak_gflops > 0);
    assert.ok(numbers.mpe_tf_matmul_floor_ms_1core_peer > 0);
    assert.ok(numbers.run_steps >= 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bench refuses bad flags with one line and exit code 2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "maddpg-bench-test-" });
  try {
    assertUsageError(await runScript("bench", ["--only", "gpu"], dir), /--only .*"gpu"/);
    assertUsageError(await runScript("bench", ["--rounds", "0"], dir), /--rounds.*0/);
    assertUsageError(await runScript("bench", ["--mpe-steps", "lots"], dir), /--mpe-steps.*lots/);
    assertUsageError(
      await runScript("bench", ["--json", "."], dir),
      /--json \. is a directory, not a file/,
    );
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bench times a joint action of the paper preset's actors", async () => {
  const microseconds = await actingMicroseconds({ seed: 0, repeats: 1 });
  assert.ok(Number.isFinite(microseconds) && microseconds > 0, `${microseconds} µs`);
});
