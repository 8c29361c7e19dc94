/**
 * The one place where the tfjs backend is chosen and initialised.
 *
 * Everything numeric in this project runs on the tfjs WASM backend (XNNPACK, SIMD,
 * one thread under Deno). Importing tfjs from anywhere else is fine, but only
 * {@linkcode initBackend} selects the backend, so every script and test gets the same one.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
// Imported for its side effect: registers the "wasm" backend with tfjs-core.
import * as wasm from "@tensorflow/tfjs-backend-wasm";
import { withSharedMemory } from "./nn/shared_memory.ts";
import { fusesMultiplyAdds, loadGemm } from "./nn/wasm_gemm.ts";

/** The backend every run uses. */
export const BACKEND = "wasm";

/** tfjs-wasm's binaries, by the names `setWasmPaths` takes; Deno loads the SIMD one. */
const WASM_BINARIES = [
  "tfjs-backend-wasm.wasm",
  "tfjs-backend-wasm-simd.wasm",
  "tfjs-backend-wasm-threaded-simd.wasm",
] as const;

/**
 * Under Deno, has tfjs-wasm load its SIMD binary with the memory marked shared
 * (`withSharedMemory`), so that the product helper's thread (`product_helper.ts`) can compute
 * in the tensors where they are. The code is unchanged, and a shared memory runs it as fast.
 * Pages (`web/`) set their own paths and keep the binary as it is.
 */
async function shareWasmMemory(): Promise<void> {
  if (!("Deno" in globalThis)) return;
  const dist = import.meta.resolve("@tensorflow/tfjs-backend-wasm");
  const paths: Record<string, string> = {};
  for (const name of WASM_BINARIES) paths[name] = new URL(name, dist).href;
  const simd = WASM_BINARIES[1];
  const bytes = new Uint8Array(await (await fetch(paths[simd])).arrayBuffer());
  const blob = new Blob([withSharedMemory(bytes)], { type: "application/wasm" });
  paths[simd] = URL.createObjectURL(blob);
  wasm.setWasmPaths(paths, true);
}

let ready: Promise<void> | undefined;
let chosen: string | undefined;

/**
 * Selects and initialises the tfjs WASM backend (idempotent; "cpu" after "wasm" keeps wasm).
 * `"cpu"` is for a thread that only builds models to save them while worker threads learn
 * on WASM: it spares the memory of one more WASM instance.
 *
 * @example
 * ```ts
 * import { initBackend } from "./backend.ts";
 * await initBackend();
 * ```
 */
export function initBackend(backend: "wasm" | "cpu" = BACKEND): Promise<void> {
  // "cpu" only ever asks for less than "wasm" gives: once on wasm, stay there.
  if (chosen === BACKEND || chosen === backend) return ready!;
  chosen = backend;
  ready = (async () => {
    // tfjs logs a hint about tfjs-node on first use under Deno (it looks like Node); silence it.
    tf.env().set("IS_TEST", true);
    if (backend === "wasm") await shareWasmMemory();
    const ok = await tf.setBackend(backend);
    if (!ok || tf.getBackend() !== backend) {
      throw new Error(`Could not initialise the tfjs "${backend}" backend`);
    }
    await tf.ready();
    // The networks' matrix product kernel, compiled here: it is too big for a synchronous
    // compile on a browser's main thread.
    if (backend === "wasm") await loadGemm();
  })();
  return ready;
}

/** Versions and backend facts recorded in every run's `config.json`. */
export interface RuntimeInfo {
  /** Deno version, e.g. "2.9.6". */
  deno: string;
  /** `@tensorflow/tfjs-core` version (the same as `@tensorflow/tfjs`'s). */
  tfjs: string;
  /** `@tensorflow/tfjs-backend-wasm` version. */
  tfjsBackendWasm: string;
  /** The active tfjs backend. */
  backend: string;
  /** Whether the WASM backend runs with SIMD. */
  simd: boolean;
  /** Whether the WASM backend runs multi-threaded. */
  threads: boolean;
  /**
   * Whether products with `fused` (`--fused-multiply-add`) fuse their multiply-adds on this
   * machine (on the wasm backend only).
   */
  fusedMultiplyAdds?: boolean;
}

/** Describes the runtime (call after {@linkcode initBackend}). */
export function runtimeInfo(): RuntimeInfo {
  return {
    deno: Deno.version.deno,
    tfjs: tf.version_core,
    tfjsBackendWasm: wasm.version_wasm,
    backend: tf.getBackend(),
    simd: tf.env().getBool("WASM_HAS_SIMD_SUPPORT"),
    threads: tf.env().getBool("WASM_HAS_MULTITHREAD_SUPPORT"),
    ...(tf.getBackend() === "wasm" ? { fusedMultiplyAdds: fusesMultiplyAdds() } : {}),
  };
}
