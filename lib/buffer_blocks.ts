/**
 * The replay buffer in a saved state: one file per block of {@linkcode BUFFER_BLOCK_ROWS}
 * rows, so that a checkpoint writes only the blocks written since the last one and links the
 * others from the previous state (a 1 M-step run's full buffer is 484 MB, which took about 3 s
 * to hash and write at every checkpoint).
 *
 * A block file holds its rows of every buffer array, one array after the other in the order
 * of {@linkcode bufferArrays}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { blockChunks, blockName, bufferArrays } from "./buffer_blocks.ts";
 * const buffer = {
 *   length: 3,
 *   position: 3,
 *   observations: [Float32Array.from([1, 2, 3, 4, 5, 6])], // 3 rows of 2
 *   nextObservations: [new Float32Array(6)],
 *   actions: [Float32Array.from([0, 1, 2])],
 *   rewards: new Float32Array(3),
 *   terminations: new Float32Array(3),
 *   truncations: new Float32Array(3),
 * };
 * const arrays = bufferArrays(buffer);
 * assert.deepEqual(arrays.map((a) => [a.name, a.width]).slice(0, 3), [
 *   ["observations/0", 2],
 *   ["nextObservations/0", 2],
 *   ["actions/0", 1],
 * ]);
 * assert.equal(blockName(0), "buffer-0.bin");
 * // Rows 1 and 2 of every array: 2 rows × 8 values × 4 bytes, the observations' first.
 * const chunks = blockChunks(arrays, { first: 1, rows: 2 });
 * assert.equal(chunks.reduce((n, c) => n + c.length, 0), 2 * 8 * 4);
 * assert.deepEqual(Array.from(new Float32Array(chunks[0].slice().buffer)), [3, 4, 5, 6]);
 * ```
 *
 * @module
 */
import type { ReplayBufferState } from "./replay_buffer.ts";
import { BUFFER_BLOCK_ROWS } from "./replay_buffer.ts";

/** One of the buffer's arrays, and its values per row. */
export interface BufferArray {
  /** Its name in a state (`observations/0`, `rewards`, …). */
  name: string;
  /** Its rows `0 … length − 1`. */
  array: Float32Array;
  /** Values per row. */
  width: number;
}

/** The buffer's arrays in a block file's order: per agent, then rewards and the flags. */
export function bufferArrays(buffer: ReplayBufferState): BufferArray[] {
  const named: [string, Float32Array][] = [];
  buffer.observations.forEach((a, i) => named.push([`observations/${i}`, a]));
  buffer.nextObservations.forEach((a, i) => named.push([`nextObservations/${i}`, a]));
  buffer.actions.forEach((a, i) => named.push([`actions/${i}`, a]));
  named.push(
    ["rewards", buffer.rewards],
    ["terminations", buffer.terminations],
    ["truncations", buffer.truncations],
  );
  const rows = buffer.length;
  return named.map(([name, array]) => ({ name, array, width: rows > 0 ? array.length / rows : 0 }));
}

/** The file name of block `block`. */
export function blockName(block: number): string {
  return `buffer-${block}.bin`;
}

/** How many blocks hold `length` rows. */
export function blockCount(length: number): number {
  return Math.ceil(length / BUFFER_BLOCK_ROWS);
}

/** Rows of block `block` of a buffer holding `length` rows. */
export function blockRows(block: number, length: number): number {
  return Math.min(BUFFER_BLOCK_ROWS, length - block * BUFFER_BLOCK_ROWS);
}

/** Views of rows `first … first + rows − 1` of every array, in file order (nothing copied). */
export function blockChunks(
  arrays: readonly BufferArray[],
  { first, rows }: { first: number; rows: number },
): Uint8Array[] {
  return arrays.map(({ array, width }) => {
    const values = array.subarray(first * width, (first + rows) * width);
    return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  });
}

/** A saved block: what was in it, and its file's size and checksum. */
export interface SavedBlock {
  /** The buffer's stamp of the block when it was saved. */
  stamp: number;
  /** Rows the block held. */
  rows: number;
  /** Bytes of its file. */
  size: number;
  /** SHA-256 of its file, hex. */
  sha256: string;
}

/**
 * What the last save of a run wrote of its buffer's blocks, so that the next save can link
 * the files of unchanged blocks instead of writing and hashing them again. `stampOf` is the
 * buffer's `blockStamp`.
 */
export class SavedBlocks {
  #saved = new Map<number, SavedBlock>();

  /** A record of no save yet, for a buffer whose stamps `stampOf` gives. */
  constructor(readonly stampOf: (block: number) => number) {}

  /** The saved record of `block` if it still holds the same `rows` transitions. */
  unchanged(block: number, rows: number): SavedBlock | undefined {
    const saved = this.#saved.get(block);
    return saved?.rows === rows && saved.stamp === this.stampOf(block) ? saved : undefined;
  }

  /** Records the blocks of a save that completed (its state is now the run's). */
  commit(blocks: ReadonlyMap<number, SavedBlock>): void {
    this.#saved = new Map(blocks);
  }
}
