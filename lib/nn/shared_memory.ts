/**
 * A WebAssembly module's bytes with its memory marked shared: the limits flag of its one
 * memory, imported or defined, set from 1 (a maximum) to 3 (a maximum, shared). Nothing else
 * changes, not even the length. A shared memory's buffer is a `SharedArrayBuffer` that other
 * threads can compute in; this is how the product helper (`product_helper.ts`) reads and
 * writes tfjs-wasm's tensors in place.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withSharedMemory } from "./shared_memory.ts";
 * // A module that defines a memory of 1 to 2 pages and exports it as "m": the magic number,
 * // the version, a memory section, an export section.
 * const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 5, 4, 1, 1, 1, 2, 7, 5, 1, 1, 109, 2, 0]);
 * const shared = withSharedMemory(bytes);
 * assert.deepEqual(Array.from(shared.subarray(8, 14)), [5, 4, 1, 3, 1, 2]);
 * assert.equal(bytes[11], 1); // the input is left as it was
 * const { m } = new WebAssembly.Instance(new WebAssembly.Module(shared)).exports;
 * assert.ok((m as WebAssembly.Memory).buffer instanceof SharedArrayBuffer);
 * ```
 *
 * @module
 */

/** Section ids of the binary format. */
const IMPORT_SECTION = 2, MEMORY_SECTION = 5;
/** Import kinds: a function, a table, a memory, a global, a tag. */
const FUNCTION = 0, TABLE = 1, MEMORY = 2, GLOBAL = 3, TAG = 4;

/** Reads the binary format's unsigned LEB128 numbers and skips what it does not need. */
class Reader {
  constructor(readonly bytes: Uint8Array, public at: number) {}

  unsigned(): number {
    let value = 0, shift = 0, byte: number;
    do {
      byte = this.bytes[this.at++];
      value += (byte & 127) * 2 ** shift;
      shift += 7;
    } while (byte & 128);
    return value;
  }

  skipName(): void {
    const length = this.unsigned();
    this.at += length;
  }

  /** Skips limits (a flag, a minimum, a maximum when the flag's low bit is set). */
  skipLimits(): void {
    const flag = this.bytes[this.at++];
    this.unsigned();
    if (flag & 1) this.unsigned();
  }
}

/** Where the limits flag of the memory of an import section's entries is, or -1. */
function importedMemoryFlag(reader: Reader): number {
  const count = reader.unsigned();
  for (let i = 0; i < count; i++) {
    reader.skipName();
    reader.skipName();
    const kind = reader.bytes[reader.at++];
    if (kind === MEMORY) return reader.at;
    if (kind === FUNCTION || kind === TAG) {
      if (kind === TAG) reader.at++;
      reader.unsigned();
    } else if (kind === TABLE) {
      reader.at++;
      reader.skipLimits();
    } else if (kind === GLOBAL) {
      reader.at += 2;
    } else {
      throw new Error(`unknown import kind ${kind} in a WebAssembly module`);
    }
  }
  return -1;
}

/** Where the limits flag of a module's memory is (imported or defined), or -1. */
function memoryFlag(bytes: Uint8Array): number {
  const reader = new Reader(bytes, 8);
  while (reader.at < bytes.length) {
    const id = bytes[reader.at++];
    const size = reader.unsigned();
    const end = reader.at + size;
    if (id === IMPORT_SECTION) {
      const flag = importedMemoryFlag(reader);
      if (flag >= 0) return flag;
    } else if (id === MEMORY_SECTION && reader.unsigned() > 0) {
      return reader.at;
    }
    reader.at = end;
  }
  return -1;
}

/**
 * A copy of a module's `bytes` whose memory is shared. Throws if the module has no memory, or
 * one without a maximum (a shared memory needs one), or one already shared.
 */
export function withSharedMemory(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const copy = new Uint8Array(bytes);
  const flag = memoryFlag(copy);
  if (flag < 0) throw new Error("the WebAssembly module has no memory to share");
  if (copy[flag] !== 1) {
    throw new Error(`the WebAssembly module's memory has limits flag ${copy[flag]}, not 1`);
  }
  copy[flag] = 3;
  return copy;
}
