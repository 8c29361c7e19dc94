import assert from "node:assert/strict";
import { allocateBatch, ReplayBuffer } from "../lib/replay_buffer.ts";
import type { Batch } from "../lib/replay_buffer.ts";
import { Pcg32 } from "../lib/rng.ts";

/** Two agents observing 2 values each, discrete actions stored as their index. */
const TWO = { observationSizes: [2, 2], actionSizes: [1, 1] } as const;

function fill(buffer: ReplayBuffer, count: number, start = 0): void {
  for (let t = start; t < start + count; t++) {
    buffer.push({
      observations: [Float32Array.of(t, 0), Float32Array.of(t, 1)],
      actions: [t % 4, (t + 1) % 4],
      rewards: [t / 10, t / 10],
      nextObservations: [Float32Array.of(t + 1, 0), Float32Array.of(t + 1, 1)],
      terminations: [t % 5 === 0, t % 5 === 0],
      truncations: [false, false],
    });
  }
}

Deno.test("ReplayBuffer.push() fills a ring and overwrites the oldest", () => {
  const buffer = new ReplayBuffer({ capacity: 5, ...TWO });
  fill(buffer, 3);
  assert.equal(buffer.length, 3);
  fill(buffer, 4, 3);
  assert.equal(buffer.length, 5);
  assert.equal(buffer.position, 2);
  const batch = buffer.gather(Int32Array.of(0, 1, 2, 3, 4));
  assert.equal(batch.size, 5);
  // Rows 0 and 1 now hold transitions 5 and 6.
  assert.deepEqual(Array.from(batch.observations[0].subarray(0, 2)), [5, 0]);
  assert.deepEqual(Array.from(batch.observations[1].subarray(0, 2)), [5, 1]);
  assert.deepEqual(Array.from(batch.observations[0].subarray(2, 4)), [6, 0]);
  assert.deepEqual(Array.from(batch.observations[1].subarray(2, 4)), [6, 1]);
  assert.deepEqual(Array.from(batch.nextObservations[0].subarray(0, 2)), [6, 0]);
  assert.deepEqual(Array.from(batch.nextObservations[1].subarray(0, 2)), [6, 1]);
  assert.deepEqual([batch.actions[0][0], batch.actions[1][0]], [1, 2]);
  assert.deepEqual(Array.from(batch.rewards.subarray(0, 2)), [Math.fround(0.5), Math.fround(0.5)]);
  // [rows, agents]: only transition 5 (row 0) terminated, for both agents.
  assert.deepEqual(Array.from(batch.terminations), [1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(Array.from(batch.truncations), new Array(10).fill(0));
});

Deno.test("ReplayBuffer.sampleIndices() draws without replacement", () => {
  const buffer = new ReplayBuffer({ capacity: 1000, ...TWO });
  fill(buffer, 300);
  const rng = new Pcg32(9);
  for (let trial = 0; trial < 50; trial++) {
    const indices = buffer.sampleIndices(256, rng);
    assert.equal(new Set(indices).size, 256);
    for (const i of indices) assert.ok(i >= 0 && i < 300);
  }
  // A sample of everything is a permutation.
  assert.deepEqual([...buffer.sampleIndices(300, rng)].sort((a, b) => a - b), [
    ...Array(300).keys(),
  ]);
});

Deno.test("ReplayBuffer.sampleIndices() is uniform over stored transitions", () => {
  const buffer = new ReplayBuffer({ capacity: 100, ...TWO });
  fill(buffer, 50);
  const counts = new Array(50).fill(0);
  const rng = new Pcg32(10);
  for (let trial = 0; trial < 4000; trial++) {
    for (const i of buffer.sampleIndices(10, rng)) counts[i]++;
  }
  // Expected 800 each; 5 standard deviations is about 140.
  for (const c of counts) assert.ok(Math.abs(c - 800) < 140, `count ${c}`);
});

Deno.test("ReplayBuffer rejects bad sizes and transitions", () => {
  assert.throws(() => new ReplayBuffer({ capacity: 0, ...TWO }), /capacity .* got 0/);
  const buffer = new ReplayBuffer({ capacity: 10, ...TWO });
  fill(buffer, 3);
  assert.throws(() => buffer.sampleIndices(4, new Pcg32(1)), /Cannot sample 4 .* holding 3/);
  assert.throws(
    () =>
      buffer.push({
        observations: [new Float32Array(2)],
        actions: [0, 0],
        rewards: [0, 0],
        nextObservations: [new Float32Array(2)],
        terminations: [false, false],
        truncations: [false, false],
      }),
    /2 agents/,
  );
  assert.throws(
    () =>
      buffer.push({
        observations: [new Float32Array(3), new Float32Array(2)],
        actions: [0, 0],
        rewards: [0, 0],
        nextObservations: [new Float32Array(2), new Float32Array(2)],
        terminations: [false, false],
        truncations: [false, false],
      }),
    /length 2/,
  );
  assert.equal(buffer.length, 3, "a refused transition is not stored");
});

Deno.test("ReplayBuffer refuses, before allocating, a buffer larger than maxBytes", () => {
  const sizes = { observationSizes: [18, 18, 18], actionSizes: [5, 5, 5] };
  // Per transition: observations and next observations 2 · 54 floats, actions 15, rewards,
  // terminations and truncations 3 each: 132 floats (528 bytes), and a 4-byte sampling stamp.
  const perTransition = 4 * (2 * 54 + 15 + 3 * 3) + 4;
  assert.equal(perTransition, 532);
  // The same from the arrays a batch of one row allocates.
  const row = allocateBatch(1, sizes);
  const arrays = [
    ...row.observations,
    ...row.nextObservations,
    ...row.actions,
    row.rewards,
    row.terminations,
    row.truncations,
  ];
  assert.equal(arrays.reduce((sum, a) => sum + a.byteLength, 0) + 4, perTransition);
  assert.throws(
    () => new ReplayBuffer({ capacity: 1_000_000, ...sizes, maxBytes: 1e6 }),
    (error: unknown) => {
      assert.ok(error instanceof RangeError);
      // The transitions asked for, the bytes they need, and the bytes allowed.
      assert.match(error.message, /\b1000000 transitions/);
      assert.match(error.message, /532\.0 MB/);
      assert.match(error.message, /1\.0 MB/);
      return true;
    },
  );
  // Refused before allocating: a buffer no typed array could hold gets this message, not the
  // engine's "Invalid typed array length".
  assert.throws(
    () => new ReplayBuffer({ capacity: 2 ** 40, ...sizes, maxBytes: 1e6 }),
    /1099511627776 transitions needs .* lower the buffer size/,
  );
  // A million transitions of simple_spread's three agents fit and report their size.
  const big = new ReplayBuffer({ capacity: 1_000_000, ...sizes });
  assert.equal(big.bytes, 1_000_000 * perTransition);
  assert.equal(big.bytes, 532_000_000);
  assert.equal(big.capacity, 1_000_000);
  // Exactly the limit is allowed; one byte less is not.
  const small = { capacity: 10, ...TWO };
  const bytes = new ReplayBuffer(small).bytes;
  assert.equal(bytes, 10 * (4 * (2 * 4 + 2 + 3 * 2) + 4));
  assert.equal(new ReplayBuffer({ ...small, maxBytes: bytes }).bytes, bytes);
  assert.throws(() => new ReplayBuffer({ ...small, maxBytes: bytes - 1 }), RangeError);
});

Deno.test("ReplayBuffer stores terminations and truncations apart, per agent", () => {
  const buffer = new ReplayBuffer({ capacity: 4, ...TWO });
  const flags: [boolean[], boolean[]][] = [
    [[true, false], [false, false]], // agent 0 terminated
    [[false, false], [true, true]], // both truncated only
    [[false, true], [true, false]], // agent 1 terminated, agent 0 truncated
    [[false, false], [false, false]],
  ];
  flags.forEach(([terminations, truncations], t) =>
    buffer.push({
      observations: [[t, 0], [t, 1]],
      actions: [0, 1],
      rewards: [t, -t],
      nextObservations: [[t + 1, 0], [t + 1, 1]],
      terminations,
      truncations,
    })
  );
  const batch = buffer.gather(Int32Array.of(0, 1, 2, 3));
  assert.deepEqual(Array.from(batch.terminations), [1, 0, 0, 0, 0, 1, 0, 0]);
  assert.deepEqual(Array.from(batch.truncations), [0, 0, 1, 1, 1, 0, 0, 0]);
  assert.deepEqual(Array.from(batch.rewards), [0, -0, 1, -1, 2, -2, 3, -3]);
  // Gathered in another order, the flags follow their rows.
  const reversed = buffer.gather(Int32Array.of(2, 1));
  assert.deepEqual(Array.from(reversed.terminations), [0, 1, 0, 0]);
  assert.deepEqual(Array.from(reversed.truncations), [1, 0, 1, 1]);
  const state = buffer.exportState();
  assert.deepEqual(Array.from(state.terminations), Array.from(batch.terminations));
  assert.deepEqual(Array.from(state.truncations), Array.from(batch.truncations));
});

Deno.test("ReplayBuffer with agents of different sizes round-trips through push, gather, export and import", () => {
  // Agent 0: 8 observations, a discrete action (its index); agent 1: 10 and a vector of 5.
  const sizes = { observationSizes: [8, 10], actionSizes: [1, 5] };
  const capacity = 6;
  const buffer = new ReplayBuffer({ capacity, ...sizes });
  const rng = new Pcg32(3);
  const pushed: {
    obs: number[][];
    next: number[][];
    action0: number;
    action1: number[];
    rewards: number[];
    terminations: boolean[];
    truncations: boolean[];
  }[] = [];
  const values = (n: number) => Array.from({ length: n }, () => Math.fround(rng.uniform(-1, 1)));
  for (let t = 0; t < 9; t++) {
    const transition = {
      obs: [values(8), values(10)],
      next: [values(8), values(10)],
      action0: rng.nextInt(3),
      action1: values(5),
      rewards: values(2),
      terminations: [t % 3 === 0, t % 4 === 0],
      truncations: [t % 2 === 0, t === 7],
    };
    pushed.push(transition);
    buffer.push({
      observations: transition.obs,
      actions: [transition.action0, transition.action1],
      rewards: transition.rewards,
      nextObservations: transition.next,
      terminations: transition.terminations,
      truncations: transition.truncations,
    });
  }
  assert.equal(buffer.length, capacity);
  assert.equal(buffer.position, 9 % capacity);
  // Row r holds transition t = r + 6 for r < 3, else t = r.
  const transitionAt = (row: number) => pushed[row < 9 % capacity ? row + capacity : row];
  const check = (batch: Batch, rows: readonly number[]) => {
    assert.equal(batch.size, rows.length);
    assert.deepEqual(batch.observations.map((a) => a.length), [8 * rows.length, 10 * rows.length]);
    assert.deepEqual(batch.actions.map((a) => a.length), [rows.length, 5 * rows.length]);
    rows.forEach((row, b) => {
      const t = transitionAt(row);
      for (const i of [0, 1]) {
        const o = sizes.observationSizes[i];
        assert.deepEqual(Array.from(batch.observations[i].subarray(b * o, (b + 1) * o)), t.obs[i]);
        assert.deepEqual(
          Array.from(batch.nextObservations[i].subarray(b * o, (b + 1) * o)),
          t.next[i],
        );
      }
      assert.equal(batch.actions[0][b], t.action0);
      assert.deepEqual(Array.from(batch.actions[1].subarray(b * 5, (b + 1) * 5)), t.action1);
      assert.deepEqual(Array.from(batch.rewards.subarray(2 * b, 2 * b + 2)), t.rewards);
      assert.deepEqual(
        Array.from(batch.terminations.subarray(2 * b, 2 * b + 2)),
        t.terminations.map(Number),
      );
      assert.deepEqual(
        Array.from(batch.truncations.subarray(2 * b, 2 * b + 2)),
        t.truncations.map(Number),
      );
    });
  };
  const rows = [5, 0, 3, 2];
  const batch = buffer.gather(Int32Array.from(rows));
  check(batch, rows);
  // Into the same batch again: a row twice, rows in any order.
  const repeated = [4, 1, 4, 0];
  check(buffer.gather(Int32Array.from(repeated), batch), repeated);
  // sample() is gather() of sampleIndices() drawn from the same generator.
  const sampled = buffer.sample(4, new Pcg32(8));
  check(sampled, Array.from(buffer.sampleIndices(4, new Pcg32(8))));
  // Export, then import into a fresh buffer: the same contents and ring position.
  const state = buffer.exportState();
  assert.deepEqual(state.observations.map((a) => a.length), [8 * capacity, 10 * capacity]);
  assert.deepEqual(state.actions.map((a) => a.length), [capacity, 5 * capacity]);
  const restored = new ReplayBuffer({ capacity, ...sizes });
  restored.importState(state);
  assert.equal(restored.length, capacity);
  assert.equal(restored.position, buffer.position);
  const all = [0, 1, 2, 3, 4, 5];
  check(restored.gather(Int32Array.from(all)), all);
  assert.deepEqual(restored.exportState(), state);
  // The next push overwrites the same row in both.
  const next = {
    observations: [values(8), values(10)],
    actions: [2, values(5)],
    rewards: [0, 0],
    nextObservations: [values(8), values(10)],
    terminations: [false, false],
    truncations: [false, false],
  };
  buffer.push(next);
  restored.push(next);
  assert.deepEqual(restored.exportState(), buffer.exportState());
  // A buffer of other sizes refuses that state.
  const swapped = new ReplayBuffer({
    capacity,
    observationSizes: [10, 8],
    actionSizes: [1, 5],
  });
  assert.throws(() => swapped.importState(state), /observations_0.* holds 48 values, expected 60/);
});
