import assert from "node:assert/strict";
import { Pcg32 } from "../lib/rng.ts";

Deno.test("Pcg32 matches the reference pcg32-demo stream (seed 42, stream 54)", () => {
  const rng = new Pcg32(42, 54);
  const expected = [0xa15c02b7, 0x7b47f409, 0xba1d3330, 0x83d2f293, 0xbfa4784b, 0xcbed606e];
  assert.deepEqual(expected.map(() => rng.nextUint32()), expected);
});

Deno.test("Pcg32 matches the C reference for 64-bit seeds and streams", () => {
  // From the reference C code: pcg32_srandom_r(&r, 12345678901234, 987654321012).
  const rng = new Pcg32(12345678901234, 987654321012);
  assert.deepEqual(
    [rng.nextUint32(), rng.nextUint32(), rng.nextUint32(), rng.nextUint32()],
    [0x3ba280a2, 0x9aa5d11c, 0x27e89555, 0xb45e5d8f],
  );
  assert.deepEqual(rng.getState(), { state: "fae8b3760dbcdfd4", inc: "000001cbe991e6e9" });
});

Deno.test("Pcg32.getState() and fromState() continue the same stream", () => {
  const rng = new Pcg32(7);
  for (let i = 0; i < 100; i++) rng.nextUint32();
  const copy = Pcg32.fromState(JSON.parse(JSON.stringify(rng.getState())));
  for (let i = 0; i < 1000; i++) assert.equal(copy.nextUint32(), rng.nextUint32());
});

Deno.test("Pcg32.setState() rejects malformed states", () => {
  const rng = new Pcg32(1);
  assert.throws(
    () => rng.setState({ state: "xyz", inc: "0000000000000001" }),
    /"state" must be 16 hex/,
  );
  assert.throws(
    () => rng.setState({ state: "0000000000000000", inc: "0000000000000002" }),
    /must be odd/,
  );
});

Deno.test("Pcg32 rejects seeds that are not non-negative safe integers", () => {
  assert.throws(() => new Pcg32(-1), /seed must be a non-negative safe integer, got -1/);
  assert.throws(() => new Pcg32(1.5), /got 1.5/);
  assert.throws(() => new Pcg32(1, -2), /stream .* got -2/);
});

Deno.test("Pcg32.nextFloat() is in [0, 1) with mean 1/2; nextInt() is uniform", () => {
  const rng = new Pcg32(3);
  let sum = 0;
  const n = 200_000;
  for (let i = 0; i < n; i++) {
    const u = rng.nextFloat();
    assert.ok(u >= 0 && u < 1);
    sum += u;
  }
  assert.ok(Math.abs(sum / n - 0.5) < 0.005);
  const counts = new Array(7).fill(0);
  for (let i = 0; i < 70_000; i++) counts[rng.nextInt(7)]++;
  for (const c of counts) assert.ok(Math.abs(c - 10_000) < 400, `count ${c}`);
  assert.throws(() => rng.nextInt(0), /got 0/);
});

Deno.test("Pcg32: same seed, same numbers; different seeds differ", () => {
  const a = new Pcg32(5), b = new Pcg32(5), c = new Pcg32(6);
  const xs = Array.from({ length: 10 }, () => a.nextUint32());
  assert.deepEqual(Array.from({ length: 10 }, () => b.nextUint32()), xs);
  assert.notDeepEqual(Array.from({ length: 10 }, () => c.nextUint32()), xs);
});
