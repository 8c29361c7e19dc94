import assert from "node:assert/strict";
import { ReplayBuffer } from "../lib/replay_buffer.ts";
import { Pcg32 } from "../lib/rng.ts";

function fill(buffer: ReplayBuffer, count: number, start = 0): void {
  for (let t = start; t < start + count; t++) {
    buffer.push(
      [Float32Array.of(t, 0), Float32Array.of(t, 1)],
      [t % 4, (t + 1) % 4],
      [t / 10, t / 10],
      [Float32Array.of(t + 1, 0), Float32Array.of(t + 1, 1)],
      t % 5 === 0,
    );
  }
}

Deno.test("ReplayBuffer.push() fills a ring and overwrites the oldest", () => {
  const buffer = new ReplayBuffer({ capacity: 5, numAgents: 2, observationDim: 2 });
  fill(buffer, 3);
  assert.equal(buffer.length, 3);
  fill(buffer, 4, 3);
  assert.equal(buffer.length, 5);
  assert.equal(buffer.position, 2);
  const batch = buffer.gather(Int32Array.of(0, 1, 2, 3, 4));
  // Rows 0 and 1 now hold transitions 5 and 6.
  assert.deepEqual(Array.from(batch.observations.subarray(0, 4)), [5, 0, 5, 1]);
  assert.deepEqual(Array.from(batch.observations.subarray(4, 8)), [6, 0, 6, 1]);
  assert.deepEqual(Array.from(batch.nextObservations.subarray(0, 4)), [6, 0, 6, 1]);
  assert.deepEqual(Array.from(batch.actions.subarray(0, 2)), [1, 2]);
  assert.deepEqual(Array.from(batch.rewards.subarray(0, 2)), [Math.fround(0.5), Math.fround(0.5)]);
  assert.deepEqual(Array.from(batch.dones), [1, 0, 0, 0, 0]);
});

Deno.test("ReplayBuffer.sampleIndices() draws without replacement", () => {
  const buffer = new ReplayBuffer({ capacity: 1000, numAgents: 2, observationDim: 2 });
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
  const buffer = new ReplayBuffer({ capacity: 100, numAgents: 2, observationDim: 2 });
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
  assert.throws(
    () => new ReplayBuffer({ capacity: 0, numAgents: 2, observationDim: 2 }),
    /capacity .* got 0/,
  );
  const buffer = new ReplayBuffer({ capacity: 10, numAgents: 2, observationDim: 2 });
  fill(buffer, 3);
  assert.throws(() => buffer.sampleIndices(4, new Pcg32(1)), /Cannot sample 4 .* holding 3/);
  assert.throws(
    () => buffer.push([new Float32Array(2)], [0, 0], [0, 0], [new Float32Array(2)], false),
    /2 agents/,
  );
  assert.throws(
    () =>
      buffer.push([new Float32Array(3), new Float32Array(2)], [0, 0], [0, 0], [
        new Float32Array(2),
        new Float32Array(2),
      ], false),
    /length 2/,
  );
});
