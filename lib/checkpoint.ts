/**
 * Saving and loading networks in the tfjs Layers format (`model.json` + `weights.bin`),
 * loadable by plain `tf.loadLayersModel` (in a browser too).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { Mlp } from "./nn/mlp.ts";
import { isActivation, layerActivations } from "./nn/activation.ts";
import type { Activation } from "./nn/activation.ts";
import { UsageError } from "./errors.ts";
import { writeFileAtomic } from "./files.ts";

/** Name of the weights file beside each `model.json`. */
export const WEIGHTS_FILE = "weights.bin";

/** A `tf.LayersModel` with the same layers, activations and weights as `net`. */
export function toLayersModel(net: Mlp, name = "mlp"): tf.LayersModel {
  const model = tf.sequential({ name });
  net.layers.forEach((layer, l) => {
    model.add(tf.layers.dense({
      units: layer.outputs,
      activation: net.activations[l],
      inputShape: l === 0 ? [layer.inputs] : undefined,
      name: `dense_${l + 1}`,
    }));
  });
  const weights = net.layers.flatMap(({ inputs, outputs, kernelOffset, biasOffset }) => [
    tf.tensor2d(net.params.subarray(kernelOffset, kernelOffset + inputs * outputs), [
      inputs,
      outputs,
    ]),
    tf.tensor1d(net.params.subarray(biasOffset, biasOffset + outputs)),
  ]);
  model.setWeights(weights);
  for (const w of weights) w.dispose();
  return model;
}

/** A network in the Layers format: the text of `model.json` and the bytes of `weights.bin`. */
export interface MlpArtifacts {
  /** The `model.json` text. */
  modelJson: string;
  /** The `weights.bin` bytes. */
  weights: Uint8Array;
}

/**
 * The `model.json` text and `weights.bin` bytes of `net` (what {@linkcode saveMlp} writes).
 * No file access: a browser zips them.
 */
export async function mlpArtifacts(net: Mlp, name = "mlp"): Promise<MlpArtifacts> {
  const model = toLayersModel(net, name);
  try {
    let result: MlpArtifacts | undefined;
    await model.save(tf.io.withSaveHandler((artifacts) => {
      const weightData = artifacts.weightData;
      if (!(weightData instanceof ArrayBuffer)) throw new Error("Expected one weights buffer");
      const modelJson = {
        format: "layers-model",
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs }],
      };
      result = { modelJson: JSON.stringify(modelJson), weights: new Uint8Array(weightData) };
      return Promise.resolve({
        modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" },
      });
    }));
    return result!;
  } finally {
    model.dispose();
  }
}

/** Writes `net` to `dir/model.json` and `dir/weights.bin` (each file atomically). */
export async function saveMlp(net: Mlp, dir: string, name = "mlp"): Promise<void> {
  const { modelJson, weights } = await mlpArtifacts(net, name);
  await Deno.mkdir(dir, { recursive: true });
  await writeFileAtomic(`${dir}/${WEIGHTS_FILE}`, weights);
  await writeFileAtomic(`${dir}/model.json`, modelJson);
}

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
}

/**
 * Reads a network saved by {@linkcode saveMlp}, checking every part: a missing or corrupt
 * file throws a {@linkcode UsageError} naming it. `expectedSizes`, when given, must match.
 */
export async function loadMlp(dir: string, expectedSizes?: readonly number[]): Promise<Mlp> {
  const modelPath = `${dir}/model.json`;
  const { sizes, activations } = await readModel(modelPath);
  if (expectedSizes && sizes.join() !== expectedSizes.join()) {
    throw new UsageError(`${modelPath} holds layers [${sizes}], expected [${expectedSizes}]`);
  }
  const weightsPath = `${dir}/${WEIGHTS_FILE}`;
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(weightsPath);
  } catch (error) {
    throw new UsageError(`Cannot read ${weightsPath}: ${(error as Error).message.split(":")[0]}`);
  }
  // Files written before activations were configurable hold ReLU hidden layers and a linear
  // output, which is also what their topology says.
  const net = new Mlp(sizes, undefined, {
    activations: activations ?? layerActivations(sizes.length - 1),
  });
  if (bytes.byteLength !== net.size * 4) {
    throw new UsageError(
      `${weightsPath} holds ${bytes.byteLength} bytes, expected ${
        net.size * 4
      } for layers [${sizes}]`,
    );
  }
  net.params.set(new Float32Array(bytes.buffer, bytes.byteOffset, net.size));
  if (!net.params.every(Number.isFinite)) {
    throw new UsageError(`${weightsPath} holds non-finite weights`);
  }
  net.touch();
  return net;
}

/** A saved network's layer sizes and activations, from its `model.json`, checked. */
async function readModel(
  modelPath: string,
): Promise<{ sizes: number[]; activations: Activation[] | undefined }> {
  let text: string;
  try {
    text = await Deno.readTextFile(modelPath);
  } catch (error) {
    throw new UsageError(`Cannot read ${modelPath}: ${(error as Error).message.split(":")[0]}`);
  }
  let specs: WeightSpec[];
  let activations: Activation[] | undefined;
  try {
    const json = JSON.parse(text);
    specs = json.weightsManifest[0].weights;
    activations = readActivations(json.modelTopology);
    if (!Array.isArray(specs) || specs.length === 0 || specs.length % 2 !== 0) throw new Error();
    for (const spec of specs) {
      if (spec.dtype !== "float32" || !Array.isArray(spec.shape)) throw new Error();
    }
  } catch {
    throw new UsageError(`${modelPath} is not a tfjs Layers model of dense layers`);
  }
  const sizes = [specs[0].shape[0]];
  for (let k = 0; k < specs.length; k += 2) {
    const [inputs, outputs] = specs[k].shape;
    if (
      specs[k].shape.length !== 2 || inputs !== sizes[sizes.length - 1] ||
      specs[k + 1].shape.length !== 1 || specs[k + 1].shape[0] !== outputs
    ) {
      throw new UsageError(`${modelPath}: unexpected weight shapes at "${specs[k].name}"`);
    }
    sizes.push(outputs);
  }
  if (activations && activations.length !== sizes.length - 1) {
    throw new UsageError(
      `${modelPath}: ${activations.length} activations for ${sizes.length - 1} layers`,
    );
  }
  return { sizes, activations };
}

/**
 * The activation of each dense layer in a Layers-format topology (undefined when the
 * topology does not list layers); an unknown activation throws.
 */
function readActivations(topology: unknown): Activation[] | undefined {
  const layers = (topology as { config?: { layers?: unknown } })?.config?.layers;
  if (!Array.isArray(layers)) return undefined;
  return layers.map((layer) => {
    const activation = layer?.config?.activation;
    if (!isActivation(activation)) throw new Error(`unknown activation ${activation}`);
    return activation;
  });
}
