/**
 * Replay buffer of joint multi-agent transitions on preallocated typed arrays.
 *
 * @module
 */
import type { Pcg32 } from "./rng.ts";

/** Shape of the transitions a {@linkcode ReplayBuffer} holds. */
export interface ReplayBufferOptions {
  /** Maximum number of transitions; the oldest is overwritten when full. @default 100000 */
  capacity?: number;
  /** Number of agents. */
  numAgents: number;
  /** Observation length per agent. */
  observationDim: number;
}

/** A batch of joint transitions, row-major: row b of `observations` is agent 0's then agent 1's... */
export interface Batch {
  /** Number of transitions. */
  size: number;
  /** [size, numAgents * observationDim] joint observations. */
  observations: Float32Array;
  /** [size, numAgents] action indices. */
  actions: Int32Array;
  /** [size, numAgents] rewards. */
  rewards: Float32Array;
  /** [size, numAgents * observationDim] joint next observations. */
  nextObservations: Float32Array;
  /** [size] 1 where the episode ended with this transition, else 0. */
  dones: Float32Array;
}

/** The contents of a {@linkcode ReplayBuffer}, as saved in checkpoints. */
export interface ReplayBufferState {
  /** Transitions stored. */
  length: number;
  /** Index the next transition goes to. */
  position: number;
  /** `[length, numAgents · observationDim]`. */
  observations: Float32Array;
  /** `[length, numAgents]`. */
  actions: Int32Array;
  /** `[length, numAgents]`. */
  rewards: Float32Array;
  /** `[length, numAgents · observationDim]`. */
  nextObservations: Float32Array;
  /** `[length]`. */
  dones: Float32Array;
}

/** Allocates an empty batch of the given shape. */
export function allocateBatch(size: number, numAgents: number, observationDim: number): Batch {
  return {
    size,
    observations: new Float32Array(size * numAgents * observationDim),
    actions: new Int32Array(size * numAgents),
    rewards: new Float32Array(size * numAgents),
    nextObservations: new Float32Array(size * numAgents * observationDim),
    dones: new Float32Array(size),
  };
}

/**
 * Ring buffer of joint transitions `(x, a, r, x', done)`, sampled uniformly without
 * replacement, as the notebook's `random.sample` over a `deque(maxlen=capacity)`.
 *
 * @example
 * ```ts
 * import { ReplayBuffer } from "./replay_buffer.ts";
 * import { Pcg32 } from "./rng.ts";
 * const buffer = new ReplayBuffer({ capacity: 10, numAgents: 2, observationDim: 1 });
 * for (let t = 0; t < 12; t++) {
 *   buffer.push([Float32Array.of(t), Float32Array.of(t)], [0, 1], [t, t], [Float32Array.of(t + 1), Float32Array.of(t + 1)], false);
 * }
 * if (buffer.length !== 10) throw new Error("capacity is 10");
 * const batch = buffer.sample(4, new Pcg32(1));
 * if (batch.size !== 4) throw new Error("4 rows");
 * ```
 */
export class ReplayBuffer {
  /** Maximum number of transitions. */
  readonly capacity: number;
  /** Number of agents. */
  readonly numAgents: number;
  /** Observation length per agent. */
  readonly observationDim: number;

  readonly #observations: Float32Array;
  readonly #actions: Int32Array;
  readonly #rewards: Float32Array;
  readonly #nextObservations: Float32Array;
  readonly #dones: Float32Array;
  #length = 0;
  #position = 0;
  // Sampling without replacement: stamp[i] === #stampValue marks index i as taken this draw.
  readonly #stamp: Uint32Array;
  #stampValue = 0;

  constructor(options: ReplayBufferOptions) {
    const { capacity = 100_000, numAgents, observationDim } = options;
    for (
      const [name, value] of [["capacity", capacity], ["numAgents", numAgents], [
        "observationDim",
        observationDim,
      ]] as const
    ) {
      if (!Number.isInteger(value) || value <= 0) {
        throw new RangeError(`Replay buffer ${name} must be a positive integer, got ${value}`);
      }
    }
    this.capacity = capacity;
    this.numAgents = numAgents;
    this.observationDim = observationDim;
    const jointObs = numAgents * observationDim;
    this.#observations = new Float32Array(capacity * jointObs);
    this.#actions = new Int32Array(capacity * numAgents);
    this.#rewards = new Float32Array(capacity * numAgents);
    this.#nextObservations = new Float32Array(capacity * jointObs);
    this.#dones = new Float32Array(capacity);
    this.#stamp = new Uint32Array(capacity);
  }

  /** Number of transitions stored. */
  get length(): number {
    return this.#length;
  }

  /** Index the next transition is written to. */
  get position(): number {
    return this.#position;
  }

  /** Stores one joint transition, overwriting the oldest when full. */
  push(
    observations: readonly Float32Array[],
    actions: readonly number[],
    rewards: readonly number[],
    nextObservations: readonly Float32Array[],
    done: boolean,
  ): void {
    const { numAgents, observationDim } = this;
    if (
      observations.length !== numAgents || nextObservations.length !== numAgents ||
      actions.length !== numAgents || rewards.length !== numAgents
    ) {
      throw new RangeError(`Transition must hold data of ${numAgents} agents`);
    }
    const row = this.#position;
    const base = row * numAgents * observationDim;
    for (let i = 0; i < numAgents; i++) {
      if (
        observations[i].length !== observationDim || nextObservations[i].length !== observationDim
      ) {
        throw new RangeError(`Observation of agent ${i} must have length ${observationDim}`);
      }
      this.#observations.set(observations[i], base + i * observationDim);
      this.#nextObservations.set(nextObservations[i], base + i * observationDim);
      this.#actions[row * numAgents + i] = actions[i];
      this.#rewards[row * numAgents + i] = rewards[i];
    }
    this.#dones[row] = done ? 1 : 0;
    this.#position = (row + 1) % this.capacity;
    if (this.#length < this.capacity) this.#length++;
  }

  /**
   * Draws `batchSize` distinct stored transitions uniformly at random (the set-based
   * rejection that Python's `random.sample` uses when the sample is small).
   */
  sampleIndices(batchSize: number, rng: Pcg32, out = new Int32Array(batchSize)): Int32Array {
    if (!Number.isInteger(batchSize) || batchSize <= 0 || batchSize > this.#length) {
      throw new RangeError(
        `Cannot sample ${batchSize} distinct transitions from a buffer holding ${this.#length}`,
      );
    }
    this.#stampValue = (this.#stampValue + 1) >>> 0;
    if (this.#stampValue === 0) { // wrapped after 2^32 draws: clear the stamps
      this.#stamp.fill(0);
      this.#stampValue = 1;
    }
    const stamp = this.#stamp, value = this.#stampValue;
    for (let k = 0; k < batchSize; k++) {
      let index = rng.nextInt(this.#length);
      while (stamp[index] === value) index = rng.nextInt(this.#length);
      stamp[index] = value;
      out[k] = index;
    }
    return out;
  }

  /** Copies the transitions at `indices` into `batch` (allocated when not given). */
  gather(indices: Int32Array, batch?: Batch): Batch {
    const { numAgents, observationDim } = this;
    const out = batch ?? allocateBatch(indices.length, numAgents, observationDim);
    if (out.size !== indices.length) {
      throw new RangeError(`Batch holds ${out.size} rows, got ${indices.length} indices`);
    }
    const jointObs = numAgents * observationDim;
    for (let b = 0; b < indices.length; b++) {
      const row = indices[b];
      out.observations.set(
        this.#observations.subarray(row * jointObs, (row + 1) * jointObs),
        b * jointObs,
      );
      out.nextObservations.set(
        this.#nextObservations.subarray(row * jointObs, (row + 1) * jointObs),
        b * jointObs,
      );
      for (let i = 0; i < numAgents; i++) {
        out.actions[b * numAgents + i] = this.#actions[row * numAgents + i];
        out.rewards[b * numAgents + i] = this.#rewards[row * numAgents + i];
      }
      out.dones[b] = this.#dones[row];
    }
    return out;
  }

  /**
   * The stored transitions, for a checkpoint: the first `length` rows of each array (ring
   * order as stored) and the write position.
   */
  exportState(): ReplayBufferState {
    const n = this.#length, { numAgents, observationDim } = this;
    return {
      length: n,
      position: this.#position,
      observations: this.#observations.slice(0, n * numAgents * observationDim),
      actions: this.#actions.slice(0, n * numAgents),
      rewards: this.#rewards.slice(0, n * numAgents),
      nextObservations: this.#nextObservations.slice(0, n * numAgents * observationDim),
      dones: this.#dones.slice(0, n),
    };
  }

  /** Restores {@linkcode ReplayBuffer.exportState}'s result; checks every size. */
  importState(state: ReplayBufferState): void {
    const { numAgents, observationDim, capacity } = this;
    const n = state.length;
    if (!Number.isInteger(n) || n < 0 || n > capacity) {
      throw new RangeError(`Saved buffer holds ${n} transitions; capacity is ${capacity}`);
    }
    if (!Number.isInteger(state.position) || state.position < 0 || state.position >= capacity) {
      throw new RangeError(`Saved buffer position ${state.position} is outside 0..${capacity - 1}`);
    }
    const expect = (name: string, array: ArrayLike<number>, size: number) => {
      if (array.length !== size) {
        throw new RangeError(
          `Saved buffer "${name}" holds ${array.length} values, expected ${size}`,
        );
      }
    };
    expect("observations", state.observations, n * numAgents * observationDim);
    expect("nextObservations", state.nextObservations, n * numAgents * observationDim);
    expect("actions", state.actions, n * numAgents);
    expect("rewards", state.rewards, n * numAgents);
    expect("dones", state.dones, n);
    this.#observations.set(state.observations);
    this.#nextObservations.set(state.nextObservations);
    this.#actions.set(state.actions);
    this.#rewards.set(state.rewards);
    this.#dones.set(state.dones);
    this.#length = n;
    this.#position = state.position;
  }

  /** Samples a batch without replacement (see {@linkcode ReplayBuffer.sampleIndices}). */
  sample(batchSize: number, rng: Pcg32, batch?: Batch): Batch {
    return this.gather(this.sampleIndices(batchSize, rng), batch);
  }
}
