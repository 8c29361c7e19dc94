/**
 * One observation through a network, in float64, on this project's WebAssembly kernel
 * (`row_forward_wat.ts`): what acting needs at every step, two to four times cheaper than the
 * plain loop it replaced and bit-identical to it.
 *
 * Each {@linkcode RowForward} keeps a region of the kernel's memory: the layers'
 * description, a copy of the parameters (taken again when their version changes, as
 * `Mlp.touch` marks every change) and the rows of activations. Regions come from one growing
 * area; when it is full it starts over, and a network whose region was given away takes a
 * new one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RowForward } from "./row_forward.ts";
 * // 2 → 2 (ReLU) → 1: kernel [[1, -1], [2, 3]], bias [0, 0.5]; then kernel [[1], [1]], bias [0].
 * const net = new RowForward([2, 2, 1], ["relu", "linear"]);
 * const params = Float32Array.from([1, -1, 2, 3, 0, 0.5, 1, 1, 0]);
 * assert.deepEqual(Array.from(net.run(params, 0, [1, 1])), [5.5]); // relu([3, 2.5]) summed
 * assert.deepEqual(Array.from(net.run(params, 0, [0, -1])), [0]); // relu([-2, -2.5]) = 0
 * params[6] = 2; // the weight from the first hidden unit to the output, at a new version:
 * assert.deepEqual(Array.from(net.run(params, 1, [1, 1])), [8.5]);
 * ```
 *
 * @module
 */
import type { Activation } from "./activation.ts";
import { ROW_FORWARD_WASM_BASE64 } from "./row_forward_wasm.ts";
import { ACTIVATION_CODES, LAYER_WORDS } from "./row_forward_wat.ts";

/** Bytes of regions handed out before the area starts over (and the memory stops growing). */
const AREA_BYTES = 16 * 2 ** 20;

const PAGE_BYTES = 65536;

interface Kernel {
  forward(desc: number): void;
  memory: WebAssembly.Memory;
}

let kernel: Kernel | undefined;

/**
 * The kernel, compiled and instantiated synchronously: its module is far below the 4 KB a
 * browser's main thread allows.
 */
function loadKernel(): Kernel {
  if (kernel) return kernel;
  const bytes = Uint8Array.from(atob(ROW_FORWARD_WASM_BASE64), (c) => c.charCodeAt(0));
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
    math: { exp: Math.exp, tanh: Math.tanh },
  });
  const { forward, memory } = instance.exports as unknown as Kernel;
  kernel = { forward, memory };
  return kernel;
}

/** Where the next region goes, and how many times the area has started over. */
const area = { next: 0, epoch: 0 };

/** A region of `bytes` (a multiple of 8) in the kernel's memory, growing it as needed. */
function allocate(bytes: number): { offset: number; epoch: number } {
  if (bytes > AREA_BYTES) throw new RangeError(`A network of ${bytes} bytes is too large`);
  if (area.next + bytes > AREA_BYTES) Object.assign(area, { next: 0, epoch: area.epoch + 1 });
  const offset = area.next;
  area.next += bytes;
  const { memory } = loadKernel();
  const missing = Math.ceil((area.next - memory.buffer.byteLength) / PAGE_BYTES);
  if (missing > 0) memory.grow(missing);
  return { offset, epoch: area.epoch };
}

/** Typed views of the kernel's memory (renewed when it grows). */
let views: { f32: Float32Array; f64: Float64Array; i32: Int32Array } | undefined;

function memoryViews(): { f32: Float32Array; f64: Float64Array; i32: Int32Array } {
  const { buffer } = loadKernel().memory;
  if (views?.f64.buffer !== buffer) {
    views = {
      f32: new Float32Array(buffer),
      f64: new Float64Array(buffer),
      i32: new Int32Array(buffer),
    };
  }
  return views;
}

/** A region's layout, in bytes from its start. */
interface Layout {
  bytes: number;
  params: number;
  /** Each row of activations, the input first. */
  rows: number[];
  scratch: number;
}

function layout(sizes: readonly number[]): Layout {
  const descBytes = 4 * (2 + LAYER_WORDS * (sizes.length - 1));
  const roundUp = (n: number) => Math.ceil(n / 8) * 8;
  let paramCount = 0;
  for (let l = 0; l + 1 < sizes.length; l++) paramCount += sizes[l] * sizes[l + 1] + sizes[l + 1];
  const params = roundUp(descBytes);
  const rows: number[] = [];
  let at = params + roundUp(4 * paramCount);
  for (const size of sizes) {
    rows.push(at);
    at += 8 * size;
  }
  const scratch = at;
  return { bytes: roundUp(scratch + 4 * Math.max(...sizes)), params, rows, scratch };
}

/** A network's one-row forward pass on the kernel. */
export class RowForward {
  readonly sizes: readonly number[];
  readonly activations: readonly Activation[];
  readonly #layout: Layout;
  #region: { offset: number; epoch: number } | undefined;
  /** The version of the parameters in the region (none: not copied yet). */
  #version: number | undefined;

  /** A pass through layers of widths `sizes` (input first), each with its activation. */
  constructor(sizes: readonly number[], activations: readonly Activation[]) {
    if (activations.length + 1 !== sizes.length) {
      throw new RangeError(`${sizes.length - 1} layers need as many activations`);
    }
    this.sizes = [...sizes];
    this.activations = [...activations];
    this.#layout = layout(sizes);
  }

  /** This network's region, described anew if the area started over since it was taken. */
  #offset(): number {
    if (this.#region?.epoch === area.epoch) return this.#region.offset;
    const region = allocate(this.#layout.bytes);
    this.#region = region;
    this.#version = undefined;
    this.#describe(region.offset);
    return region.offset;
  }

  #describe(offset: number): void {
    const { i32 } = memoryViews();
    const { params, rows, scratch } = this.#layout;
    const desc = offset / 4;
    i32[desc] = this.sizes.length - 1;
    i32[desc + 1] = offset + scratch;
    let parameter = offset + params;
    for (let l = 0; l + 1 < this.sizes.length; l++) {
      const inputs = this.sizes[l], outputs = this.sizes[l + 1];
      const kernel = parameter, bias = kernel + 4 * inputs * outputs;
      parameter = bias + 4 * outputs;
      const at = desc + 2 + LAYER_WORDS * l;
      i32.set([offset + rows[l], inputs, outputs, kernel, bias, offset + rows[l + 1]], at);
      i32[at + 6] = ACTIVATION_CODES[this.activations[l]];
    }
  }

  /**
   * The outputs for `input` of the network with flat parameters `params` (the layout of
   * `Mlp.params`) at `version` (their copy is taken again when it differs from the last
   * call's): written into `output` when given, else into a new array (in Deno a new typed
   * array costs about 1.3 µs, more than a tenth of the call).
   */
  run(
    params: Float32Array,
    version: number,
    input: ArrayLike<number>,
    output?: Float64Array,
  ): Float64Array {
    const offset = this.#offset();
    const { f32, f64 } = memoryViews();
    const { params: at, rows } = this.#layout;
    if (version !== this.#version) {
      f32.set(params, (offset + at) / 4);
      this.#version = version;
    }
    f64.set(input, (offset + rows[0]) / 8);
    loadKernel().forward(offset);
    const from = (offset + rows[rows.length - 1]) / 8, width = this.sizes[this.sizes.length - 1];
    const out = output ?? new Float64Array(width);
    for (let k = 0; k < width; k++) out[k] = f64[from + k];
    return out;
  }
}
