/**
 * Replay buffer of joint multi-agent transitions on preallocated typed arrays: per-agent
 * observation and action sizes, discrete or continuous actions, terminations and
 * truncations kept apart.
 *
 * @module
 */
import type { Pcg32 } from "./rng.ts";

/**
 * Rows of a block: the unit in which checkpoints save the buffer, and in which it notes its
 * changes ({@linkcode ReplayBuffer.blockStamp}) so that a save can keep what has not changed.
 */
export const BUFFER_BLOCK_ROWS = 16384;

/** Shape of the transitions a {@linkcode ReplayBuffer} holds. */
export interface ReplayBufferOptions {
  /** Maximum number of transitions; the oldest is overwritten when full. @default 100000 */
  capacity?: number;
  /** Observation length of each agent. */
  observationSizes: readonly number[];
  /** Stored action width of each agent: 1 for a discrete action (its index), else its length. */
  actionSizes: readonly number[];
  /**
   * Bytes the buffer may take at most; a larger buffer is refused before anything is
   * allocated. @default the memory the system has available, when known
   */
  maxBytes?: number;
}

/** A batch of joint transitions: per-agent arrays are row-major `[size, width]`. */
export interface Batch {
  /** Number of transitions. */
  size: number;
  /** Each agent's observations, `[size, observationSize_i]`. */
  observations: Float32Array[];
  /** Each agent's actions, `[size, actionSize_i]` (a discrete action is its index). */
  actions: Float32Array[];
  /** Rewards, `[size, numAgents]`. */
  rewards: Float32Array;
  /** Each agent's next observations, `[size, observationSize_i]`. */
  nextObservations: Float32Array[];
  /** 1 where the agent reached a terminal state with this transition, `[size, numAgents]`. */
  terminations: Float32Array;
  /** 1 where the episode was cut after this transition, `[size, numAgents]`. */
  truncations: Float32Array;
}

/** The contents of a {@linkcode ReplayBuffer}, as saved in checkpoints (rows `0 … length−1`). */
export type ReplayBufferState = Omit<Batch, "size"> & {
  /** Transitions stored. */
  length: number;
  /** Index the next transition goes to. */
  position: number;
};

/** One transition as {@linkcode ReplayBuffer.push} takes it; arrays in agent order. */
export interface Transition {
  /** Each agent's observation. */
  observations: readonly ArrayLike<number>[];
  /** Each agent's action: an index (discrete) or a vector (continuous). */
  actions: readonly (number | ArrayLike<number>)[];
  /** Each agent's reward. */
  rewards: readonly number[];
  /** Each agent's next observation. */
  nextObservations: readonly ArrayLike<number>[];
  /** Whether each agent's episode ended (no bootstrap). */
  terminations: readonly boolean[];
  /** Whether each agent's episode was cut at the step limit (bootstrapped). */
  truncations: readonly boolean[];
}

/** Allocates an empty batch of `size` rows for agents of the given sizes. */
export function allocateBatch(
  size: number,
  sizes: { observationSizes: readonly number[]; actionSizes: readonly number[] },
): Batch {
  const n = sizes.observationSizes.length;
  return {
    size,
    observations: sizes.observationSizes.map((o) => new Float32Array(size * o)),
    actions: sizes.actionSizes.map((a) => new Float32Array(size * a)),
    rewards: new Float32Array(size * n),
    nextObservations: sizes.observationSizes.map((o) => new Float32Array(size * o)),
    terminations: new Float32Array(size * n),
    truncations: new Float32Array(size * n),
  };
}

/**
 * Bytes a buffer of `capacity` transitions takes (its arrays and the sampling stamps).
 *
 * @example
 * ```ts
 * import { replayBufferBytes } from "./replay_buffer.ts";
 * import assert from "node:assert/strict";
 * // simple_spread_v3: three agents, 18 observations, 5 continuous actions each.
 * const bytes = replayBufferBytes(1_000_000, { observationSizes: [18, 18, 18], actionSizes: [5, 5, 5] });
 * assert.equal(bytes, 532_000_000);
 * ```
 */
export function replayBufferBytes(
  capacity: number,
  sizes: { observationSizes: readonly number[]; actionSizes: readonly number[] },
): number {
  const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
  const n = sizes.observationSizes.length;
  const floats = 2 * sum(sizes.observationSizes) + sum(sizes.actionSizes) + 3 * n;
  return capacity * (4 * floats + 4);
}

/** Memory the system reports as available, if this runtime can tell. */
function availableMemory(): number | undefined {
  try {
    return typeof Deno !== "undefined" ? Deno.systemMemoryInfo().available : undefined;
  } catch {
    return undefined;
  }
}

/** "1.23 GB" / "456.7 MB". */
export function formatBytes(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

/**
 * Ring buffer of joint transitions, sampled uniformly without replacement, as the notebook's
 * `random.sample` over a `deque(maxlen=capacity)`.
 *
 * @example
 * ```ts
 * import { ReplayBuffer } from "./replay_buffer.ts";
 * import { Pcg32 } from "./rng.ts";
 * import assert from "node:assert/strict";
 * const buffer = new ReplayBuffer({ capacity: 10, observationSizes: [1, 2], actionSizes: [1, 1] });
 * for (let t = 0; t < 12; t++) {
 *   buffer.push({
 *     observations: [[t], [t, t]],
 *     actions: [0, 1],
 *     rewards: [t, t],
 *     nextObservations: [[t + 1], [t + 1, t + 1]],
 *     terminations: [false, false],
 *     truncations: [t === 11, t === 11],
 *   });
 * }
 * assert.equal(buffer.length, 10);
 * const batch = buffer.sample(4, new Pcg32(1));
 * assert.deepEqual([batch.size, batch.observations[1].length], [4, 8]);
 * ```
 */
export class ReplayBuffer {
  /** Maximum number of transitions. */
  readonly capacity: number;
  /** Observation length of each agent. */
  readonly observationSizes: readonly number[];
  /** Stored action width of each agent. */
  readonly actionSizes: readonly number[];
  /** Bytes the buffer's arrays take. */
  readonly bytes: number;

  readonly #store: Batch;
  #length = 0;
  #position = 0;
  // Sampling without replacement: stamp[i] === #stampValue marks index i as taken this draw.
  readonly #stamp: Uint32Array;
  #stampValue = 0;
  // Each block's last write: the count of writes when one of its rows was last written.
  readonly #blockWrites: Float64Array;
  #writes = 0;
  // Values per row of each array, in the order of #columns.
  readonly #widths: number[];
  #sortKeys = new Float64Array(0);

  /** An empty buffer holding up to `capacity` transitions of agents of the given sizes. */
  constructor(options: ReplayBufferOptions) {
    const { capacity = 100_000, observationSizes, actionSizes } = options;
    if (!Number.isSafeInteger(capacity) || capacity <= 0) {
      throw new RangeError(`Replay buffer capacity must be a positive integer, got ${capacity}`);
    }
    if (observationSizes.length === 0 || observationSizes.length !== actionSizes.length) {
      throw new RangeError(
        `Replay buffer needs one observation and one action size per agent, got ${observationSizes.length} and ${actionSizes.length}`,
      );
    }
    for (const size of [...observationSizes, ...actionSizes]) {
      if (!Number.isSafeInteger(size) || size <= 0) {
        throw new RangeError(`Replay buffer sizes must be positive integers, got ${size}`);
      }
    }
    this.capacity = capacity;
    this.observationSizes = [...observationSizes];
    this.actionSizes = [...actionSizes];
    this.bytes = replayBufferBytes(capacity, options);
    const limit = options.maxBytes ?? availableMemory();
    if (limit !== undefined && this.bytes > limit) {
      throw new RangeError(
        `A replay buffer of ${capacity} transitions needs ${
          formatBytes(this.bytes)
        }, more than the ${formatBytes(limit)} available: lower the buffer size`,
      );
    }
    this.#store = allocateBatch(capacity, options);
    const n = observationSizes.length;
    this.#widths = [...observationSizes, ...observationSizes, ...actionSizes, n, n, n];
    this.#stamp = new Uint32Array(capacity);
    this.#blockWrites = new Float64Array(Math.ceil(capacity / BUFFER_BLOCK_ROWS));
  }

  /**
   * A number that changes whenever a row of block `block` (rows `block · BUFFER_BLOCK_ROWS`
   * onwards) is written: equal stamps mean the block holds the same transitions.
   */
  blockStamp(block: number): number {
    return this.#blockWrites[block];
  }

  /** Number of agents. */
  get numAgents(): number {
    return this.observationSizes.length;
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
  push(transition: Transition): void {
    const n = this.numAgents, row = this.#position, store = this.#store;
    const { observations, actions, rewards, nextObservations, terminations, truncations } =
      transition;
    if (
      observations.length !== n || actions.length !== n || rewards.length !== n ||
      nextObservations.length !== n || terminations.length !== n || truncations.length !== n
    ) {
      throw new RangeError(`Transition must hold data of ${n} agents`);
    }
    for (let i = 0; i < n; i++) {
      const o = this.observationSizes[i], a = this.actionSizes[i];
      if (observations[i].length !== o || nextObservations[i].length !== o) {
        throw new RangeError(`Observation of agent ${i} must have length ${o}`);
      }
      store.observations[i].set(observations[i], row * o);
      store.nextObservations[i].set(nextObservations[i], row * o);
      const action = actions[i];
      if (typeof action === "number") {
        if (a !== 1) throw new RangeError(`Action of agent ${i} must be a vector of ${a}`);
        store.actions[i][row] = action;
      } else {
        if (action.length !== a) throw new RangeError(`Action of agent ${i} must have length ${a}`);
        store.actions[i].set(action, row * a);
      }
      store.rewards[row * n + i] = rewards[i];
      store.terminations[row * n + i] = terminations[i] ? 1 : 0;
      store.truncations[row * n + i] = truncations[i] ? 1 : 0;
    }
    this.#position = (row + 1) % this.capacity;
    if (this.#length < this.capacity) this.#length++;
    this.#blockWrites[Math.floor(row / BUFFER_BLOCK_ROWS)] = ++this.#writes;
  }

  /**
   * Draws `batchSize` distinct stored transitions uniformly at random (the set-based
   * rejection that Python's `random.sample` uses when the sample is small).
   */
  sampleIndices(
    batchSize: number,
    rng: Pcg32,
    out: Int32Array = new Int32Array(batchSize),
  ): Int32Array {
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

  /**
   * Copies the transitions at `indices` into `batch` (allocated when not given), row `b` of
   * the batch from transition `indices[b]`.
   */
  gather(indices: Int32Array, batch?: Batch): Batch {
    const out = batch ?? allocateBatch(indices.length, this);
    if (out.size !== indices.length) {
      throw new RangeError(`Batch holds ${out.size} rows, got ${indices.length} indices`);
    }
    const from = this.#columns(this.#store), to = this.#columns(out);
    const widths = this.#widths, count = widths.length;
    // Transition by transition in the order they are stored, every array at once: a large
    // buffer's rows are far apart, and visiting them in order with all their arrays misses
    // the TLB and the caches far less than one array after the other in the batch's order.
    for (const b of this.#ascending(indices)) {
      const row = indices[b];
      for (let c = 0; c < count; c++) {
        const width = widths[c], source = from[c], target = to[c];
        const start = row * width, at = b * width;
        for (let k = 0; k < width; k++) target[at + k] = source[start + k];
      }
    }
    return out;
  }

  /** A batch's (or the store's) arrays in the order of {@linkcode ReplayBuffer.#widths}. */
  #columns(batch: Batch): Float32Array[] {
    return [
      ...batch.observations,
      ...batch.nextObservations,
      ...batch.actions,
      batch.rewards,
      batch.terminations,
      batch.truncations,
    ];
  }

  /** Positions `0 … indices.length − 1` ordered by their index (all distinct or not). */
  #ascending(indices: Int32Array): Int32Array {
    const size = indices.length;
    if (this.#sortKeys.length < size) this.#sortKeys = new Float64Array(size);
    const keys = this.#sortKeys.subarray(0, size);
    for (let b = 0; b < size; b++) keys[b] = indices[b] * size + b; // exact below 2^53
    keys.sort();
    const order = new Int32Array(size);
    for (let j = 0; j < size; j++) order[j] = keys[j] % size;
    return order;
  }

  /** Samples a batch without replacement (see {@linkcode ReplayBuffer.sampleIndices}). */
  sample(batchSize: number, rng: Pcg32, batch?: Batch): Batch {
    return this.gather(this.sampleIndices(batchSize, rng), batch);
  }

  /**
   * The stored transitions, for a checkpoint: the first `length` rows of each array, as views
   * of the buffer's own arrays (no copy of a buffer that may hold gigabytes), valid until the
   * next {@linkcode ReplayBuffer.push}.
   */
  exportState(): ReplayBufferState {
    const rows = this.#length, n = this.numAgents, store = this.#store;
    const head = (array: Float32Array, width: number) => array.subarray(0, rows * width);
    return {
      length: rows,
      position: this.#position,
      observations: store.observations.map((a, i) => head(a, this.observationSizes[i])),
      actions: store.actions.map((a, i) => head(a, this.actionSizes[i])),
      rewards: head(store.rewards, n),
      nextObservations: store.nextObservations.map((a, i) => head(a, this.observationSizes[i])),
      terminations: head(store.terminations, n),
      truncations: head(store.truncations, n),
    };
  }

  /** Restores {@linkcode ReplayBuffer.exportState}'s result; checks every size. */
  importState(state: ReplayBufferState): void {
    const { capacity } = this, n = this.numAgents, rows = state.length;
    if (!Number.isInteger(rows) || rows < 0 || rows > capacity) {
      throw new RangeError(`Saved buffer holds ${rows} transitions; capacity is ${capacity}`);
    }
    if (!Number.isInteger(state.position) || state.position < 0 || state.position >= capacity) {
      throw new RangeError(`Saved buffer position ${state.position} is outside 0..${capacity - 1}`);
    }
    const restore = (name: string, from: ArrayLike<number>, to: Float32Array, width: number) => {
      if (from?.length !== rows * width) {
        throw new RangeError(
          `Saved buffer "${name}" holds ${from?.length} values, expected ${rows * width}`,
        );
      }
      to.set(from);
    };
    const store = this.#store;
    if ([state.observations, state.actions, state.nextObservations].some((l) => l?.length !== n)) {
      throw new RangeError(`Saved buffer does not hold ${n} agents`);
    }
    for (let i = 0; i < n; i++) {
      const o = this.observationSizes[i];
      restore(`observations_${i}`, state.observations[i], store.observations[i], o);
      restore(`nextObservations_${i}`, state.nextObservations[i], store.nextObservations[i], o);
      restore(`actions_${i}`, state.actions[i], store.actions[i], this.actionSizes[i]);
    }
    restore("rewards", state.rewards, store.rewards, n);
    restore("terminations", state.terminations, store.terminations, n);
    restore("truncations", state.truncations, store.truncations, n);
    this.#length = rows;
    this.#position = state.position;
    this.#blockWrites.fill(++this.#writes);
  }
}
