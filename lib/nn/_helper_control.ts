/**
 * The control block of a product helper (`product_helper.ts`), a small `SharedArrayBuffer` of
 * its own, as `Int32Array` indices: the thread that asks and the helper thread meet only here.
 *
 * @module
 */

/** The number of the latest request (1, 2, …); -1 asks the helper to stop. */
export const REQUEST = 0;
/** The number of the latest request done. */
export const DONE = 1;
/** Set to 1 when the kernel failed on a request (the helper still marks it done). */
export const FAILED = 2;
/** The 11 arguments of `gemm` of the latest request start here. */
export const ARGUMENTS = 4;
/** Which kernel the latest request runs: 1 for fused multiply-adds, 0 for the exact one. */
export const FUSED = 15;
/** The control block's size in bytes. */
export const CONTROL_BYTES = 64;
/** `REQUEST`'s value that asks the helper to stop. */
export const STOP = -1;
