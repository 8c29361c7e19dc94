/**
 * A bit-exact port of the parts of numpy's random machinery that MPE2 uses:
 * `np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed)))` followed by
 * `uniform(low, high, 2)`, `integers(n)` and `choice(list)`.
 *
 * - {@link seedSequenceState}: `SeedSequence(entropy=seed).generate_state(words, np.uint64)`.
 * - {@link Pcg64}: numpy's `PCG64` bit generator (128-bit LCG, XSL-RR 64-bit output), with its
 *   buffered 32-bit half (`has_uint32` / `uinteger`).
 * - {@link NumpyGenerator}: the `Generator` methods MPE2 calls.
 *
 * Test vectors made with numpy are checked in `tests/mpe_rng_test.ts`. BigInt is only used
 * for seeding, state conversion and the rare 64-bit bounded draw; the 128-bit LCG step runs
 * on 16-bit limbs held in plain numbers.
 *
 * @module
 */

const MASK32 = 0xffffffffn;
const MASK64 = 0xffffffffffffffffn;
const MASK128 = (1n << 128n) - 1n;
const TWO_32 = 4294967296;

// SeedSequence hash and mix constants (numpy/random/bit_generator.pyx).
const INIT_A = 0x43b0d7e5;
const MULT_A = 0x931e8875;
const INIT_B = 0x8b51f9dd;
const MULT_B = 0x58f38ded;
const MIX_MULT_L = 0xca01f9dd;
const MIX_MULT_R = 0x4973f715;
const XSHIFT = 16;
const POOL_SIZE = 4;

/** The PCG64 128-bit LCG multiplier. */
const PCG_MULT = 0x2360ed051fc65da44385df649fccf645n;
/** The multiplier as eight 16-bit limbs, least significant first. */
const MULT_LIMBS = toLimbs(PCG_MULT);

/** Splits a 128-bit bigint into eight 16-bit limbs, least significant first. */
function toLimbs(value: bigint): Uint16Array {
  const limbs = new Uint16Array(8);
  for (let i = 0; i < 8; i++) limbs[i] = Number((value >> BigInt(16 * i)) & 0xffffn);
  return limbs;
}

/** Joins eight 16-bit limbs, least significant first, into a bigint. */
function fromLimbs(limbs: Uint16Array): bigint {
  let value = 0n;
  for (let i = 7; i >= 0; i--) value = (value << 16n) | BigInt(limbs[i]);
  return value;
}

/**
 * The unsigned 32-bit words of a non-negative integer, least significant first, as numpy's
 * `_int_to_uint32_array` makes them (0 gives `[0]`).
 */
function entropyWords(seed: number | bigint): number[] {
  let n: bigint;
  if (typeof seed === "bigint") {
    if (seed < 0n) {
      throw new RangeError(`Seed must be a non-negative integer, got ${seed}n`);
    }
    n = seed;
  } else {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new RangeError(`Seed must be a non-negative safe integer, got ${seed}`);
    }
    n = BigInt(seed);
  }
  if (n === 0n) return [0];
  const words: number[] = [];
  while (n > 0n) {
    words.push(Number(n & MASK32));
    n >>= 32n;
  }
  return words;
}

/**
 * numpy's `SeedSequence(entropy=seed).generate_state(words, np.uint64)`: the seed's 32-bit words
 * are hashed into a pool of four words, which is then expanded into `2 * words` 32-bit words,
 * read little-endian as `words` 64-bit words.
 *
 * @param seed Non-negative safe integer, or non-negative bigint of any size.
 * @param words Number of 64-bit words to generate (PCG64 takes 4).
 * @returns The generated words, as numpy returns them.
 * @throws {RangeError} If the seed is negative, fractional, non-finite or above 2^53 - 1 as a
 *   number, or `words` is not a positive safe integer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { seedSequenceState } from "./numpy_random.ts";
 * // numpy: SeedSequence(42).generate_state(4, np.uint64)[0]
 * assert.equal(seedSequenceState(42)[0], 11465652750463011511n);
 * ```
 */
export function seedSequenceState(seed: number | bigint, words = 4): BigUint64Array {
  const entropy = entropyWords(seed);
  if (!Number.isSafeInteger(words) || words < 1) {
    throw new RangeError(`Number of words must be a positive safe integer, got ${words}`);
  }
  // mix_entropy
  let hashConst = INIT_A;
  const hashmix = (value: number): number => {
    value = (value ^ hashConst) >>> 0;
    hashConst = Math.imul(hashConst, MULT_A) >>> 0;
    value = Math.imul(value, hashConst) >>> 0;
    return (value ^ (value >>> XSHIFT)) >>> 0;
  };
  const mix = (x: number, y: number): number => {
    const result = (Math.imul(MIX_MULT_L, x) - Math.imul(MIX_MULT_R, y)) >>> 0;
    return (result ^ (result >>> XSHIFT)) >>> 0;
  };
  const pool = new Array<number>(POOL_SIZE);
  for (let i = 0; i < POOL_SIZE; i++) pool[i] = hashmix(i < entropy.length ? entropy[i] : 0);
  for (let src = 0; src < POOL_SIZE; src++) {
    for (let dst = 0; dst < POOL_SIZE; dst++) {
      if (src !== dst) pool[dst] = mix(pool[dst], hashmix(pool[src]));
    }
  }
  for (let src = POOL_SIZE; src < entropy.length; src++) {
    for (let dst = 0; dst < POOL_SIZE; dst++) pool[dst] = mix(pool[dst], hashmix(entropy[src]));
  }
  // generate_state
  let genConst = INIT_B;
  const out = new BigUint64Array(words);
  const words32 = new Array<number>(2 * words);
  for (let i = 0; i < 2 * words; i++) {
    let value = (pool[i % POOL_SIZE] ^ genConst) >>> 0;
    genConst = Math.imul(genConst, MULT_B) >>> 0;
    value = Math.imul(value, genConst) >>> 0;
    words32[i] = (value ^ (value >>> XSHIFT)) >>> 0;
  }
  for (let i = 0; i < words; i++) {
    out[i] = (BigInt(words32[2 * i + 1]) << 32n) | BigInt(words32[2 * i]);
  }
  return out;
}

/**
 * A PCG64 state, JSON-safe, as saved in checkpoints. Field `hasUint32` / `uinteger` are numpy's
 * `has_uint32` / `uinteger`: the high half of a 64-bit output kept for the next 32-bit draw.
 */
export interface Pcg64State {
  /** The 128-bit LCG state, 32 lowercase hex digits. */
  state: string;
  /** The 128-bit increment (odd), 32 lowercase hex digits. */
  inc: string;
  /** Whether `uinteger` holds a buffered 32-bit half. */
  hasUint32: boolean;
  /** The buffered 32-bit half (0 to 2^32 - 1; numpy keeps its last value when not buffered). */
  uinteger: number;
}

/** A PCG64 state in the form of numpy's `bit_generator.state` (integers as decimal strings). */
export interface NumpyPcg64State {
  /** Always `"PCG64"`. */
  bit_generator: "PCG64";
  /** The 128-bit LCG state, decimal. */
  state: string;
  /** The 128-bit increment, decimal. */
  inc: string;
  /** 1 when a 32-bit half is buffered, else 0. */
  has_uint32: 0 | 1;
  /** The buffered 32-bit half. */
  uinteger: number;
}

function parseHex128(text: unknown, field: string): bigint {
  if (typeof text !== "string" || !/^[0-9a-f]{32}$/.test(text)) {
    throw new RangeError(
      `PCG64 state field "${field}" must be 32 lowercase hex digits, got ${JSON.stringify(text)}`,
    );
  }
  return BigInt("0x" + text);
}

/**
 * numpy's PCG64 bit generator: a 128-bit LCG (`state = state * M + inc mod 2^128`) whose 64-bit
 * output is the XSL-RR permutation of the new state, plus numpy's one-slot buffer of the
 * unused high half of a 64-bit output taken for a 32-bit draw.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Pcg64 } from "./numpy_random.ts";
 * // numpy: PCG64(SeedSequence(42)).random_raw()
 * assert.equal(Pcg64.fromSeed(42).next64(), 14276969152011380360n);
 * ```
 */
export class Pcg64 {
  #state: Uint16Array = new Uint16Array(8);
  #inc: Uint16Array = new Uint16Array(8);
  #outHi = 0;
  #outLo = 0;
  #hasUint32 = false;
  #uinteger = 0;

  /**
   * Seeds the generator from four 64-bit words as numpy does (`pcg64_set_seed`):
   * `state = 0; inc = ((w[2] << 64 | w[3]) << 1) | 1; step; state += w[0] << 64 | w[1]; step`.
   *
   * @param words Four 64-bit words, as from {@link seedSequenceState}.
   * @throws {RangeError} If fewer than four words are given or a word is outside [0, 2^64).
   */
  constructor(words: BigUint64Array | readonly bigint[]) {
    if (words.length < 4) {
      throw new RangeError(`PCG64 seeding needs 4 words, got ${words.length}`);
    }
    for (let i = 0; i < 4; i++) {
      const word = words[i];
      if (typeof word !== "bigint" || word < 0n || word > MASK64) {
        throw new RangeError(`PCG64 seed word ${i} must be a 64-bit unsigned bigint, got ${word}`);
      }
    }
    const initState = (words[0] << 64n) | words[1];
    const initSeq = (words[2] << 64n) | words[3];
    const inc = ((initSeq << 1n) | 1n) & MASK128;
    // state = 0; step (0 * M + inc = inc); state += initState; step.
    let state = (inc + initState) & MASK128;
    state = (state * PCG_MULT + inc) & MASK128;
    this.#state = toLimbs(state);
    this.#inc = toLimbs(inc);
  }

  /**
   * `PCG64(SeedSequence(seed))`.
   *
   * @param seed Non-negative safe integer or non-negative bigint.
   * @throws {RangeError} If the seed is not a non-negative safe integer or bigint.
   */
  static fromSeed(seed: number | bigint): Pcg64 {
    return new Pcg64(seedSequenceState(seed, 4));
  }

  /**
   * A generator restored from {@link Pcg64.getState}'s output.
   *
   * @throws {RangeError} If the state is malformed.
   */
  static fromState(state: Pcg64State): Pcg64 {
    const rng = new Pcg64([0n, 0n, 0n, 0n]);
    rng.setState(state);
    return rng;
  }

  /** Advances the LCG and stores the XSL-RR output in `#outHi` / `#outLo`. */
  #step(): void {
    const s = this.#state, m = MULT_LIMBS, inc = this.#inc;
    const s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3], s4 = s[4], s5 = s[5], s6 = s[6], s7 = s[7];
    const m0 = m[0], m1 = m[1], m2 = m[2], m3 = m[3], m4 = m[4], m5 = m[5], m6 = m[6], m7 = m[7];
    // Each column sums at most eight 32-bit products plus a carry: exact in a double.
    let acc = s0 * m0 + inc[0];
    let low = acc & 0xffff;
    let carry = (acc - low) / 65536;
    const r0 = low;
    acc = carry + inc[1] + s0 * m1 + s1 * m0;
    low = acc & 0xffff;
    carry = (acc - low) / 65536;
    const r1 = low;
    acc = carry + inc[2] + s0 * m2 + s1 * m1 + s2 * m0;
    low = acc & 0xffff;
    carry = (acc - low) / 65536;
    const r2 = low;
    acc = carry + inc[3] + s0 * m3 + s1 * m2 + s2 * m1 + s3 * m0;
    low = acc & 0xffff;
    carry = (acc - low) / 65536;
    const r3 = low;
    acc = carry + inc[4] + s0 * m4 + s1 * m3 + s2 * m2 + s3 * m1 + s4 * m0;
    low = acc & 0xffff;
    carry = (acc - low) / 65536;
    const r4 = low;
    acc = carry + inc[5] + s0 * m5 + s1 * m4 + s2 * m3 + s3 * m2 + s4 * m1 + s5 * m0;
    low = acc & 0xffff;
    carry = (acc - low) / 65536;
    const r5 = low;
    acc = carry + inc[6] + s0 * m6 + s1 * m5 + s2 * m4 + s3 * m3 + s4 * m2 + s5 * m1 + s6 * m0;
    low = acc & 0xffff;
    carry = (acc - low) / 65536;
    const r6 = low;
    acc = carry + inc[7] + s0 * m7 + s1 * m6 + s2 * m5 + s3 * m4 + s4 * m3 + s5 * m2 + s6 * m1 +
      s7 * m0;
    const r7 = acc & 0xffff;
    s[0] = r0;
    s[1] = r1;
    s[2] = r2;
    s[3] = r3;
    s[4] = r4;
    s[5] = r5;
    s[6] = r6;
    s[7] = r7;
    // XSL-RR: rotr64(high64 ^ low64, high64 >> 58).
    const hi = (((r7 << 16) | r6) ^ ((r3 << 16) | r2)) >>> 0;
    const lo = (((r5 << 16) | r4) ^ ((r1 << 16) | r0)) >>> 0;
    let rot = r7 >>> 10;
    let a = hi, b = lo;
    if (rot >= 32) {
      a = lo;
      b = hi;
      rot -= 32;
    }
    if (rot === 0) {
      this.#outHi = a;
      this.#outLo = b;
    } else {
      this.#outHi = ((a >>> rot) | (b << (32 - rot))) >>> 0;
      this.#outLo = ((b >>> rot) | (a << (32 - rot))) >>> 0;
    }
  }

  /** The next 64-bit output (numpy's `random_raw()`); does not touch the 32-bit buffer. */
  next64(): bigint {
    this.#step();
    return (BigInt(this.#outHi) << 32n) | BigInt(this.#outLo);
  }

  /**
   * The next double in [0, 1): `(next64() >> 11) * 2^-53` (numpy's `next_double`), without
   * BigInt.
   */
  nextDouble(): number {
    this.#step();
    return (this.#outHi * 2097152 + (this.#outLo >>> 11)) * 1.1102230246251565e-16;
  }

  /**
   * The next 32-bit output (numpy's `pcg64_next32`): the buffered high half if there is one,
   * else the low half of a fresh 64-bit output, buffering its high half.
   */
  next32(): number {
    if (this.#hasUint32) {
      this.#hasUint32 = false;
      return this.#uinteger;
    }
    this.#step();
    this.#hasUint32 = true;
    this.#uinteger = this.#outHi;
    return this.#outLo;
  }

  /** The complete state, JSON-safe (hex strings for the 128-bit words). */
  getState(): Pcg64State {
    return {
      state: fromLimbs(this.#state).toString(16).padStart(32, "0"),
      inc: fromLimbs(this.#inc).toString(16).padStart(32, "0"),
      hasUint32: this.#hasUint32,
      uinteger: this.#uinteger,
    };
  }

  /**
   * Restores a state from {@link Pcg64.getState}; the stream then continues identically.
   *
   * @throws {RangeError} If a field is malformed or `inc` is even.
   */
  setState(state: Pcg64State): void {
    if (typeof state !== "object" || state === null) {
      throw new RangeError(`PCG64 state must be an object, got ${JSON.stringify(state)}`);
    }
    const lcg = parseHex128(state.state, "state");
    const inc = parseHex128(state.inc, "inc");
    if ((inc & 1n) === 0n) {
      throw new RangeError(`PCG64 state field "inc" must be odd, got ${state.inc}`);
    }
    if (typeof state.hasUint32 !== "boolean") {
      throw new RangeError(
        `PCG64 state field "hasUint32" must be a boolean, got ${JSON.stringify(state.hasUint32)}`,
      );
    }
    const u = state.uinteger;
    if (typeof u !== "number" || !Number.isInteger(u) || u < 0 || u >= TWO_32) {
      throw new RangeError(
        `PCG64 state field "uinteger" must be an integer in [0, 2^32), got ${JSON.stringify(u)}`,
      );
    }
    this.#state = toLimbs(lcg);
    this.#inc = toLimbs(inc);
    this.#hasUint32 = state.hasUint32;
    this.#uinteger = u;
  }

  /**
   * The state in the form of numpy's `PCG64().state` (decimal strings, `has_uint32` 0/1), for
   * comparing with states recorded from numpy.
   */
  numpyState(): NumpyPcg64State {
    return {
      bit_generator: "PCG64",
      state: fromLimbs(this.#state).toString(),
      inc: fromLimbs(this.#inc).toString(),
      has_uint32: this.#hasUint32 ? 1 : 0,
      uinteger: this.#uinteger,
    };
  }
}

/**
 * The `np.random.Generator` methods MPE2 draws from, bit-exact for a PCG64 bit generator:
 * `uniform(low, high)`, `integers(n)` (= `integers(0, n)`) and `choice(list)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NumpyGenerator } from "./numpy_random.ts";
 * // numpy: g = np.random.Generator(np.random.PCG64(np.random.SeedSequence(42)))
 * const g = NumpyGenerator.fromSeed(42);
 * assert.equal(g.integers(3), 0); // g.integers(3)
 * assert.equal(g.uniform(-1, 1), -0.12224312049589536); // g.uniform(-1, 1, 2)
 * assert.equal(g.uniform(-1, 1), 0.7171958398227649);
 * assert.equal(g.integers(3), 2); // uses the high half buffered by the first integers(3)
 * assert.equal(g.integers(2), 0);
 * assert.equal(g.uniform(-0.9, 0.9), -0.7304807738022309); // g.uniform(-0.9, 0.9, 2)
 * assert.equal(g.uniform(-0.9, 0.9), 0.8561202329461607);
 * assert.equal(g.choice([0, 1, 2, 3, 4]), 3);
 * assert.equal(g.integers(7), 5);
 * ```
 */
export class NumpyGenerator {
  /** The underlying bit generator. */
  readonly bitGenerator: Pcg64;

  /** Wraps a PCG64 bit generator (shared, not copied). */
  constructor(bitGenerator: Pcg64) {
    this.bitGenerator = bitGenerator;
  }

  /**
   * `np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed)))`.
   *
   * @param seed Non-negative safe integer or non-negative bigint.
   * @throws {RangeError} If the seed is not a non-negative safe integer or bigint.
   */
  static fromSeed(seed: number | bigint): NumpyGenerator {
    return new NumpyGenerator(Pcg64.fromSeed(seed));
  }

  /**
   * A generator restored from {@link NumpyGenerator.getState}'s output.
   *
   * @throws {RangeError} If the state is malformed.
   */
  static fromState(state: Pcg64State): NumpyGenerator {
    return new NumpyGenerator(Pcg64.fromState(state));
  }

  /**
   * One draw of numpy's `uniform(low, high)`: `low + (high - low) * u`, with `u` in [0, 1) from
   * one 64-bit output (`(u64 >> 11) * 2^-53`). Does not use the buffered 32-bit half.
   *
   * @throws {RangeError} If `low`, `high` or `high - low` is not finite, or `high < low` (numpy
   *   raises "high - low < 0").
   */
  uniform(low: number, high: number): number {
    const range = high - low;
    if (!Number.isFinite(range) || !Number.isFinite(low) || range < 0) {
      throw new RangeError(
        `Uniform bounds must be finite with 0 <= high - low < Infinity, got low ${low}, high ${high}`,
      );
    }
    return low + range * this.bitGenerator.nextDouble();
  }

  /**
   * numpy's `integers(n)` (= `integers(0, n)`, int64): an integer in [0, n). For n <= 2^32 this
   * is Lemire's bounded 32-bit method with rejection, whose 32-bit draws take the low half of a
   * 64-bit output and buffer the high half for the next 32-bit draw; n = 1 draws nothing; larger
   * n use the 64-bit Lemire method.
   *
   * @param n Exclusive upper bound, a positive safe integer.
   * @throws {RangeError} If `n` is not a positive safe integer.
   */
  integers(n: number): number {
    if (!Number.isSafeInteger(n) || n < 1) {
      throw new RangeError(`Upper bound of integers() must be a positive safe integer, got ${n}`);
    }
    const rng = n - 1;
    if (rng === 0) return 0;
    const bits = this.bitGenerator;
    if (rng === 0xffffffff) return bits.next32();
    if (rng < 0xffffffff) {
      // buffered_bounded_lemire_uint32: m = x * n (64 bits); leftover = m mod 2^32; result m >> 32.
      let x = bits.next32();
      let leftover = Math.imul(x, n) >>> 0;
      if (leftover < n) {
        const threshold = TWO_32 % n;
        while (leftover < threshold) {
          x = bits.next32();
          leftover = Math.imul(x, n) >>> 0;
        }
      }
      // x * n < 2^64 may exceed 2^53, so take the high word exactly.
      return mulHigh32(x, n);
    }
    // bounded_lemire_uint64
    const excl = BigInt(n);
    let m = bits.next64() * excl;
    let leftover = m & MASK64;
    if (leftover < excl) {
      const threshold = (MASK64 - BigInt(rng)) % excl;
      while (leftover < threshold) {
        m = bits.next64() * excl;
        leftover = m & MASK64;
      }
    }
    return Number(m >> 64n);
  }

  /**
   * numpy's `choice(items)` on a list without probabilities: `items[integers(items.length)]`.
   *
   * @throws {RangeError} If `items` is empty.
   */
  choice<T>(items: readonly T[]): T {
    if (items.length === 0) {
      throw new RangeError("Cannot choose from an empty list, got length 0");
    }
    return items[this.integers(items.length)];
  }

  /** The bit generator's complete state, JSON-safe (including the buffered 32-bit half). */
  getState(): Pcg64State {
    return this.bitGenerator.getState();
  }

  /**
   * Restores a state from {@link NumpyGenerator.getState}.
   *
   * @throws {RangeError} If the state is malformed.
   */
  setState(state: Pcg64State): void {
    this.bitGenerator.setState(state);
  }
}

/** High 32 bits of the 64-bit product of two unsigned 32-bit integers. */
function mulHigh32(a: number, b: number): number {
  const a0 = a & 0xffff, a1 = a >>> 16;
  const b0 = b & 0xffff, b1 = b >>> 16;
  const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (p11 + Math.floor(p01 / 65536) + Math.floor(p10 / 65536) + Math.floor(mid / 65536)) >>>
    0;
}
