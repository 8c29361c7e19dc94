/**
 * A second thread for the networks' large matrix products (`--threads 1`): while this thread
 * computes a product's first rows, a helper thread computes the last rows with the same kernel.
 * Each output is summed by the same code in the same order, so results are bit-identical to
 * one thread's.
 *
 * Both threads compute in tfjs-wasm's memory, which `initBackend` has tfjs load as a shared
 * memory under Deno: the helper reads its rows of the operands and writes its rows of the
 * result where they are, and the two threads meet only in a small control block of their own.
 * The helper is a `node:worker_threads` worker (Deno; not in browsers, where a page's main
 * thread may not block in `Atomics.wait`), unreferenced, so it never keeps a process alive.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import { initBackend } from "../backend.ts";
 * import { product, useRowHelper } from "./wasm_gemm.ts";
 * import { ProductHelper } from "./product_helper.ts";
 * await initBackend();
 * const helper = await ProductHelper.start();
 * useRowHelper(helper);
 * const a = tf.fill([512, 64], 0.5) as tf.Tensor2D;
 * const b = tf.fill([64, 64], 2) as tf.Tensor2D;
 * const c = product(a, b); // rows 256–511 on the helper
 * assert.deepEqual(c.dataSync().slice(-2), new Float32Array([64, 64]));
 * assert.equal(helper.requests, 1);
 * useRowHelper(undefined);
 * await helper.close();
 * tf.dispose([a, b, c]);
 * ```
 *
 * @module
 */
import { Worker } from "node:worker_threads";
import { ARGUMENTS, CONTROL_BYTES, DONE, FAILED, FUSED, REQUEST, STOP } from "./_helper_control.ts";
import { backendMemory, gemmArguments, gemmBytes, isShared } from "./wasm_gemm.ts";
import type { GemmCall, RowHelper } from "./wasm_gemm.ts";

/** How long {@linkcode ProductHelper.end} waits for the helper before it gives up, ms. */
const ANSWER_TIMEOUT_MS = 60_000;
/** How long {@linkcode ProductHelper.end} polls before it sleeps in `Atomics.wait`, ms. */
const SPIN_MS = 2;

/** A helper thread for the last rows of products; see the module's doc. */
export class ProductHelper implements RowHelper {
  readonly memory: WebAssembly.Memory;
  readonly #worker: Worker;
  readonly #control: Int32Array;
  #request = 0;
  #pending = false;
  #closed = false;

  private constructor(worker: Worker, memory: WebAssembly.Memory, control: Int32Array) {
    this.#worker = worker;
    this.memory = memory;
    this.#control = control;
  }

  /**
   * Starts the helper thread on `memory` (by default the wasm backend's); resolves once it is
   * ready for requests. Refuses a memory that is not shared, in one line.
   */
  static async start(memory: WebAssembly.Memory = backendMemory()): Promise<ProductHelper> {
    if (!isShared(memory)) {
      throw new Error("the product helper needs a shared memory, and this one is not shared");
    }
    const control = new Int32Array(new SharedArrayBuffer(CONTROL_BYTES));
    const worker = new Worker(new URL("./product_helper_worker.ts", import.meta.url));
    await new Promise<void>((resolve, reject) => {
      worker.once("message", () => resolve());
      worker.once("error", (error) => reject(error));
      worker.postMessage({
        memory,
        control,
        bytes: gemmBytes(true),
        fusedBytes: gemmBytes(true, true),
      });
    });
    worker.unref();
    return new ProductHelper(worker, memory, control);
  }

  /** Requests answered so far. */
  get requests(): number {
    return this.#request;
  }

  begin(call: GemmCall, from: number): void {
    if (this.#closed) throw new Error("the product helper is closed");
    const { n, strideRowA } = call;
    const rows = {
      a: call.a + 4 * from * strideRowA,
      c: call.c + 4 * from * n,
      mask: call.mask ? call.mask + 4 * from * n : 0,
      m: call.m - from,
    };
    this.#control.set(gemmArguments({ ...call, ...rows }), ARGUMENTS);
    this.#control[FUSED] = call.fused;
    this.#pending = true;
    Atomics.store(this.#control, REQUEST, ++this.#request);
    Atomics.notify(this.#control, REQUEST);
  }

  end(): void {
    if (!this.#pending) throw new Error("ProductHelper.end without begin");
    this.#pending = false;
    this.#waitForAnswer();
    if (Atomics.exchange(this.#control, FAILED, 0) !== 0) {
      throw new Error("the product helper thread failed on a product");
    }
  }

  /** Stops the helper thread. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    Atomics.store(this.#control, REQUEST, STOP);
    Atomics.notify(this.#control, REQUEST);
    await this.#worker.terminate();
  }

  /** Waits until the helper has done the latest request: polls, then sleeps. */
  #waitForAnswer(): void {
    const control = this.#control, request = this.#request;
    const start = performance.now();
    let polls = 0;
    for (;;) {
      const done = Atomics.load(control, DONE);
      if (done === request) return;
      if (++polls % 256 !== 0) continue;
      const waited = performance.now() - start;
      if (waited > ANSWER_TIMEOUT_MS) {
        throw new Error(`the product helper thread did not answer in ${ANSWER_TIMEOUT_MS} ms`);
      }
      if (waited > SPIN_MS) Atomics.wait(control, DONE, done, 100);
    }
  }
}
