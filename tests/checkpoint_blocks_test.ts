/**
 * Checkpoints keep the replay buffer in blocks: a save writes the blocks written since the
 * last one and hard-links the rest from the previous state, and the state loads back whole.
 */
import assert from "node:assert/strict";
import { SavedBlocks } from "../lib/buffer_blocks.ts";
import { BUFFER_BLOCK_ROWS, ReplayBuffer } from "../lib/replay_buffer.ts";
import { loadState, saveState, stateDir } from "../lib/run_state.ts";
import type { TrainingState } from "../lib/run_state.ts";

/** A buffer of one agent (observations of 2, discrete actions) filled with `rows` rows. */
function filledBuffer(capacity: number, rows: number): ReplayBuffer {
  const buffer = new ReplayBuffer({ capacity, observationSizes: [2], actionSizes: [1] });
  for (let r = 0; r < rows; r++) push(buffer, r);
  return buffer;
}

function push(buffer: ReplayBuffer, r: number): void {
  buffer.push({
    observations: [[r, -r]],
    actions: [r % 5],
    rewards: [r / 2],
    nextObservations: [[r + 1, 0.5]],
    terminations: [r % 7 === 0],
    truncations: [r % 3 === 0],
  });
}

function state(buffer: ReplayBuffer, episode: number): TrainingState {
  return {
    config: {},
    tfjs: "test",
    episode,
    totalSteps: 0,
    updateRounds: 0,
    epsilon: 0,
    elapsedSeconds: 0,
    rng: { state: "1", inc: "1" } as unknown as TrainingState["rng"],
    history: [],
    learner: { nets: { actor_0: Float32Array.from([1, 2, 3]) }, optimizers: {}, counters: {} },
    buffer: buffer.exportState(),
    env: null,
  };
}

const inode = async (path: string) => (await Deno.stat(path)).ino;

Deno.test("a checkpoint writes the buffer's changed blocks and links the others", async () => {
  const dir = await Deno.makeTempDir({ prefix: "maddpg-blocks-" });
  try {
    const capacity = 2 * BUFFER_BLOCK_ROWS + 100; // two full blocks and one of 100 rows
    const buffer = filledBuffer(capacity, capacity);
    const blocks = new SavedBlocks((block) => buffer.blockStamp(block));
    await saveState(dir, state(buffer, 1), blocks);
    const files = ["buffer-0.bin", "buffer-1.bin", "buffer-2.bin"].map((name) =>
      `${stateDir(dir)}/${name}`
    );
    const first = await Promise.all(files.map(inode));
    assert.equal((await Deno.stat(files[2])).size, 100 * 8 * 4, "rows × 8 values × 4 bytes");

    for (let r = 0; r < 10; r++) push(buffer, capacity + r); // full: overwrites rows 0-9
    await saveState(dir, state(buffer, 2), blocks);
    const second = await Promise.all(files.map(inode));
    assert.notEqual(second[0], first[0], "block 0 changed: written anew");
    assert.deepEqual(second.slice(1), first.slice(1), "blocks 1 and 2 are the same files");

    const loaded = await loadState(stateDir(dir));
    assert.equal(loaded.episode, 2);
    assert.deepEqual(loaded.buffer, buffer.exportState());
    assert.deepEqual(loaded.learner.nets.actor_0, Float32Array.from([1, 2, 3]));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a checkpoint without a record of the last save writes every block", async () => {
  const dir = await Deno.makeTempDir({ prefix: "maddpg-blocks-" });
  try {
    const buffer = filledBuffer(BUFFER_BLOCK_ROWS + 1, 20);
    await saveState(dir, state(buffer, 1));
    const before = await inode(`${stateDir(dir)}/buffer-0.bin`);
    await saveState(dir, state(buffer, 2));
    assert.notEqual(await inode(`${stateDir(dir)}/buffer-0.bin`), before);
    const loaded = await loadState(stateDir(dir));
    assert.deepEqual(loaded.buffer, buffer.exportState());
    const empty = filledBuffer(10, 0);
    await saveState(dir, state(empty, 3), new SavedBlocks((b) => empty.blockStamp(b)));
    assert.deepEqual((await loadState(stateDir(dir))).buffer, empty.exportState());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
