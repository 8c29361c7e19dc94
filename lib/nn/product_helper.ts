/**
 * A second thread for the networks' large matrix products (`--threads 1`): while this thread
 * computes a product's first rows in tfjs-wasm's memory, a helper thread computes the last
 * rows with the same kernel in a shared memory. Each output is summed by the same code in the
 * same order, so results are bit-identical to one thread's.
 *
 * tfjs-wasm's memory cannot be shared, so this thread copies what the helper's rows read
 * (their rows of `A`, all of `B`, the bias, their rows of the mask) into the shared memory
 * and copies their rows of `C` back: at the paper's sizes that is a few percent of the work.
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
import { ARGUMENTS, CONTROL_BYTES, DONE, FAILED, REQUEST, STOP } from "./_helper_control.ts";
import { gemmArguments, sharedGemmBytes } from "./wasm_gemm.ts";
import type { GemmCall, RowHelper } from "./wasm_gemm.ts";

/** How long {@linkcode ProductHelper.end} waits for the helper before it gives up, ms. */
const ANSWER_TIMEOUT_MS = 60_000;
/** How long {@linkcode ProductHelper.end} polls before it sleeps in `Atomics.wait`, ms. */
const SPIN_MS = 2;
/** Bytes of a WebAssembly page. */
const PAGE = 65_536;

/** Where one request's operands and result sit in the shared memory (byte offsets). */
interface Layout {
  a: number;
  b: number;
  bias: number;
  mask: number;
  c: number;
  end: number;
}

/** Byte offsets after `start` for blocks of these float counts, each 16-byte aligned. */
function layOut(floats: { a: number; b: number; bias: number; mask: number; c: number }): Layout {
  let at = CONTROL_BYTES;
  const next = (count: number) => {
    const offset = at;
    at += Math.ceil((count * 4) / 16) * 16;
    return count > 0 ? offset : 0;
  };
  const a = next(floats.a), b = next(floats.b), bias = next(floats.bias);
  const mask = next(floats.mask), c = next(floats.c);
  return { a, b, bias, mask, c, end: at };
}

/** A helper thread for the last rows of products; see the module's doc. */
export class ProductHelper implements RowHelper {
  readonly #worker: Worker;
  readonly #memory: WebAssembly.Memory;
  readonly #control: Int32Array;
  #request = 0;
  /** The latest request's rows of `C`: where they are, how many floats, where they go. */
  #pending: { c: number; floats: number; target: number } | undefined;
  #closed = false;

  private constructor(worker: Worker, memory: WebAssembly.Memory) {
    this.#worker = worker;
    this.#memory = memory;
    this.#control = new Int32Array(memory.buffer, 0, ARGUMENTS + 11);
  }

  /** Starts the helper thread; resolves once it is ready for requests. */
  static async start(): Promise<ProductHelper> {
    const memory = new WebAssembly.Memory({ initial: 16, maximum: 65_536, shared: true });
    const worker = new Worker(new URL("./product_helper_worker.ts", import.meta.url));
    await new Promise<void>((resolve, reject) => {
      worker.once("message", () => resolve());
      worker.once("error", (error) => reject(error));
      worker.postMessage({ memory, bytes: sharedGemmBytes() });
    });
    worker.unref();
    return new ProductHelper(worker, memory);
  }

  /** Requests answered so far. */
  get requests(): number {
    return this.#request;
  }

  begin(memory: ArrayBufferLike, call: GemmCall, from: number): void {
    if (this.#closed) throw new Error("the product helper is closed");
    const { m, k, n, strideRowA: row, strideColA: col } = call;
    const rows = m - from;
    // What rows from…m-1 of A span: from A(from, 0) to A(m-1, k-1).
    const spanA = (rows - 1) * row + (k - 1) * col + 1;
    const at = layOut({
      a: spanA,
      b: k * n,
      bias: call.bias ? n : 0,
      mask: call.mask ? rows * n : 0,
      c: rows * n,
    });
    const shared = this.#floats(at.end);
    const heap = new Float32Array(memory);
    const copy = (to: number, offset: number, count: number) =>
      shared.set(heap.subarray(offset / 4, offset / 4 + count), to / 4);
    copy(at.a, call.a + 4 * from * row, spanA);
    copy(at.b, call.b, k * n);
    if (call.bias) copy(at.bias, call.bias, n);
    if (call.mask) copy(at.mask, call.mask + 4 * from * n, rows * n);
    const { a, b, c, bias, mask } = at;
    this.#control.set(gemmArguments({ ...call, a, b, c, bias, mask, m: rows }), ARGUMENTS);
    this.#pending = { c, floats: rows * n, target: call.c + 4 * from * n };
    Atomics.store(this.#control, REQUEST, ++this.#request);
    Atomics.notify(this.#control, REQUEST);
  }

  end(memory: ArrayBufferLike): void {
    const pending = this.#pending;
    if (!pending) throw new Error("ProductHelper.end without begin");
    this.#pending = undefined;
    this.#waitForAnswer();
    if (Atomics.exchange(this.#control, FAILED, 0) !== 0) {
      throw new Error("the product helper thread failed on a product");
    }
    const shared = new Float32Array(this.#memory.buffer, pending.c, pending.floats);
    new Float32Array(memory, pending.target, pending.floats).set(shared);
  }

  /** Stops the helper thread. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    Atomics.store(this.#control, REQUEST, STOP);
    Atomics.notify(this.#control, REQUEST);
    await this.#worker.terminate();
  }

  /** The shared memory as floats, grown to at least `bytes`. */
  #floats(bytes: number): Float32Array {
    const have = this.#memory.buffer.byteLength;
    if (bytes > have) this.#memory.grow(Math.ceil((bytes - have) / PAGE));
    return new Float32Array(this.#memory.buffer);
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
