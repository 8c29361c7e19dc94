import assert from "node:assert/strict";
import {
  NumpyGenerator,
  Pcg64,
  type Pcg64State,
  seedSequenceState,
} from "../lib/env/mpe/numpy_random.ts";

/** One seed's vectors, made with numpy (see /work/shared/reference/mpe/README.md). */
interface SeedVectors {
  /** `SeedSequence(seed).generate_state(8, np.uint32)`. */
  gen_state_u32: number[];
  /** `PCG64(SeedSequence(seed)).state["state"]["state"]`, decimal. */
  pcg_state: string;
  /** `PCG64(SeedSequence(seed)).state["state"]["inc"]`, decimal. */
  pcg_inc: string;
  /** `PCG64(SeedSequence(seed)).random_raw(4)`, decimal. */
  raw64: string[];
  /** Draws of a fresh `Generator` in this order: `[kind, value]`. */
  seq: [string, number | number[]][];
}

const vectors: Record<string, SeedVectors> = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/mpe/numpy_rng_vectors.json", import.meta.url)),
);
const seeds = Object.keys(vectors);

/** Replays one `seq` entry on `g`, returning what numpy returned for it. */
function draw(g: NumpyGenerator, kind: string): number | number[] {
  let match = /^integers(\d+)$/.exec(kind);
  if (match) return g.integers(Number(match[1]));
  match = /^choice(\d+)$/.exec(kind);
  if (match) return g.choice(Array.from({ length: Number(match[1]) }, (_, i) => i));
  match = /^uniform(-?[\d.]+),(-?[\d.]+)x(\d+)$/.exec(kind);
  if (match) {
    const [low, high, count] = [Number(match[1]), Number(match[2]), Number(match[3])];
    return Array.from({ length: count }, () => g.uniform(low, high));
  }
  throw new Error(`Unknown vector kind ${JSON.stringify(kind)}`);
}

Deno.test("the vectors file holds the expected seeds and draw kinds", () => {
  assert.deepEqual(seeds, ["0", "1", "42", "123", "4294967301", "12345678901234"]);
  for (const seed of seeds) {
    assert.deepEqual(vectors[seed].seq.map(([kind]) => kind), [
      "integers3",
      "uniform-1,1x2",
      "integers3",
      "integers2",
      "uniform-0.9,0.9x2",
      "choice5",
      "integers7",
    ]);
  }
});

Deno.test("seedSequenceState() matches numpy's SeedSequence.generate_state", () => {
  for (const seed of seeds) {
    const words = seedSequenceState(Number(seed));
    assert.equal(words.length, 4);
    const u32 = [...words].flatMap((w) => [Number(w & 0xffffffffn), Number(w >> 32n)]);
    assert.deepEqual(u32, vectors[seed].gen_state_u32, `seed ${seed}`);
    // A bigint seed gives the same words.
    assert.deepEqual([...seedSequenceState(BigInt(seed))], [...words], `seed ${seed}n`);
  }
});

Deno.test("seedSequenceState() matches numpy for multi-word entropy and other lengths", () => {
  // numpy 2.4.6: SeedSequence(2**200 + 12345).generate_state(n, np.uint64); seven 32-bit
  // entropy words, more than the pool of four.
  const seed = 2n ** 200n + 12345n;
  const expected = [
    5188473266492889640n,
    1782550200721783414n,
    7013246905516218853n,
    5069563617716169347n,
    11036295853316517263n,
    2001590747070074774n,
  ];
  assert.deepEqual([...seedSequenceState(seed)], expected.slice(0, 4));
  assert.deepEqual([...seedSequenceState(seed, 2)], expected.slice(0, 2));
  assert.deepEqual([...seedSequenceState(seed, 6)], expected);
  // numpy 2.4.6: PCG64(SeedSequence(2**200 + 12345)).state
  assert.deepEqual(Pcg64.fromSeed(seed).numpyState(), {
    bit_generator: "PCG64",
    state: "44614864779316496129156971414878199736",
    inc: "258743141583586323624468408576143971591",
    has_uint32: 0,
    uinteger: 0,
  });
});

Deno.test("Pcg64 seeding gives numpy's state and increment", () => {
  for (const seed of seeds) {
    const rng = Pcg64.fromSeed(Number(seed));
    const { pcg_state, pcg_inc } = vectors[seed];
    assert.deepEqual(rng.numpyState(), {
      bit_generator: "PCG64",
      state: pcg_state,
      inc: pcg_inc,
      has_uint32: 0,
      uinteger: 0,
    });
    assert.deepEqual(rng.getState(), {
      state: BigInt(pcg_state).toString(16).padStart(32, "0"),
      inc: BigInt(pcg_inc).toString(16).padStart(32, "0"),
      hasUint32: false,
      uinteger: 0,
    });
  }
});

Deno.test("Pcg64.next64() matches numpy's raw outputs", () => {
  for (const seed of seeds) {
    const rng = Pcg64.fromSeed(Number(seed));
    const raw = vectors[seed].raw64.map(() => rng.next64().toString());
    assert.deepEqual(raw, vectors[seed].raw64, `seed ${seed}`);
  }
});

Deno.test("Pcg64.nextDouble() and next32() derive from the raw outputs", () => {
  for (const seed of seeds) {
    const raw = vectors[seed].raw64.map(BigInt);
    const a = Pcg64.fromSeed(Number(seed));
    assert.deepEqual(raw.map(() => a.nextDouble()), raw.map((r) => Number(r >> 11n) / 2 ** 53));
    // 32-bit draws: low half, then the buffered high half, output by output.
    const b = Pcg64.fromSeed(Number(seed));
    assert.deepEqual(
      raw.flatMap(() => [b.next32(), b.next32()]),
      raw.flatMap((r) => [Number(r & 0xffffffffn), Number(r >> 32n)]),
    );
  }
});

Deno.test("NumpyGenerator.integers() matches numpy's draws", () => {
  for (const seed of seeds) {
    const g = NumpyGenerator.fromSeed(Number(seed));
    for (const [i, [kind, expected]] of vectors[seed].seq.entries()) {
      const got = draw(g, kind);
      if (kind.startsWith("integers")) {
        assert.equal(got, expected, `seed ${seed}, draw ${i} (${kind})`);
      }
    }
  }
});

Deno.test("NumpyGenerator.uniform() matches numpy's draws exactly", () => {
  for (const seed of seeds) {
    const g = NumpyGenerator.fromSeed(Number(seed));
    for (const [i, [kind, expected]] of vectors[seed].seq.entries()) {
      const got = draw(g, kind);
      if (kind.startsWith("uniform")) {
        // Exact float64 equality, not approximate.
        assert.deepEqual(got, expected, `seed ${seed}, draw ${i} (${kind})`);
      }
    }
  }
});

Deno.test("NumpyGenerator.choice() matches numpy's draws", () => {
  for (const seed of seeds) {
    const g = NumpyGenerator.fromSeed(Number(seed));
    for (const [i, [kind, expected]] of vectors[seed].seq.entries()) {
      const got = draw(g, kind);
      if (kind.startsWith("choice")) assert.equal(got, expected, `seed ${seed}, draw ${i}`);
    }
    // choice(list) picks items[integers(len)] with the same stream.
    const a = NumpyGenerator.fromSeed(Number(seed));
    const b = NumpyGenerator.fromSeed(Number(seed));
    const items = ["a", "b", "c", "d", "e"] as const;
    for (let i = 0; i < 50; i++) assert.equal(a.choice(items), items[b.integers(items.length)]);
  }
});

Deno.test("the whole vector sequence matches, and the 32-bit buffer ends as numpy's", () => {
  for (const seed of seeds) {
    const g = NumpyGenerator.fromSeed(Number(seed));
    const got = vectors[seed].seq.map(([kind]) => [kind, draw(g, kind)]);
    assert.deepEqual(got, vectors[seed].seq, `seed ${seed}`);
  }
  // numpy 2.4.6, seed 42, after the vector sequence: g.bit_generator.state. The first
  // integers(3) buffered a high half, the second used it; integers(2), choice and integers(7)
  // buffer / use / buffer again, with the uniform draws in between leaving the buffer alone.
  const g = NumpyGenerator.fromSeed(42);
  for (const [kind] of vectors["42"].seq) draw(g, kind);
  assert.deepEqual(g.bitGenerator.numpyState(), {
    bit_generator: "PCG64",
    state: "293937245690557665821800615632328156573",
    inc: "332724090758049132448979897138935081983",
    has_uint32: 1,
    uinteger: 3269070127,
  });
});

Deno.test("NumpyGenerator.integers() buffers the high half between 32-bit draws", () => {
  for (const seed of seeds) {
    const raw = vectors[seed].raw64.map(BigInt);
    const g = NumpyGenerator.fromSeed(Number(seed));
    // integers(3): Lemire on the low half of output 0; the high half is buffered.
    const lemire = (x: bigint, n: bigint) => Number((x * n) >> 32n);
    assert.equal(g.integers(3), lemire(raw[0] & 0xffffffffn, 3n));
    assert.deepEqual(g.getState().hasUint32, true);
    assert.equal(g.getState().uinteger, Number(raw[0] >> 32n));
    // uniform takes output 1 and leaves the buffer alone.
    assert.equal(g.uniform(0, 1), Number(raw[1] >> 11n) / 2 ** 53);
    // integers(7) uses the buffered high half of output 0.
    assert.equal(g.integers(7), lemire(raw[0] >> 32n, 7n));
    assert.equal(g.getState().hasUint32, false);
    // Then the low half of output 2.
    assert.equal(g.integers(5), lemire(raw[2] & 0xffffffffn, 5n));
  }
});

Deno.test("NumpyGenerator.integers() matches numpy for rejection and wide ranges", () => {
  // All expected values from numpy 2.4.6, Generator(PCG64(SeedSequence(seed))).
  const run = (seed: number, n: number, count: number) => {
    const g = NumpyGenerator.fromSeed(seed);
    return { values: Array.from({ length: count }, () => g.integers(n)), g };
  };
  // n = 3e9: 2^32 mod n = 1294967296, so Lemire rejects often (4 rejections here: 12
  // 32-bit draws from 6 outputs for 8 values).
  const wide = run(42, 3_000_000_000, 8);
  assert.deepEqual(wide.values, [
    267752861,
    2321868145,
    1963714555,
    1316635318,
    2575793759,
    282532043,
    1579436936,
    2926867054,
  ]);
  assert.deepEqual(wide.g.bitGenerator.numpyState(), {
    bit_generator: "PCG64",
    state: "60251780358759318666854268857835938822",
    inc: "332724090758049132448979897138935081983",
    has_uint32: 0,
    uinteger: 4190266093,
  });
  // n = 2^32: a plain 32-bit draw.
  assert.deepEqual(run(42, 2 ** 32, 4).values, [383329928, 3324115917, 2811363265, 1884968545]);
  // n > 2^32: the 64-bit Lemire method.
  assert.deepEqual(run(42, 2 ** 40, 4).values, [
    850973674774,
    482551947687,
    944038396526,
    766764256790,
  ]);
  assert.deepEqual(run(42, 2 ** 53 - 1, 4).values, [
    6971176343755556,
    3953065555456575,
    7733562544347969,
    6281332791623696,
  ]);
  // n = 1 draws nothing.
  const one = run(42, 1, 3);
  assert.deepEqual(one.values, [0, 0, 0]);
  assert.deepEqual(one.g.getState(), NumpyGenerator.fromSeed(42).getState());
  // A mixed sequence, seed 7: integers(5), uniform(0.5, 3.25), integers(3e9), uniform(-2, -1),
  // integers(2), integers(2).
  const g = NumpyGenerator.fromSeed(7);
  assert.deepEqual(
    [
      g.integers(5),
      g.uniform(0.5, 3.25),
      g.integers(3_000_000_000),
      g.uniform(-2, -1),
      g.integers(2),
      g.integers(2),
    ],
    [4, 2.9673379526663326, 1734877356, -1.7747928100094081, 1, 0],
  );
  assert.deepEqual(g.bitGenerator.numpyState(), {
    bit_generator: "PCG64",
    state: "69277902251545625047243999639177715869",
    inc: "261136684632268670825940853076396136793",
    has_uint32: 1,
    uinteger: 1289204377,
  });
});

Deno.test("getState()/setState() continue the stream identically, buffered half included", () => {
  for (const seed of seeds) {
    const seq = vectors[seed].seq;
    // Save after every prefix of the vector sequence (buffer both full and empty).
    for (let cut = 0; cut <= seq.length; cut++) {
      const a = NumpyGenerator.fromSeed(Number(seed));
      for (const [kind] of seq.slice(0, cut)) draw(a, kind);
      const saved: Pcg64State = JSON.parse(JSON.stringify(a.getState()));
      const b = NumpyGenerator.fromState(saved);
      const c = NumpyGenerator.fromSeed(999);
      c.setState(saved);
      assert.deepEqual(b.getState(), a.getState());
      const rest = seq.slice(cut).map(([kind]) => [kind, draw(a, kind)]);
      assert.deepEqual(rest, seq.slice(cut), `seed ${seed}, cut ${cut}`);
      assert.deepEqual(seq.slice(cut).map(([kind]) => [kind, draw(b, kind)]), rest);
      assert.deepEqual(seq.slice(cut).map(([kind]) => [kind, draw(c, kind)]), rest);
      for (let i = 0; i < 20; i++) {
        const x = [a.integers(6), a.uniform(-1, 1), a.integers(3)];
        assert.deepEqual([b.integers(6), b.uniform(-1, 1), b.integers(3)], x);
        assert.deepEqual([c.integers(6), c.uniform(-1, 1), c.integers(3)], x);
      }
    }
  }
});

Deno.test("setState() rejects malformed states, naming the bad value", () => {
  const g = NumpyGenerator.fromSeed(1);
  const good = g.getState();
  assert.throws(() => g.setState({ ...good, state: "xyz" }), /"state" must be 32 .*"xyz"/);
  assert.throws(
    () => g.setState({ ...good, inc: "0".repeat(32) }),
    /"inc" must be odd, got 0{32}/,
  );
  assert.throws(
    () => g.setState({ ...good, hasUint32: 1 as unknown as boolean }),
    /"hasUint32" must be a boolean, got 1/,
  );
  assert.throws(() => g.setState({ ...good, uinteger: 2 ** 32 }), /"uinteger" .*4294967296/);
  // The failed calls left the state alone.
  assert.deepEqual(g.getState(), good);
});

Deno.test("bad seeds and arguments throw RangeError naming the value", () => {
  for (const seed of [-1, 1.5, NaN, Infinity, 2 ** 53]) {
    assert.throws(
      () => NumpyGenerator.fromSeed(seed),
      (e: unknown) => e instanceof RangeError && e.message.includes(String(seed)),
      `seed ${seed}`,
    );
    assert.throws(() => seedSequenceState(seed), RangeError);
    assert.throws(() => Pcg64.fromSeed(seed), RangeError);
  }
  assert.throws(() => seedSequenceState(-1n), /got -1n/);
  assert.throws(() => seedSequenceState(1, 0), /words must be a positive safe integer, got 0/);
  const g = NumpyGenerator.fromSeed(0);
  for (const n of [0, -3, 2.5, NaN]) {
    assert.throws(() => g.integers(n), (e: unknown) => e instanceof RangeError, `n ${n}`);
  }
  assert.throws(() => g.integers(0), /got 0/);
  assert.throws(() => g.choice([]), /empty list, got length 0/);
  assert.throws(() => g.uniform(0, Infinity), /high Infinity/);
  assert.throws(() => g.uniform(1, 0), /got low 1, high 0/);
  assert.throws(() => g.uniform(NaN, 1), /got low NaN, high 1/);
  assert.equal(g.uniform(0.25, 0.25), 0.25);
  assert.throws(() => g.uniform(-Number.MAX_VALUE, Number.MAX_VALUE), RangeError);
  assert.throws(() => new Pcg64([1n, 2n, 3n]), /needs 4 words, got 3/);
});
