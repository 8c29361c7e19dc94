/**
 * The product helper's thread (`product_helper.ts`): it instantiates the kernel on the
 * shared memory it is sent (tfjs-wasm's), answers "ready", then serves requests until asked
 * to stop. Between requests it spins for {@linkcode SPIN_MS}, as the products of an update
 * round follow each other closely, and then sleeps in `Atomics.wait`.
 *
 * @module
 */
import { parentPort } from "node:worker_threads";
import { ARGUMENTS, DONE, FAILED, FUSED, REQUEST, STOP } from "./_helper_control.ts";

/** How long the helper keeps polling for the next request before it sleeps, ms. */
const SPIN_MS = 1;

/** The kernel, as exported by the module. */
type Gemm = (...args: number[]) => void;

/** The next request's number after `seen` (or {@linkcode STOP}). */
function nextRequest(control: Int32Array, seen: number): number {
  const until = performance.now() + SPIN_MS;
  let polls = 0;
  while (Atomics.load(control, REQUEST) === seen) {
    if (++polls % 256 === 0 && performance.now() > until) Atomics.wait(control, REQUEST, seen);
  }
  return Atomics.load(control, REQUEST);
}

/** Runs requests until {@linkcode STOP}, each on its kernel: `[exact, fused]`. */
function serve(control: Int32Array, kernels: [Gemm, Gemm]): void {
  let seen = 0;
  for (;;) {
    seen = nextRequest(control, seen);
    if (seen === STOP) return;
    try {
      kernels[control[FUSED]](...control.subarray(ARGUMENTS, ARGUMENTS + 11));
    } catch {
      Atomics.store(control, FAILED, 1);
    }
    Atomics.store(control, DONE, seen);
    Atomics.notify(control, DONE);
  }
}

/** What the thread that starts the helper sends it: where, and both kernels' bytes. */
interface Start {
  memory: WebAssembly.Memory;
  control: Int32Array;
  bytes: Uint8Array<ArrayBuffer>;
  fusedBytes: Uint8Array<ArrayBuffer>;
}

parentPort?.once("message", (init: Start) => {
  const kernel = (bytes: Uint8Array<ArrayBuffer>) =>
    new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory: init.memory } })
      .exports.gemm as Gemm;
  const kernels: [Gemm, Gemm] = [kernel(init.bytes), kernel(init.fusedBytes)];
  parentPort!.postMessage("ready");
  serve(init.control, kernels);
});
