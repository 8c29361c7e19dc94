/**
 * Where update rounds run: on the calling thread ({@linkcode InlineLearner}) or on one
 * worker thread per agent (`ParallelLearner` in `parallel.ts`). Both give bit-identical
 * results; the trainer only sees this interface.
 *
 * @module
 */
import { runtimeInfo } from "../backend.ts";
import type { RuntimeInfo } from "../backend.ts";
import type { Mlp } from "../nn/mlp.ts";
import { useRowHelper } from "../nn/wasm_gemm.ts";
import type { RowHelper } from "../nn/wasm_gemm.ts";
import type { Batch } from "../replay_buffer.ts";
import type { AlgorithmInstance, UpdateLosses } from "./algorithm.ts";

/** Runs update rounds for a trainer. */
export interface Learner {
  /** The tfjs runtime the updates run on. */
  readonly runtime: RuntimeInfo;
  /** The current actors, valid after {@linkcode Learner.flush}. */
  readonly actors: readonly Mlp[];
  /**
   * Queues one update round: one batch and its uniform numbers for every agent, or one of
   * each per agent (`--batch-per-agent`). The batches are copied or consumed before this
   * returns.
   */
  submit(batches: readonly Batch[], uniforms: readonly Float64Array[]): void;
  /** Waits for every queued round; returns their losses in submission order. */
  flush(): Promise<UpdateLosses[]>;
  /** Waits for queued rounds and returns the algorithm holding every network's final state. */
  collect(): Promise<AlgorithmInstance>;
  /** Frees threads and tensors. */
  close(): Promise<void>;
}

/** Options of {@linkcode InlineLearner}. */
export interface InlineLearnerOptions {
  /**
   * A thread that shares the rows of large products (`ProductHelper`) from now until
   * {@linkcode InlineLearner.close}, which closes it.
   */
  helper?: RowHelper & { close(): Promise<void> };
}

/** Runs every round immediately on the calling thread (with a product helper, if given). */
export class InlineLearner implements Learner {
  readonly #algorithm: AlgorithmInstance;
  readonly #helper: InlineLearnerOptions["helper"];
  #pending: UpdateLosses[] = [];

  /** A learner that runs `algorithm`'s update rounds on this thread. */
  constructor(algorithm: AlgorithmInstance, options: InlineLearnerOptions = {}) {
    this.#algorithm = algorithm;
    this.#helper = options.helper;
    if (this.#helper) useRowHelper(this.#helper);
  }

  get runtime(): RuntimeInfo {
    return runtimeInfo();
  }

  get actors(): readonly Mlp[] {
    return this.#algorithm.actors;
  }

  submit(batches: readonly Batch[], uniforms: readonly Float64Array[]): void {
    const algorithm = this.#algorithm;
    if (batches.length === 1) {
      this.#pending.push(algorithm.update(batches[0], uniforms[0]));
    } else if (algorithm.updateSeparately) {
      this.#pending.push(algorithm.updateSeparately(batches, uniforms));
    } else {
      throw new RangeError("This algorithm's agents share one batch per update round");
    }
  }

  flush(): Promise<UpdateLosses[]> {
    const done = this.#pending;
    this.#pending = [];
    return Promise.resolve(done);
  }

  collect(): Promise<AlgorithmInstance> {
    return Promise.resolve(this.#algorithm);
  }

  async close(): Promise<void> {
    this.#algorithm.dispose();
    if (!this.#helper) return;
    useRowHelper(undefined);
    await this.#helper.close();
  }
}
