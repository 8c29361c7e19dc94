/**
 * The project's seeded pseudo-random number generator: PCG32 (PCG-XSH-RR, 64-bit state,
 * 32-bit output), as published by M. E. O'Neill, "PCG: A Family of Simple Fast
 * Space-Efficient Statistically Good Algorithms for Random Number Generation" (2014),
 * with the reference implementation's seeding (`pcg32_srandom_r`). The test vectors of
 * the reference `pcg32-demo` (seed 42, stream 54) are checked in `tests/rng_test.ts`.
 *
 * Every random draw of a run comes from one instance, so the same seed gives the same run.
 * The 64-bit arithmetic is done on 32-bit halves (no BigInt on the hot path).
 *
 * @module
 */

/** A generator's complete state, as saved in checkpoints (hex strings of 64-bit words). */
export interface RngState {
  /** The 64-bit state, 16 hex digits. */
  state: string;
  /** The 64-bit increment (stream selector, odd), 16 hex digits. */
  inc: string;
}

const TWO_32 = 4294967296;
const MUL_HI = 0x5851f42d;
const MUL_LO = 0x4c957f2d;

/** High 32 bits of the 64-bit product of two unsigned 32-bit integers. */
function mulHigh32(a: number, b: number): number {
  const a0 = a & 0xffff, a1 = a >>> 16;
  const b0 = b & 0xffff, b1 = b >>> 16;
  const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (p11 + Math.floor(p01 / 65536) + Math.floor(p10 / 65536) + Math.floor(mid / 65536)) >>> 0;
}

function hex64(hi: number, lo: number): string {
  return hi.toString(16).padStart(8, "0") + lo.toString(16).padStart(8, "0");
}

function parseHex64(text: unknown, field: string): [number, number] {
  if (typeof text !== "string" || !/^[0-9a-f]{16}$/.test(text)) {
    throw new RangeError(
      `RNG state field "${field}" must be 16 hex digits, got ${JSON.stringify(text)}`,
    );
  }
  return [parseInt(text.slice(0, 8), 16), parseInt(text.slice(8), 16)];
}

/**
 * PCG32 generator.
 *
 * @example
 * ```ts
 * import { Pcg32 } from "./rng.ts";
 * const rng = new Pcg32(42, 54);
 * if (rng.nextUint32() !== 0xa15c02b7) throw new Error("not the reference stream");
 * ```
 */
export class Pcg32 {
  #stateHi = 0;
  #stateLo = 0;
  #incHi = 0;
  #incLo = 1;

  /**
   * A generator at the start of stream `stream` for `seed`.
   *
   * @param seed Non-negative integer (up to 2^53) selecting the starting state.
   * @param stream Non-negative integer (up to 2^53) selecting one of 2^63 independent streams.
   * @default stream 54 (the reference demo's)
   */
  constructor(seed: number, stream = 54) {
    for (const [name, value] of [["seed", seed], ["stream", stream]] as const) {
      if (!Number.isSafeInteger(value) || value < 0) {
        throw new RangeError(`PCG32 ${name} must be a non-negative safe integer, got ${value}`);
      }
    }
    // inc = (stream << 1) | 1, as 64 bits.
    const streamHi = Math.floor(stream / TWO_32), streamLo = stream >>> 0;
    this.#incHi = ((streamHi << 1) | (streamLo >>> 31)) >>> 0;
    this.#incLo = ((streamLo << 1) | 1) >>> 0;
    this.#stateHi = 0;
    this.#stateLo = 0;
    this.nextUint32();
    this.#add(Math.floor(seed / TWO_32) >>> 0, seed >>> 0);
    this.nextUint32();
  }

  /** Restores a generator saved with {@linkcode Pcg32.getState}. */
  static fromState(saved: RngState): Pcg32 {
    const rng = new Pcg32(0);
    rng.setState(saved);
    return rng;
  }

  /** The complete state; `Pcg32.fromState(rng.getState())` continues the same stream. */
  getState(): RngState {
    return { state: hex64(this.#stateHi, this.#stateLo), inc: hex64(this.#incHi, this.#incLo) };
  }

  /** Replaces this generator's state with a saved one. */
  setState(saved: RngState): void {
    const [sHi, sLo] = parseHex64(saved?.state, "state");
    const [iHi, iLo] = parseHex64(saved?.inc, "inc");
    if ((iLo & 1) === 0) {
      throw new RangeError(`RNG state field "inc" must be odd, got ${saved.inc}`);
    }
    this.#stateHi = sHi;
    this.#stateLo = sLo;
    this.#incHi = iHi;
    this.#incLo = iLo;
  }

  #add(hi: number, lo: number): void {
    const sumLo = this.#stateLo + lo;
    this.#stateLo = sumLo >>> 0;
    this.#stateHi = (this.#stateHi + hi + (sumLo >= TWO_32 ? 1 : 0)) >>> 0;
  }

  /** The next 32-bit unsigned integer. */
  nextUint32(): number {
    const oldHi = this.#stateHi, oldLo = this.#stateLo;
    // state = old * MUL + inc (mod 2^64)
    const lo = Math.imul(oldLo, MUL_LO) >>> 0;
    const hi = (mulHigh32(oldLo, MUL_LO) + Math.imul(oldHi, MUL_LO) + Math.imul(oldLo, MUL_HI)) >>>
      0;
    const sumLo = lo + this.#incLo;
    this.#stateLo = sumLo >>> 0;
    this.#stateHi = (hi + this.#incHi + (sumLo >= TWO_32 ? 1 : 0)) >>> 0;
    // output = rotr32(((old >> 18) ^ old) >> 27, old >> 59)
    const shLo = ((oldLo >>> 18) | (oldHi << 14)) >>> 0;
    const shHi = oldHi >>> 18;
    const xorLo = (shLo ^ oldLo) >>> 0, xorHi = (shHi ^ oldHi) >>> 0;
    const xorshifted = ((xorLo >>> 27) | (xorHi << 5)) >>> 0;
    const rot = oldHi >>> 27;
    return ((xorshifted >>> rot) | (xorshifted << ((32 - rot) & 31))) >>> 0;
  }

  /** A float uniform in [0, 1), with 32 bits of randomness. */
  nextFloat(): number {
    return this.nextUint32() / TWO_32;
  }

  /** A float uniform in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.nextFloat();
  }

  /** An integer uniform in [0, n), without modulo bias (n at most 2^32). */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > TWO_32) {
      throw new RangeError(`nextInt bound must be an integer in 1..2^32, got ${n}`);
    }
    // Reject the top partial block of 2^32 so every residue is equally likely.
    const limit = TWO_32 - (TWO_32 % n);
    for (;;) {
      const u = this.nextUint32();
      if (u < limit) return u % n;
    }
  }
}
