/// <reference lib="dom" />
/**
 * A run's files as the page fetches them (relative URLs, so a static copy of the site works):
 * its config, metrics and actors, and the episodes `deno task evaluate` would play.
 *
 * Nothing here reads files with Deno: the config is merged over the defaults field by field
 * with `parseFieldValue` (lib/config.ts itself imports node:util), the actors are loaded with
 * `tf.loadLayersModel` and copied into the library's `Mlp`.
 *
 * @module
 */
import { createMeasures } from "../lib/env/mpe/measures.ts";
import * as tf from "@tensorflow/tfjs";
import { selectActions } from "../lib/agent/policy.ts";
import type { ActionMode } from "../lib/agent/policy.ts";
import { CONFIG_FIELDS, DEFAULT_TRAIN_CONFIG, parseFieldValue } from "../lib/config_fields.ts";
import type { ConfigField, TrainConfig } from "../lib/config_fields.ts";
import type { StepResult } from "../lib/env/parallel_env.ts";
import { isActivation } from "../lib/nn/activation.ts";
import type { Activation } from "../lib/nn/activation.ts";
import { Mlp } from "../lib/nn/mlp.ts";
import { parseMetricsCsv } from "../lib/plot/metrics_csv.ts";
import type { MetricsTable } from "../lib/plot/metrics_csv.ts";
import { sceneToSvg } from "../lib/render/svg.ts";
import { Pcg32 } from "../lib/rng.ts";
import type { EpisodeResult } from "../lib/train/episodes.ts";
import { runEpisodes } from "../lib/train/episodes.ts";
import { agentShapes, makeTrainingEnv } from "../lib/train/session.ts";
import { fetchJson, fetchText, HttpError } from "./dom.ts";
import { encodePath } from "./route.ts";

/** The URL of `file` in the run at `path` (served under `results/`). */
export function runFileUrl(path: string, file: string): string {
  return `results/${encodePath(path)}/${file}`;
}

/**
 * A run's `config.json` record (`{ config: {...}, runtime: {...} }`) as a full config: each
 * known field parsed and checked as `train` does, over the defaults; fields of other
 * versions are ignored (the page only needs the environment and the actors' shapes).
 */
export function configFromJson(record: unknown, source: string): TrainConfig {
  const fields = (record as { config?: unknown } | null)?.config;
  if (typeof fields !== "object" || fields === null || Array.isArray(fields)) {
    throw new Error(`${source} holds no "config" object`);
  }
  const config: Record<string, unknown> = { ...DEFAULT_TRAIN_CONFIG };
  for (const [name, raw] of Object.entries(fields)) {
    if (!(name in CONFIG_FIELDS)) continue;
    config[name] = parseFieldValue(name as ConfigField, raw, `${source}: "${name}"`);
  }
  return config as TrainConfig;
}

/** Fetches and parses the run's `config.json`. */
export async function loadConfig(path: string): Promise<TrainConfig> {
  const url = runFileUrl(path, "config.json");
  return configFromJson(await fetchJson(url), url);
}

/** Fetches and strictly parses the run's `metrics.csv` (errors name the file and line). */
export async function loadMetrics(path: string): Promise<MetricsTable> {
  const url = runFileUrl(path, "metrics.csv");
  return parseMetricsCsv(await fetchText(url), url);
}

/**
 * Loads a saved actor with `tf.loadLayersModel` and copies its weights into an `Mlp`:
 * `getWeights()` lists each dense layer's kernel ([in, out], row-major) then its bias, the
 * same flat layout as `Mlp.params`.
 */
export async function loadActor(url: string, expectedSizes: readonly number[]): Promise<Mlp> {
  // A plain fetch first, so a missing file is reported as such rather than as a parse error.
  await fetchText(url);
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(url);
  } catch (error) {
    throw new Error(`Cannot load ${url}: ${(error as Error).message}`);
  }
  try {
    const weights = model.getWeights();
    const sizes = [
      weights[0]?.shape[0] ?? 0,
      ...weights.filter((_, k) => k % 2 === 0)
        .map((w) => w.shape[1] ?? 0),
    ];
    if (sizes.join() !== expectedSizes.join()) {
      throw new Error(`${url} holds layers [${sizes}], expected [${expectedSizes}]`);
    }
    const activations = model.layers.map((layer) => {
      const activation = (layer.getConfig() as { activation?: unknown }).activation;
      if (!isActivation(activation)) {
        throw new Error(`${url}: unknown activation ${JSON.stringify(activation)}`);
      }
      return activation as Activation;
    });
    const net = new Mlp(sizes, undefined, { activations });
    let offset = 0;
    for (const weight of weights) {
      const values = weight.dataSync() as Float32Array;
      net.params.set(values, offset);
      offset += values.length;
    }
    if (!net.params.every(Number.isFinite)) throw new Error(`${url} holds non-finite weights`);
    net.touch();
    return net;
  } finally {
    model.dispose();
  }
}

/** A run's config and actors. */
export interface LoadedRun {
  config: TrainConfig;
  actors: Mlp[];
}

const loaded = new Map<string, Promise<LoadedRun>>();

/** The run's config and actors (fetched once per page load; a failure is not cached). */
export function loadRun(path: string): Promise<LoadedRun> {
  let run = loaded.get(path);
  if (!run) {
    run = (async () => {
      const config = await loadConfig(path);
      const env = makeTrainingEnv(config);
      const actors = await Promise.all(
        agentShapes(env).map((shape, i) =>
          loadActor(runFileUrl(path, `checkpoint/agent_${i}/actor/model.json`), [
            shape.observationSize,
            ...config.actorHidden,
            shape.actionSize,
          ])
        ),
      ).catch((error) => {
        if (!(error instanceof HttpError && error.status === 404)) throw error;
        throw new Error(
          `${path} has no saved actors yet (${error.url}: HTTP 404): a run saves them at ` +
            `its checkpoints (checkpointEvery) and when it ends`,
        );
      });
      return { config, actors };
    })();
    loaded.set(path, run);
    run.catch(() => loaded.delete(path));
  }
  return run;
}

/**
 * For each joint observation (one array per agent), the actors' greedy actions, chosen as
 * `runEpisodes` chooses them: a number per discrete agent (the contract's case), an array
 * per continuous one (its actor's output scaled to the box, no noise).
 */
export async function greedyActions(
  path: string,
  observations: number[][][],
): Promise<(number | number[])[][]> {
  const { config, actors } = await loadRun(path);
  const spaces = makeTrainingEnv(config).actionSpaces;
  return observations.map((joint) =>
    selectActions(actors, joint.map((o) => Float32Array.from(o)), { mode: "greedy", spaces })
      .map((action) => typeof action === "number" ? action : Array.from(action))
  );
}

/** One drawn state of a replayed episode. */
export interface ReplayFrame {
  /** The state as an SVG document. */
  svg: string;
  /** Steps taken (0: the reset state). */
  step: number;
  /** Each agent's return so far. */
  returns: number[];
  /** The scenario's measures so far (particle worlds: the MADDPG paper's). */
  measures?: Record<string, number>;
}

/** A replayed episode: its outcome and every state drawn. */
export interface Replay {
  result: EpisodeResult;
  frames: ReplayFrame[];
  /** The environment's agent names, in order. */
  agents: string[];
}

/**
 * The first episode `deno task evaluate --run <run> --seed <seed> --policy <policy>
 * --episodes 1` plays: `runEpisodes` with the same reset seed, `Pcg32(seed)` and the run's
 * maxSteps, each state drawn as SVG.
 */
export async function replayEpisode(
  path: string,
  options: { seed: number; policy: ActionMode; size?: number },
): Promise<Replay> {
  const { config, actors } = await loadRun(path);
  const env = makeTrainingEnv(config);
  const returns = new Array<number>(env.agents.length).fill(0);
  const measures = createMeasures(env);
  let steps = 0;
  // Watches the rewards of each step for the running returns; the episode is runEpisodes'.
  const step = env.step.bind(env);
  env.step = (actions): StepResult => {
    const result = step(actions);
    result.rewards.forEach((reward, i) => (returns[i] += reward));
    measures?.step(result.rewards);
    steps++;
    return result;
  };
  const frames: ReplayFrame[] = [];
  const svgOptions = {
    width: options.size ?? 400,
    height: options.size ?? 400,
    ...(config.env === "grid_world" ? { shade: 1 } : {}),
  };
  const { episodes: [result] } = runEpisodes({
    actors,
    env,
    policy: options.policy,
    episodes: 1,
    maxSteps: config.maxSteps,
    rng: new Pcg32(options.seed),
    seed: options.seed,
    onScene: (scene) =>
      frames.push({
        svg: sceneToSvg(scene, svgOptions),
        step: steps,
        returns: [...returns],
        measures: measures?.result(),
      }),
  });
  return { result, frames, agents: [...env.agents] };
}
