/**
 * Reading PyTorch checkpoints without Python: a `torch.save` archive (a zip holding
 * `data.pkl` and one file per storage) is unzipped by fflate and unpickled by pickleparser,
 * with the few torch names a state dict uses, and every float32 tensor comes back as its
 * shape and values. {@linkcode mlpFromStateDict} turns the `nn.Linear` layers of a state dict
 * into an {@linkcode Mlp}, which is how `scripts/import_torch.ts` brings a PyTorch MADDPG's
 * actors into a run directory.
 *
 * @module
 */
import { unzipSync } from "fflate";
import { NameRegistry, Parser } from "pickleparser";
import { UsageError } from "../errors.ts";
import type { Activation } from "./activation.ts";
import { Mlp } from "./mlp.ts";

/** A float32 tensor of a checkpoint: its shape and its values, row-major. */
export interface TorchTensor {
  /** Size of each dimension. */
  shape: number[];
  /** The values, row-major (contiguous). */
  data: Float32Array;
}

/** A state dict: parameter name (`fc1.weight`) to tensor, in the checkpoint's order. */
export type StateDict = Map<string, TorchTensor>;

/** Whether `value` is a tensor read by {@linkcode readTorchCheckpoint}. */
export function isTorchTensor(value: unknown): value is TorchTensor {
  return typeof value === "object" && value !== null && "shape" in value &&
    (value as TorchTensor).data instanceof Float32Array;
}

/** Stands for `torch.FloatStorage` (the only storage type read) in the pickle's storage ids. */
function floatStorage(): never {
  throw new Error("torch.FloatStorage is not called by a state dict's pickle");
}

/** The archive's files, and the folder holding `data.pkl` (the archive's own name). */
function unzipArchive(bytes: Uint8Array, source: string): {
  files: Record<string, Uint8Array>;
  root: string;
} {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch {
    throw new UsageError(
      `${source} is not a torch.save zip archive (files saved by PyTorch before 1.6 are not read)`,
    );
  }
  const pickle = Object.keys(files).find((name) => /^[^/]+\/data\.pkl$/.test(name));
  if (pickle === undefined) {
    throw new UsageError(`${source} holds no data.pkl: not a torch.save file`);
  }
  const root = pickle.slice(0, -"data.pkl".length);
  const byteorder = files[`${root}byteorder`];
  if (byteorder && new TextDecoder().decode(byteorder) !== "little") {
    throw new UsageError(`${source} was saved big-endian; only little-endian files are read`);
  }
  return { files, root };
}

/** The float32 values of storage `key` (a copy, so it is aligned). */
function readStorage(
  files: Record<string, Uint8Array>,
  path: string,
  numel: number,
  source: string,
): Float32Array {
  const bytes = files[path];
  if (bytes === undefined || bytes.byteLength < numel * 4) {
    throw new UsageError(`${source}: storage ${path} is missing or shorter than ${numel} floats`);
  }
  return new Float32Array(bytes.slice(0, numel * 4).buffer);
}

/** `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, …)` for contiguous tensors. */
function rebuildTensor(source: string) {
  return (storage: unknown, offset: number, shape: number[], stride: number[]): TorchTensor => {
    if (!(storage instanceof Float32Array)) {
      throw new UsageError(`${source} holds a tensor that is not float32`);
    }
    let expected = 1;
    for (let d = shape.length - 1; d >= 0; d--) {
      if (shape[d] > 1 && stride[d] !== expected) {
        throw new UsageError(`${source} holds a non-contiguous tensor of shape [${shape}]`);
      }
      expected *= shape[d];
    }
    return { shape: [...shape], data: storage.slice(offset, offset + expected) };
  };
}

/**
 * The object a `torch.save` file holds, with dicts as `Map`s and float32 tensors as
 * {@linkcode TorchTensor}s. Anything else (other dtypes, legacy files, big-endian files,
 * non-contiguous tensors) is refused with a one-line {@linkcode UsageError} naming `source`.
 */
export function readTorchCheckpoint(bytes: Uint8Array, source: string): unknown {
  const { files, root } = unzipArchive(bytes, source);
  const registry = new NameRegistry()
    .register("collections", "OrderedDict", () => new Map())
    .register("torch", "FloatStorage", floatStorage)
    .register("torch._utils", "_rebuild_tensor_v2", rebuildTensor(source));
  const persistentResolver = {
    resolve(pid: unknown): Float32Array {
      const [kind, type, key, , numel] = pid as [string, unknown, string, string, number];
      if (kind !== "storage" || type !== floatStorage) {
        throw new UsageError(`${source} holds a storage that is not torch.FloatStorage`);
      }
      return readStorage(files, `${root}data/${key}`, numel, source);
    },
  };
  const parser = new Parser({
    nameResolver: registry,
    persistentResolver,
    unpicklingTypeOfDictionary: "Map",
  });
  try {
    return parser.parse(files[`${root}data.pkl`]);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`${source}: cannot unpickle data.pkl (${(error as Error).message})`);
  }
}

/** The state dict stored under `key` of a checkpoint's top-level dict. */
export function stateDictAt(root: unknown, key: string, source: string): StateDict {
  const found = root instanceof Map ? root.get(key) : undefined;
  if (!(found instanceof Map) || ![...found.values()].every(isTorchTensor)) {
    const keys = root instanceof Map ? [...root.keys()].join(", ") : "no dict";
    throw new UsageError(`${source} holds no state dict "${key}" (it holds: ${keys})`);
  }
  return found as StateDict;
}

/**
 * An {@linkcode Mlp} from the `nn.Linear` layers of `dict`, in the dict's order (`fc1`,
 * `fc2`, … or `0`, `2`, … of an `nn.Sequential`): each `<layer>.weight` of shape
 * `[out, in]` is transposed to the kernel `[in, out]`, `<layer>.bias` kept.
 *
 * @example
 * ```ts
 * import { mlpFromStateDict } from "./torch_state_dict.ts";
 * import assert from "node:assert/strict";
 * const dict = new Map([
 *   ["fc1.weight", { shape: [2, 1], data: new Float32Array([1, -1]) }],
 *   ["fc1.bias", { shape: [2], data: new Float32Array([0, 0]) }],
 *   ["fc2.weight", { shape: [1, 2], data: new Float32Array([2, 3]) }],
 *   ["fc2.bias", { shape: [1], data: new Float32Array([0.5]) }],
 * ]);
 * const net = mlpFromStateDict(dict, ["relu", "linear"], "example");
 * assert.deepEqual([...net.forward([4])], [8.5]); // relu([4, -4]) · [2, 3] + 0.5
 * ```
 */
export function mlpFromStateDict(
  dict: StateDict,
  activations: readonly Activation[],
  source: string,
): Mlp {
  const names = [...dict.keys()];
  const layers = names.filter((n) => n.endsWith(".weight")).map((n) => n.slice(0, -7));
  const sizes: number[] = [];
  for (const layer of layers) {
    const weight = dict.get(`${layer}.weight`)!, bias = dict.get(`${layer}.bias`);
    const [out, inputs] = weight.shape;
    if (weight.shape.length !== 2 || !bias || bias.shape.join() !== `${out}`) {
      throw new UsageError(`${source}: "${layer}" is not an nn.Linear layer with a bias`);
    }
    if (sizes.length > 0 && sizes[sizes.length - 1] !== inputs) {
      throw new UsageError(
        `${source}: "${layer}" takes ${inputs} inputs after a layer of ${sizes[sizes.length - 1]}`,
      );
    }
    if (sizes.length === 0) sizes.push(inputs);
    sizes.push(out);
  }
  if (layers.length !== activations.length || names.length !== 2 * layers.length) {
    throw new UsageError(
      `${source} holds ${layers.length} linear layers (${
        names.join(", ")
      }), expected ${activations.length}`,
    );
  }
  const net = new Mlp(sizes, undefined, { activations });
  net.layers.forEach(({ inputs, outputs, kernelOffset, biasOffset }, l) => {
    const weight = dict.get(`${layers[l]}.weight`)!.data;
    for (let i = 0; i < inputs; i++) {
      for (let o = 0; o < outputs; o++) {
        net.params[kernelOffset + i * outputs + o] = weight[o * inputs + i];
      }
    }
    net.params.set(dict.get(`${layers[l]}.bias`)!.data, biasOffset);
  });
  net.touch();
  return net;
}
