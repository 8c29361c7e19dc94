/**
 * A learner worker that fails at any point ends the run with one error line, and the last
 * good state stays on disk (the fault is injected with MADDPG_TEST_WORKER_FAIL).
 */
import assert from "node:assert/strict";
import { DEFAULT_TRAIN_CONFIG } from "../lib/config_fields.ts";
import { initBackend } from "../lib/backend.ts";
import { loadState } from "../lib/run_state.ts";
import { train } from "../lib/trainer.ts";

await initBackend();

const CONFIG = {
  ...DEFAULT_TRAIN_CONFIG,
  episodes: 4,
  maxSteps: 30,
  batchSize: 32,
  checkpointEvery: 1,
  actorHidden: [16],
  criticHidden: [16],
  testEpisodes: 1,
};

/** Runs `fn` with the fault injection set, failing the test instead of hanging. */
async function withFault<T>(fault: string, fn: () => Promise<T>): Promise<T> {
  Deno.env.set("MADDPG_TEST_WORKER_FAIL", fault);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`hung with ${fault}`)), 60_000);
    });
    return await Promise.race([fn(), timeout]);
  } finally {
    clearTimeout(timer);
    Deno.env.delete("MADDPG_TEST_WORKER_FAIL");
  }
}

for (const [fault, savedEpisode] of [["collect:2", 1], ["round:5", undefined]] as const) {
  Deno.test(`train() ends cleanly when a learner worker fails (${fault})`, async () => {
    const outDir = await Deno.makeTempDir();
    try {
      await assert.rejects(
        () => withFault(fault, () => train(CONFIG, { outDir, threads: 2 })),
        (error: Error) =>
          /^Learner worker \d: injected failure on /.test(error.message) &&
          !error.message.includes("\n"),
      );
      if (savedEpisode !== undefined) {
        // The checkpoint of episode 2 failed while collecting: episode 1's is kept.
        const state = await loadState(`${outDir}/checkpoint/state`);
        assert.equal(state.episode, savedEpisode);
      }
    } finally {
      await Deno.remove(outDir, { recursive: true });
    }
  });
}
