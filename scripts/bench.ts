// deno-lint-ignore-file no-console
/**
 * `deno task bench [--rounds 200] [--episodes 200] [--repeats 3] [--seed 42] [--reference]
 * [--mpe-steps 20000] [--json FILE] [--only update,env,run,mpe]`: medians of the notebook's update
 * round (inline, with a product helper, and parallel) with its efficiency against the floor of
 * its products (each timed alone with this project's kernel), environment steps per second, a
 * whole notebook run, and MADDPG on `simple_spread_v3` (continuous actions): update rounds, the
 * floor of their products (with the kernel, and as plain `tf.matMul`) and the bound that the
 * best rate of either sets, and the training cost per step at a PyTorch peer's
 * hyperparameters and at the MADDPG paper's (each training run is `deno task train` in a
 * process of its own), each also with `--fused-multiply-add`; with `--reference`, MPE2's
 * Python step rates, the seed notebook's PyTorch run and the PyTorch MADDPG peer
 * (`shared/reference/mpe/peer`) on this machine beside them, and the ratios.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { AgentShape, AlgorithmInstance } from "../lib/agent/algorithm.ts";
import { createAlgorithm } from "../lib/agent/catalogue.ts";
import { InlineLearner } from "../lib/agent/learner.ts";
import type { Learner } from "../lib/agent/learner.ts";
import { ParallelLearner } from "../lib/agent/parallel.ts";
import { ProductHelper } from "../lib/nn/product_helper.ts";
import { initBackend, runtimeInfo } from "../lib/backend.ts";
import { integerFlag, parseFlags } from "../lib/cli.ts";
import { configFromRecord, DEFAULT_TRAIN_CONFIG } from "../lib/config.ts";
import type { TrainConfig } from "../lib/config.ts";
import "../lib/env/builtin.ts";
import type { ParallelEnv, StepResult } from "../lib/env/parallel_env.ts";
import { envEntry, envIds, makeEnv } from "../lib/env/registry.ts";
import { runMain, UsageError } from "../lib/errors.ts";
import { checkOutputPath, writeFileAtomic } from "../lib/files.ts";
import { allocateBatch, ReplayBuffer } from "../lib/replay_buffer.ts";
import { Pcg32 } from "../lib/rng.ts";
import { selectActions } from "../lib/agent/policy.ts";
import { Mlp } from "../lib/nn/mlp.ts";
import { product } from "../lib/nn/wasm_gemm.ts";
import { median } from "../lib/stats.ts";
import { agentShapes, makeTrainingEnv } from "../lib/train/run.ts";
import type { TrainSummary } from "../lib/trainer.ts";

const HELP = `Usage: deno task bench [flags]

  --rounds N       update rounds per timing of the update benchmark [200]
  --episodes N     episodes of the whole-run benchmark (0 skips it) [200]
  --repeats N      repeats of each benchmark; medians are printed [3]
  --seed N         seed of the runs [42]
  --mpe-steps N    learning steps of each training run of the mpe section (0 skips the
                   runs and the peer) [20000]
  --reference      also run MPE2 (Python, scripts/mpe2_speed.py) for the environment section,
                   ../shared/reference/run_notebook.sh (PyTorch) with the same episodes
                   and seed for the run section, and ../shared/reference/mpe/peer/run_peer.sh
                   (PyTorch MADDPG) for N + 20000 steps for the mpe section, and print the ratios
  --only LIST      sections to run, comma-separated: update, env, run, mpe [all]
  --json FILE      also write the numbers as JSON
  --help           this text`;

const SECTIONS = ["update", "env", "run", "mpe"] as const;
type Section = (typeof SECTIONS)[number];

/** What the flags ask for. */
interface BenchOptions {
  rounds: number;
  episodes: number;
  mpeSteps: number;
  repeats: number;
  seed: number;
  reference: boolean;
  json: string | undefined;
  only: Set<Section>;
}

/** Every number the bench prints, by name (written with `--json`). */
type Numbers = Record<string, number | string | Record<string, number>>;

/** The minimum wanted of ours / MPE2 steps per second. */
const MPE2_TARGET = 50;

/** Parses the flags; undefined after printing `--help`. */
function parseBenchArgs(args: string[]): BenchOptions | undefined {
  const { values } = parseFlags(args, {
    rounds: { type: "string", default: "200" },
    episodes: { type: "string", default: "200" },
    "mpe-steps": { type: "string", default: "20000" },
    repeats: { type: "string", default: "3" },
    seed: { type: "string", default: "42" },
    reference: { type: "boolean" },
    only: { type: "string", default: SECTIONS.join(",") },
    json: { type: "string" },
    help: { type: "boolean" },
  });
  if (values.help) {
    console.log(HELP);
    return undefined;
  }
  const only = new Set<Section>();
  for (const name of String(values.only).split(",").map((s) => s.trim())) {
    if (!(SECTIONS as readonly string[]).includes(name)) {
      throw new UsageError(`--only takes ${SECTIONS.join(", ")} (comma-separated), got "${name}"`);
    }
    only.add(name as Section);
  }
  return {
    rounds: integerFlag("--rounds", values.rounds),
    episodes: integerFlag("--episodes", values.episodes, true),
    mpeSteps: integerFlag("--mpe-steps", values["mpe-steps"], true),
    repeats: integerFlag("--repeats", values.repeats),
    seed: integerFlag("--seed", values.seed, true),
    reference: values.reference === true,
    json: typeof values.json === "string" ? values.json : undefined,
    only,
  };
}

/** The CPU model, from /proc/cpuinfo (read with `cat`: Deno wants --allow-all for /proc). */
async function cpuModel(): Promise<string> {
  try {
    const { stdout } = await new Deno.Command("cat", { args: ["/proc/cpuinfo"] }).output();
    const match = /^model name\s*:\s*(.+)$/m.exec(new TextDecoder().decode(stdout));
    if (match) return match[1].trim();
  } catch { /* not Linux, or not readable */ }
  return "unknown CPU";
}

/** Prints the machine and runtime (call after `initBackend`). */
async function printMachine(numbers: Numbers): Promise<void> {
  const cpu = await cpuModel();
  const cores = navigator.hardwareConcurrency;
  const runtime = runtimeInfo();
  Object.assign(numbers, { cpu, cores, deno: runtime.deno, tfjs: runtime.tfjs });
  console.log(
    `machine: ${cpu}, ${cores} cores; Deno ${runtime.deno}, tfjs ${runtime.tfjs} ` +
      `(${runtime.backend}, SIMD ${runtime.simd ? "on" : "off"}, ` +
      `threads ${runtime.threads ? "on" : "off"})`,
  );
}

// ---------------------------------------------------------------------------------------
// 1. Update rounds

/** Whether every agent is done (terminated or truncated): the episode is over. */
function episodeOver(step: StepResult): boolean {
  return step.terminations.every((t, i) => t || step.truncations[i]);
}

/** A replay buffer filled with 10 000 random-policy transitions of `env`. */
function filledBuffer(env: ParallelEnv, shapes: readonly AgentShape[], rng: Pcg32): ReplayBuffer {
  const buffer = new ReplayBuffer({
    capacity: 20_000,
    observationSizes: shapes.map((s) => s.observationSize),
    actionSizes: shapes.map((s) => (s.actionKind === "discrete" ? 1 : s.actionSize)),
  });
  let observations = env.reset({ seed: 1 }).observations.map((o) => o.slice());
  for (let t = 0; t < 10_000; t++) {
    const actions = env.actionSpaces.map((space) => space.sample(rng));
    const step = env.step(actions);
    buffer.push({ ...step, observations, actions, nextObservations: step.observations });
    observations = (episodeOver(step) ? env.reset() : step).observations.map((o) => o.slice());
  }
  return buffer;
}

/** Milliseconds per update round, `rounds` rounds queued back to back. */
async function timeRounds(
  setup: { learner: Learner; algorithm: AlgorithmInstance; buffer: ReplayBuffer },
  options: { rounds: number; batchSize: number; rng: Pcg32 },
): Promise<number> {
  const { learner, algorithm, buffer } = setup, { rounds, batchSize, rng } = options;
  const batches = Array.from(
    { length: rounds },
    () => buffer.sample(batchSize, rng, allocateBatch(batchSize, buffer)),
  );
  const uniforms = batches.map(() => algorithm.drawUniforms(batchSize, rng));
  const start = performance.now();
  for (let k = 0; k < rounds; k++) learner.submit([batches[k]], [uniforms[k]]);
  await learner.flush();
  return (performance.now() - start) / rounds;
}

/** A config's environment, its agent shapes and a buffer of random transitions. */
function updateSetup(config: TrainConfig) {
  const env = makeTrainingEnv(config);
  const shapes = agentShapes(env);
  const buffer = filledBuffer(env, shapes, new Pcg32(config.seed));
  return { config, shapes, buffer };
}

/**
 * The learners: inline (main thread), helper (main thread and a helper thread for the large
 * products, `--threads 1`) and parallel (one worker per agent, `--threads 2`).
 */
type LearnerKind = "inline" | "helper" | "parallel";

/** Every {@linkcode LearnerKind}, in the order they are timed and printed. */
const LEARNER_KINDS = ["inline", "helper", "parallel"] as const;

/** Where each kind of learner runs, for the printout. */
function whereKind(kind: LearnerKind, agents: number): string {
  if (kind === "inline") return "main thread";
  return kind === "helper" ? "main thread + product helper" : `${agents} workers, one per agent`;
}

/** Median ms per update round of one learner over `repeats` timings, after 20 warm-up rounds. */
async function timeLearner(
  kind: LearnerKind,
  setup: { config: TrainConfig; shapes: AgentShape[]; buffer: ReplayBuffer },
  options: { seed: number; rounds: number; repeats: number; rng: Pcg32 },
): Promise<number> {
  const { config, shapes, buffer } = setup;
  const algorithm = createAlgorithm(config, shapes, new Pcg32(options.seed));
  const learner: Learner = kind === "parallel"
    ? await ParallelLearner.start(algorithm, config, shapes)
    : new InlineLearner(algorithm, {
      helper: kind === "helper" ? await ProductHelper.start() : undefined,
    });
  const timing = { rounds: options.rounds, batchSize: config.batchSize, rng: options.rng };
  const times: number[] = [];
  try {
    await timeRounds({ learner, algorithm, buffer }, { ...timing, rounds: 20 }); // warm-up
    for (let r = 0; r < options.repeats; r++) {
      times.push(await timeRounds({ learner, algorithm, buffer }, timing));
    }
  } finally {
    await learner.close();
  }
  return median(times);
}

/** Median ms per update round of each kind of learner. */
async function benchUpdates(
  options: BenchOptions,
  numbers: Numbers,
): Promise<{ config: TrainConfig; shapes: AgentShape[]; roundMs: Record<string, number> }> {
  const setup = updateSetup({ ...DEFAULT_TRAIN_CONFIG, seed: options.seed });
  const { config, shapes } = setup;
  const rng = new Pcg32(options.seed + 1);
  const roundMs: Record<string, number> = {};
  console.log(`\nupdate round (${describeNetworks(config, shapes)}):`);
  for (const name of LEARNER_KINDS) {
    const ms = await timeLearner(name, setup, { ...options, rng });
    roundMs[name] = numbers[`update_round_ms_${name}`] = ms;
    console.log(
      `  ${name.padEnd(8)} (${whereKind(name, shapes.length)}): ${ms.toFixed(2)} ms ` +
        `(median of ${options.repeats} x ${options.rounds})`,
    );
  }
  return { config, shapes, roundMs };
}

/** "2 agents, batch 256, actor 6-128-128-4, critic 20-256-256-1". */
function describeNetworks(config: TrainConfig, shapes: readonly AgentShape[]): string {
  const { actor, critic } = networkSizes(config, shapes);
  const actors = [...new Set(actor.map((s) => s.join("-")))].join(", ");
  return `${config.algo}, ${shapes.length} agents, batch ${config.batchSize}, ` +
    `actor ${actors}, critic ${critic.join("-")}`;
}

// ---------------------------------------------------------------------------------------
// 2. Efficiency: the round's matMuls against plain matMul throughput

/** A product `[m, k] x [k, n]`. */
type MatMulShape = readonly [m: number, k: number, n: number];

/** Layer widths of each agent's actor and of the (shared-shape) critics of `--algo notebook`. */
function networkSizes(config: TrainConfig, shapes: readonly AgentShape[]) {
  const criticInput = shapes.reduce((sum, s) => sum + s.observationSize + s.actionSize, 0);
  return {
    actor: shapes.map((s) => [s.observationSize, ...config.actorHidden, s.actionSize]),
    critic: [criticInput, ...config.criticHidden, 1],
  };
}

/** `TfMlp.forwardTrace`: one (fused) `[B, in] x [in, out]` per layer. */
function forwardMatMuls(sizes: readonly number[], rows: number): MatMulShape[] {
  return sizes.slice(1).map((out, l) => [rows, sizes[l], out] as const);
}

/**
 * `TfMlp.backward`, layer l from the last to the first, with input `[B, in]` and delta
 * `[B, out]`:
 * - weight gradient (`transposedProduct`): out = 1 → `[1,B]x[B,in]`; in = 1 → `[1,B]x[B,out]`;
 *   B·in ≤ B·out + in·out → `[in,B]x[B,out]`; else `[out,B]x[B,in]` (then transposed);
 * - bias gradient, a row of ones: `[1,B]x[B,out]`;
 * - input gradient for l > 0 (`productWithTransposed`): out = 1 → `[B,1]x[1,in]`, else
 *   `[B,out]x[out,in]`.
 */
function backwardMatMuls(sizes: readonly number[], rows: number): MatMulShape[] {
  const products: MatMulShape[] = [];
  for (let l = sizes.length - 2; l >= 0; l--) {
    const inputs = sizes[l], out = sizes[l + 1];
    if (out === 1) products.push([1, rows, inputs]);
    else if (inputs === 1) products.push([1, rows, out]);
    else if (rows * inputs <= rows * out + inputs * out) products.push([inputs, rows, out]);
    else products.push([out, rows, inputs]);
    products.push([1, rows, out]);
    if (l > 0) products.push(out === 1 ? [rows, 1, inputs] : [rows, out, inputs]);
  }
  return products;
}

/**
 * Every matMul of one `NotebookMaddpg.update` round, with multiplicities (key "m,k,n").
 * With N agents and batch B:
 * - `beginRound`: target actor j on o'_j, every j (greedy next actions): N actor forwards;
 * - per agent i, `updateCritic`: `criticTargets` runs target critic i on x' (1 forward),
 *   `mseGradient` runs critic i's `forwardTrace` and `backward` (1 forward, 1 backward);
 * - per agent i, `prepareActor`: actor i's `forwardTrace` and `backward`; `actorGradient`:
 *   actor j forward for every j ≠ i, then critic i forward on the sampled joint action.
 * So N² actor forwards + N actor backwards, 3N critic forwards + N critic backwards (the
 * parallel learner also runs every target actor on each worker: N(N−1) more actor forwards).
 */
function roundMatMuls(config: TrainConfig, shapes: readonly AgentShape[]) {
  const rows = config.batchSize, n = shapes.length;
  const { actor, critic } = networkSizes(config, shapes);
  const products: MatMulShape[] = [];
  for (let j = 0; j < n; j++) products.push(...forwardMatMuls(actor[j], rows));
  for (let i = 0; i < n; i++) {
    products.push(...forwardMatMuls(critic, rows)); // target critic on x'
    products.push(...forwardMatMuls(critic, rows), ...backwardMatMuls(critic, rows));
    products.push(...forwardMatMuls(actor[i], rows), ...backwardMatMuls(actor[i], rows));
    for (let j = 0; j < n; j++) if (j !== i) products.push(...forwardMatMuls(actor[j], rows));
    products.push(...forwardMatMuls(critic, rows)); // Q_i of the sampled joint action
  }
  return countShapes(products);
}

/**
 * `TfMlp.inputGradient` of `columns` input columns: `[B,out]x[out,in]` per layer
 * (`[B,1]x[1,in]` when out = 1), the first layer's only `[B,out]x[out,columns]`.
 */
function inputGradientMatMuls(
  sizes: readonly number[],
  rows: number,
  columns: number,
): MatMulShape[] {
  const products: MatMulShape[] = [];
  for (let l = sizes.length - 2; l >= 0; l--) {
    products.push([rows, sizes[l + 1], l === 0 ? columns : sizes[l]]);
  }
  return products;
}

/**
 * Every matMul of one `GumbelMaddpg.update` round of `maddpg` (centralized critics, one each):
 * - `beginRound`: every target actor on o'_j (N actor forwards);
 * - per agent i: target critic i on x' (1 forward), critic i's regression (1 forward, 1
 *   backward), actor i's gradient: actor i forward, critic i forward on the joint action with
 *   its own replaced, critic i's input gradient at agent i's action, actor i backward.
 */
function maddpgRoundMatMuls(config: TrainConfig, shapes: readonly AgentShape[]) {
  const rows = config.batchSize;
  const { actor, critic } = networkSizes(config, shapes);
  const products: MatMulShape[] = [];
  for (const sizes of actor) products.push(...forwardMatMuls(sizes, rows));
  for (const sizes of actor) {
    products.push(...forwardMatMuls(critic, rows), ...forwardMatMuls(critic, rows));
    products.push(...backwardMatMuls(critic, rows));
    products.push(...forwardMatMuls(sizes, rows), ...forwardMatMuls(critic, rows));
    const ownActions = sizes[sizes.length - 1];
    products.push(...inputGradientMatMuls(critic, rows, ownActions));
    products.push(...backwardMatMuls(sizes, rows));
  }
  return countShapes(products);
}

/** Distinct shapes with their multiplicities. */
function countShapes(products: readonly MatMulShape[]) {
  const counts = new Map<string, { shape: MatMulShape; count: number }>();
  for (const shape of products) {
    const key = shape.join(",");
    const entry = counts.get(key) ?? { shape, count: 0 };
    entry.count++;
    counts.set(key, entry);
  }
  return [...counts.values()];
}

/** A product of two matrices: tfjs-wasm's `tf.matMul` (XNNPACK) or this project's kernel. */
type Multiply = (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;
const tfMatMul: Multiply = (a, b) => tf.matMul(a, b);
const ownKernel: Multiply = (a, b) => product(a, b);

/**
 * Milliseconds per product `[m,k] x [k,n]` (`tf.matMul` unless `multiply` says otherwise;
 * ≥ 50 ms of products timed, after a warm-up of 20 products or 50 ms, whichever ends first).
 */
function timeProduct([m, k, n]: MatMulShape, multiply = tfMatMul): number {
  const a = tf.randomUniform([m, k]) as tf.Tensor2D, b = tf.randomUniform([k, n]) as tf.Tensor2D;
  try {
    const warmUp = performance.now();
    for (let w = 0; w < 20 && performance.now() - warmUp < 50; w++) multiply(a, b).dispose();
    let count = 0, elapsed = 0;
    const start = performance.now();
    while (elapsed < 50) {
      for (let r = 0; r < 10; r++) multiply(a, b).dispose();
      count += 10;
      elapsed = performance.now() - start;
    }
    return elapsed / count;
  } finally {
    a.dispose();
    b.dispose();
  }
}

const flops = ([m, k, n]: MatMulShape) => 2 * m * k * n;
const gflops = (shape: MatMulShape, ms: number) => flops(shape) / (ms * 1e6);
const showGflops = (x: number) => (x >= 1 ? x.toFixed(1) : x.toPrecision(2));
const showShape = ([m, k, n]: MatMulShape) => `[${m},${k}]x[${k},${n}]`;

/** Each distinct matMul of a round with its median time (ms) and the round's totals. */
function measureFloor(
  setup: { config: TrainConfig; shapes: AgentShape[] },
  repeats: number,
  { listProducts = roundMatMuls, multiply = tfMatMul } = {},
) {
  const tensorsBefore = tf.memory().numTensors;
  const products = listProducts(setup.config, setup.shapes).map((entry) => ({
    ...entry,
    ms: median(Array.from({ length: repeats }, () => timeProduct(entry.shape, multiply))),
  }));
  return {
    products,
    leaked: tf.memory().numTensors - tensorsBefore,
    count: products.reduce((sum, p) => sum + p.count, 0),
    flops: products.reduce((sum, p) => sum + p.count * flops(p.shape), 0),
    floorMs: products.reduce((sum, p) => sum + p.count * p.ms, 0),
  };
}

/** Prints the round's FLOPs, the one- and two-core floors of its products and the efficiencies. */
function benchEfficiency(
  setup: { config: TrainConfig; shapes: AgentShape[]; roundMs: Record<string, number> },
  options: { repeats: number; numbers: Numbers },
): void {
  const { products, leaked, count, flops: roundFlops, floorMs } = measureFloor(
    setup,
    options.repeats,
    { multiply: ownKernel },
  );
  const efficiency = {
    inline: floorMs / setup.roundMs.inline,
    helper: floorMs / 2 / setup.roundMs.helper,
    parallel: floorMs / 2 / setup.roundMs.parallel,
  };
  Object.assign(options.numbers, {
    round_matmuls: count,
    round_gflop: roundFlops / 1e9,
    floor_ms_1core: floorMs,
    floor_ms_2cores: floorMs / 2,
    efficiency_inline: efficiency.inline,
    efficiency_helper: efficiency.helper,
    efficiency_parallel: efficiency.parallel,
    matmul_gflops: Object.fromEntries(
      products.map((p) => [showShape(p.shape), gflops(p.shape, p.ms)]),
    ),
  });
  // The biggest and smallest products, and two of the critic's beside them.
  const bySize = [...products].sort((a, b) => flops(b.shape) - flops(a.shape));
  const named = [bySize[0], ...products.filter((p) => SHOWN.has(p.shape.join(","))), bySize.at(-1)!]
    .filter((p, i, all) => all.indexOf(p) === i);
  const throughput = named.map((p) =>
    `${showShape(p.shape)} ${showGflops(gflops(p.shape, p.ms))} GFLOP/s`
  );
  console.log(
    `  matMuls of one round: ${count} products of ${products.length} shapes, ` +
      `${(roundFlops / 1e9).toFixed(3)} GFLOP`,
  );
  console.log(`  this project's kernel (lib/nn/wasm_gemm.ts): ${throughput.join(", ")}`);
  console.log(
    `  products' floor: ${floorMs.toFixed(2)} ms on one core, ${(floorMs / 2).toFixed(2)} ms ` +
      "on two",
  );
  console.log(
    `  efficiency (floor / round): inline ${pct(efficiency.inline)} (1-core floor), ` +
      `helper ${pct(efficiency.helper)} and parallel ${pct(efficiency.parallel)} (2-core floor)`,
  );
  if (leaked !== 0) console.log(`  WARNING: ${leaked} tensors left after timing the matMuls`);
}

/** Shapes whose throughput is printed besides the biggest and the smallest. */
const SHOWN = new Set(["256,20,256", "256,256,1"]);
const pct = (x: number) => `${(100 * x).toFixed(0)}%`;

// ---------------------------------------------------------------------------------------
// 3. Environments

/** Steps per second of `env` with random actions for about `ms` milliseconds. */
function envStepsPerSecond(env: ParallelEnv, options: { rng: Pcg32; ms: number }): number {
  const { rng, ms } = options;
  env.reset({ seed: 1 });
  let steps = 0, elapsed = 0;
  const start = performance.now();
  while (elapsed < ms) {
    for (let k = 0; k < 256; k++) {
      const step = env.step(env.actionSpaces.map((space) => space.sample(rng)));
      if (episodeOver(step)) env.reset();
    }
    steps += 256;
    elapsed = performance.now() - start;
  }
  return steps / (elapsed / 1000);
}

/** Median steps per second of every built-in environment, discrete and continuous. */
function benchEnvironments(options: BenchOptions, numbers: Numbers) {
  const rates: Record<string, { discrete: number; continuous?: number }> = {};
  const rng = new Pcg32(options.seed);
  for (const id of envIds()) {
    const modes = "continuousActions" in envEntry(id).options ? [false, true] : [false];
    for (const continuous of modes) {
      const env = makeEnv(id, continuous ? { continuousActions: true } : {});
      envStepsPerSecond(env, { rng, ms: 100 }); // warm-up
      const perSecond = median(
        Array.from({ length: options.repeats }, () => envStepsPerSecond(env, { rng, ms: 500 })),
      );
      const mode = continuous ? "continuous" : "discrete";
      rates[id] = { ...rates[id], [mode]: perSecond };
      numbers[`env_steps_per_s_${id}_${mode}`] = perSecond;
    }
  }
  return rates;
}

/**
 * Microseconds per joint action of the paper preset's actors on `simple_spread_v3` (each
 * actor 18 → 64 → 64 → 5 on its own observation, a sampled action): the acting half of every
 * training step (the other half of the forward passes is the greedy probe episode's).
 */
export async function actingMicroseconds(
  options: Pick<BenchOptions, "seed" | "repeats">,
): Promise<number> {
  const config = await paperPreset();
  const env = makeTrainingEnv(config), rng = new Pcg32(options.seed);
  const actors = agentShapes(env).map((shape) =>
    Mlp.init([shape.observationSize, ...config.actorHidden, shape.actionSize], rng)
  );
  const { observations } = env.reset({ seed: options.seed });
  const choice = { mode: "sample" as const, rng, spaces: env.actionSpaces };
  const time = (count: number) => {
    const start = performance.now();
    for (let k = 0; k < count; k++) selectActions(actors, observations, choice);
    return ((performance.now() - start) * 1000) / count;
  };
  time(2000); // warm-up
  return median(Array.from({ length: options.repeats }, () => time(20000)));
}

/** The MPE2 venv's Python, built as `trace.sh` builds it when missing. */
async function mpe2Python(): Promise<string> {
  const venv = Deno.env.get("MPE_VENV") || "/tmp/mpe-ref-venv";
  const python = `${venv}/bin/python`;
  const check = async () => {
    try {
      const args = ["-c", "import numpy, gymnasium, pettingzoo"];
      return (await new Deno.Command(python, { args, stderr: "null" }).output()).success;
    } catch {
      return false; // no such Python
    }
  };
  if (await check()) return python;
  console.log(`  building the MPE2 venv in ${venv} (about a minute)…`);
  const traceSh = new URL("../../shared/reference/mpe/trace.sh", import.meta.url).pathname;
  const build = await new Deno.Command("bash", {
    args: [traceSh, "--env", "simple_v3", "--steps", "1"],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!build.success || !(await check())) {
    const tail = new TextDecoder().decode(build.stderr).trim().split("\n").pop();
    throw new Error(`Could not build the MPE2 venv with ${traceSh}: ${tail}`);
  }
  return python;
}

/** Steps per second with discrete and with continuous actions. */
interface ModeRates {
  discrete: number;
  continuous: number;
}

/** MPE2's steps per second of `ids` (each mode ~2 s), median over `repeats` runs. */
async function mpe2Rates(ids: string[], repeats: number): Promise<Record<string, ModeRates>> {
  const python = await mpe2Python();
  const script = new URL("./mpe2_speed.py", import.meta.url).pathname;
  const runs: Record<string, Record<string, number>>[] = [];
  for (let r = 0; r < repeats; r++) {
    const result = await new Deno.Command(python, {
      args: [script, "--seconds", "2", ...ids],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!result.success) {
      const tail = new TextDecoder().decode(result.stderr).trim().split("\n").pop();
      throw new Error(`MPE2 speed run failed (${script}): ${tail}`);
    }
    runs.push(JSON.parse(new TextDecoder().decode(result.stdout)));
  }
  const mode = (id: string, m: string) => median(runs.map((run) => run[id][m]));
  return Object.fromEntries(
    ids.map((id) => [id, { discrete: mode(id, "discrete"), continuous: mode(id, "continuous") }]),
  );
}

/** "1.23M", "456.7k", "2345": steps per second. */
function rate(x: number | undefined): string {
  if (x === undefined) return "-";
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  return x >= 1e4 ? `${(x / 1e3).toFixed(1)}k` : x.toFixed(0);
}

/** Prints the environment table, with MPE2 and the ratios when `--reference`. */
async function envSection(options: BenchOptions, numbers: Numbers): Promise<void> {
  console.log(`\nenvironment steps/s, random actions (median of ${options.repeats} x 0.5 s):`);
  const ours = benchEnvironments(options, numbers);
  const mpeIds = Object.keys(ours).filter((id) => ours[id].continuous !== undefined);
  const ref = options.reference ? await mpe2Rates(mpeIds, options.repeats) : undefined;
  const columns = ["env", "ours discrete", "ours continuous"];
  if (ref) {
    columns.push("MPE2 discrete", "MPE2 continuous", "ratio d / c", `target ≥${MPE2_TARGET}x`);
  }
  const rows = Object.entries(ours).map(([id, r]) => {
    const row = [id, rate(r.discrete), rate(r.continuous)];
    if (ref) row.push(...referenceCells({ id, ours: r, mpe2: ref[id] }, numbers));
    return row;
  });
  printTable([columns, ...rows]);
  const acting = await actingMicroseconds(options);
  numbers.acting_us_simple_spread_v3 = acting;
  console.log(
    `\nacting: ${acting.toFixed(2)} µs per joint action (simple_spread_v3, the paper preset's ` +
      `3 actors, median of ${options.repeats} x 20000)`,
  );
}

/** MPE2's rates of one environment, the ratios and whether they meet the target. */
function referenceCells(
  env: { id: string; ours: { discrete: number; continuous?: number }; mpe2?: ModeRates },
  numbers: Numbers,
): string[] {
  const { id, ours, mpe2 } = env;
  if (!mpe2 || ours.continuous === undefined) return ["-", "-", "-", "-"];
  const ratios = {
    discrete: ours.discrete / mpe2.discrete,
    continuous: ours.continuous / mpe2.continuous,
  };
  for (const mode of ["discrete", "continuous"] as const) {
    numbers[`mpe2_steps_per_s_${id}_${mode}`] = mpe2[mode];
    numbers[`ratio_vs_mpe2_${id}_${mode}`] = ratios[mode];
  }
  const ok = ratios.discrete >= MPE2_TARGET && ratios.continuous >= MPE2_TARGET;
  return [
    rate(mpe2.discrete),
    rate(mpe2.continuous),
    `${ratios.discrete.toFixed(0)}x / ${ratios.continuous.toFixed(0)}x`,
    ok ? "ok" : "MISSED",
  ];
}

/** Prints rows as aligned columns (the first column left-aligned, the others right). */
function printTable(rows: string[][]): void {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  for (const row of rows) {
    console.log(
      "  " + row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
        .join("  "),
    );
  }
}

// ---------------------------------------------------------------------------------------
// 4. The whole notebook run

interface ReferenceRun {
  wall_s: number;
  total_steps: number;
  episode_rewards: number[];
}

async function runReference(episodes: number, seed: number): Promise<ReferenceRun> {
  const script = new URL("../../shared/reference/run_notebook.sh", import.meta.url).pathname;
  const out = await Deno.makeTempFile({ suffix: ".json" });
  const result = await new Deno.Command("bash", {
    args: [script, "--seed", String(seed), "--episodes", String(episodes), "--out", out],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!result.success) {
    const tail = new TextDecoder().decode(result.stderr).trim().split("\n").pop();
    throw new Error(`The PyTorch reference failed (${script}): ${tail}`);
  }
  const run = JSON.parse(await Deno.readTextFile(out));
  await Deno.remove(out);
  return run;
}

/** What the bench reads of a run's `summary.json`. */
type RunSummary = Pick<
  TrainSummary,
  "wallSeconds" | "totalSteps" | "stepsPerSecond" | "updateRounds" | "peakRssMb"
>;

/**
 * Trains `config` as a user does, `deno task train --config FILE --threads auto`, in a
 * process of its own (so that its peak memory is the run's, not the bench's), in a temp dir.
 */
async function trainAsUser(config: TrainConfig): Promise<RunSummary> {
  const dir = await Deno.makeTempDir({ prefix: "maddpg-bench-" });
  try {
    const configFile = `${dir}/config.json`, outDir = `${dir}/run`;
    await Deno.writeTextFile(configFile, JSON.stringify(config));
    const root = new URL("..", import.meta.url).pathname;
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["task", "--quiet", "--config", `${root}deno.json`, "train", "--config", configFile]
        .concat(["--out", outDir, "--quiet", "--threads", "auto"]),
      cwd: root,
      stdout: "null",
      stderr: "piped",
    }).output();
    if (code !== 0) {
      const last = new TextDecoder().decode(stderr).trim().split("\n").pop();
      throw new Error(`deno task train failed (exit code ${code}): ${last}`);
    }
    return JSON.parse(await Deno.readTextFile(`${outDir}/summary.json`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Times `train` of the default config (threads auto), `repeats` times. */
async function benchRun(options: BenchOptions, numbers: Numbers): Promise<void> {
  const { episodes, seed, repeats } = options;
  console.log(`\nnotebook run (${episodes} episodes, seed ${seed}, learner threads auto):`);
  const walls: number[] = [], perStep: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const summary = await trainAsUser({ ...DEFAULT_TRAIN_CONFIG, seed, episodes });
    walls.push(summary.wallSeconds);
    perStep.push((summary.wallSeconds * 1000) / summary.totalSteps);
    numbers.run_steps = summary.totalSteps;
    console.log(
      `  run ${r + 1}: ${summary.wallSeconds.toFixed(1)} s, ${summary.totalSteps} steps, ` +
        `peak RSS ${summary.peakRssMb.toFixed(0)} MB`,
    );
  }
  numbers.run_wall_s = median(walls);
  numbers.run_ms_per_step = median(perStep);
  console.log(
    `  ours: ${median(walls).toFixed(1)} s wall, ${median(perStep).toFixed(2)} ms/step ` +
      `(median of ${repeats})`,
  );
  if (options.reference) await benchReference(options, numbers);
}

/** The PyTorch notebook's run beside ours, and the ratios. */
async function benchReference(options: BenchOptions, numbers: Numbers): Promise<void> {
  const refWalls: number[] = [], refPerStep: number[] = [];
  for (let r = 0; r < options.repeats; r++) {
    const ref = await runReference(options.episodes, options.seed);
    refWalls.push(ref.wall_s);
    refPerStep.push((ref.wall_s * 1000) / ref.total_steps);
    console.log(`  PyTorch run ${r + 1}: ${ref.wall_s.toFixed(1)} s, ${ref.total_steps} steps`);
  }
  numbers.reference_wall_s = median(refWalls);
  numbers.reference_ms_per_step = median(refPerStep);
  const wall = (numbers.run_wall_s as number) / numbers.reference_wall_s;
  const step = (numbers.run_ms_per_step as number) / numbers.reference_ms_per_step;
  console.log(
    `  PyTorch: ${median(refWalls).toFixed(1)} s wall, ${median(refPerStep).toFixed(2)} ms/step`,
  );
  console.log(`  ratio ours / PyTorch: wall ${wall.toFixed(2)}, per step ${step.toFixed(2)}`);
}

// ---------------------------------------------------------------------------------------
// 5. MADDPG on the particle worlds: simple_spread_v3, continuous actions

/** The environment of the mpe section, and its options. */
const MPE_ENV = "simple_spread_v3";
const MPE_OPTIONS = { continuous_actions: "true" };
/** Warm-up steps of the peer's shipped hyperparameters (random actions, no updates). */
const PEER_WARMUP = 20_000;
/** The minimum wanted of the peer's cost / ours. */
const PEER_TARGET = 8;

/** One config of the mpe section. */
interface MpeCase {
  /** "peer" or "paper". */
  name: string;
  /** What it is, for the printout. */
  label: string;
  config: TrainConfig;
}

/**
 * The peer's shipped spread hyperparameters (legalaspro/maddpg-zoo-torch) and the MADDPG
 * paper's preset (`configs/mpe/simple_spread.json`), both with continuous actions, `steps`
 * steps (25-step episodes), no warm-up (updates from the step the buffer holds a batch: the
 * run measures the learning cost), no checkpoints and no end-of-training tests.
 */
async function mpeCases(seed: number, steps: number): Promise<MpeCase[]> {
  const run = {
    seed,
    envOptions: MPE_OPTIONS,
    episodes: Math.max(1, Math.ceil(steps / 25)),
    warmupSteps: 0,
    checkpointEvery: 0,
    testEpisodes: 0,
  };
  const peer = configFromRecord({
    algo: "maddpg",
    env: MPE_ENV,
    maxSteps: 25,
    bufferSize: 1_000_000,
    batchSize: 256,
    updateEvery: 15,
    actorHidden: [64, 64],
    criticHidden: [64, 64],
    actorLr: 1e-3,
    criticLr: 2e-3,
    gamma: 0.95,
    tau: 0.01,
    actionNoise: 0.3,
    actionNoiseEnd: 0.01,
    actionNoiseDecay: 500_000,
    epsilonStart: 0,
    epsilonEnd: 0,
    ...run,
  }, "the peer's simple_spread_v3 hyperparameters");
  const paper = await paperPreset(run);
  return [
    { name: "peer", label: "peer's hyperparameters", config: peer },
    { name: "paper", label: "paper preset", config: paper },
  ];
}

/** The paper's preset, `configs/mpe/simple_spread.json`, with `overrides`. */
async function paperPreset(overrides: Partial<TrainConfig> = {}): Promise<TrainConfig> {
  const path = new URL("../configs/mpe/simple_spread.json", import.meta.url).pathname;
  const preset = JSON.parse(await Deno.readTextFile(path));
  return configFromRecord({ ...preset, ...overrides }, path);
}

/** Square products, small to large, whose best rate bounds every product from above. */
const SQUARE_SIZES = [128, 256, 512, 1024];

/** The best rate of {@linkcode SQUARE_SIZES}' products: `multiply` at its fastest. */
function peakGflops(repeats: number, multiply = tfMatMul): number {
  const square = (n: number): MatMulShape => [n, n, n];
  const ms = (n: number) =>
    median(Array.from({ length: repeats }, () => timeProduct(square(n), multiply)));
  return Math.max(...SQUARE_SIZES.map((n) => gflops(square(n), ms(n))));
}

/**
 * Median ms per update round of each case, inline, with a helper and parallel (`[case][kind]`),
 * and with a helper and fused multiply-adds (`fused[case]`).
 */
async function mpeUpdateRounds(
  cases: MpeCase[],
  options: BenchOptions,
  numbers: Numbers,
): Promise<
  {
    rounds: Record<string, Record<LearnerKind, number>>;
    fused: Record<string, number>;
    floors: Record<string, number>;
    atPeak: Record<string, number>;
  }
> {
  const result: Record<string, Record<LearnerKind, number>> = {};
  const fused: Record<string, number> = {};
  const floors: Record<string, number> = {};
  const atPeak: Record<string, number> = {};
  const rng = new Pcg32(options.seed + 1);
  const tfPeak = numbers.matmul_peak_gflops = peakGflops(options.repeats);
  const ownPeak = numbers.kernel_peak_gflops = peakGflops(options.repeats, ownKernel);
  const peak = Math.max(tfPeak, ownPeak);
  console.log(
    `  at their best here (n×n products, n = ${SQUARE_SIZES.join(", ")}): plain tf.matMul ` +
      `${tfPeak.toFixed(1)} GFLOP/s, this project's kernel ${ownPeak.toFixed(1)} GFLOP/s`,
  );
  console.log(`  update round, ms (median of ${options.repeats} x ${options.rounds} rounds):`);
  for (const { name, label, config } of cases) {
    const setup = updateSetup(config);
    const ms = {} as Record<LearnerKind, number>;
    for (const kind of LEARNER_KINDS) {
      ms[kind] = numbers[`mpe_update_round_ms_${name}_${kind}`] = await timeLearner(
        kind,
        setup,
        { ...options, rng },
      );
    }
    result[name] = ms;
    const fusedSetup = updateSetup({ ...config, fusedMultiplyAdd: true });
    fused[name] = numbers[`mpe_update_round_ms_${name}_helper_fused`] = await timeLearner(
      "helper",
      fusedSetup,
      { ...options, rng },
    );
    console.log(
      `    ${label.padEnd(22)} ${describeNetworks(config, setup.shapes)}: ` +
        `inline ${ms.inline.toFixed(2)}, helper ${ms.helper.toFixed(2)}, ` +
        `parallel (${setup.shapes.length} workers) ${ms.parallel.toFixed(2)}; ` +
        `helper with --fused-multiply-add ${fused[name].toFixed(2)}`,
    );
    const listProducts = maddpgRoundMatMuls;
    const tfFloor = measureFloor(setup, options.repeats, { listProducts });
    const floor = measureFloor(setup, options.repeats, { listProducts, multiply: ownKernel });
    floors[name] = numbers[`mpe_floor_ms_1core_${name}`] = floor.floorMs;
    numbers[`mpe_tf_matmul_floor_ms_1core_${name}`] = tfFloor.floorMs;
    numbers[`mpe_round_gflop_${name}`] = floor.flops / 1e9;
    console.log(
      `      its ${floor.count} products (${(floor.flops / 1e9).toFixed(3)} GFLOP), each timed ` +
        `alone: ${floor.floorMs.toFixed(2)} ms on one core, ${(floor.floorMs / 2).toFixed(2)} ` +
        `on two with this project's kernel (the floor of a round); ` +
        `${tfFloor.floorMs.toFixed(2)} ms on one core as plain tf.matMul`,
    );
    const rates = [...floor.products, ...tfFloor.products].map((p) => gflops(p.shape, p.ms));
    const best = Math.max(peak, ...rates);
    const bestMs = floor.flops / best / 1e6;
    atPeak[name] = numbers[`mpe_round_ms_at_peak_${name}`] = bestMs;
    console.log(
      `      at the best rate of any product here (${best.toFixed(1)} GFLOP/s) they would take ` +
        `${bestMs.toFixed(2)} ms on one core, ${(bestMs / 2).toFixed(2)} on two`,
    );
  }
  return { rounds: result, fused, floors, atPeak };
}

/** Medians of a case's training runs. */
interface RunCost {
  wallSeconds: number;
  stepsPerSecond: number;
  msPerStep: number;
  updateRounds: number;
  peakRssMb: number;
}

/** The JSON names of a {@linkcode RunCost}'s numbers. */
const RUN_COST_KEYS: Record<keyof RunCost, string> = {
  wallSeconds: "wall_s",
  stepsPerSecond: "steps_per_s",
  msPerStep: "ms_per_step",
  updateRounds: "update_rounds",
  peakRssMb: "peak_rss_mb",
};

/** `repeats` runs of `train` (threads auto) of one case, each its own process; the medians. */
async function mpeTrainCost(mpeCase: MpeCase, repeats: number): Promise<RunCost> {
  const runs: RunCost[] = [];
  for (let r = 0; r < repeats; r++) {
    const summary = await trainAsUser(mpeCase.config);
    runs.push({
      wallSeconds: summary.wallSeconds,
      stepsPerSecond: summary.stepsPerSecond,
      msPerStep: (summary.wallSeconds * 1000) / summary.totalSteps,
      updateRounds: summary.updateRounds,
      peakRssMb: summary.peakRssMb,
    });
  }
  const med = (key: keyof RunCost) => median(runs.map((run) => run[key]));
  return {
    wallSeconds: med("wallSeconds"),
    stepsPerSecond: med("stepsPerSecond"),
    msPerStep: med("msPerStep"),
    updateRounds: med("updateRounds"),
    peakRssMb: med("peakRssMb"),
  };
}

/**
 * Prints each case's training cost per step, with exact and with fused multiply-adds; the
 * peer case's costs.
 */
async function mpeTrainRuns(
  cases: MpeCase[],
  options: BenchOptions,
  numbers: Numbers,
): Promise<{ exact: RunCost; fused: RunCost }> {
  console.log(
    `  training cost, ${options.mpeSteps} steps, warm-up 0, threads auto ` +
      `(median of ${options.repeats}):`,
  );
  const costs: Record<string, RunCost> = {};
  const withFused = cases.flatMap((c) => [c, {
    name: `${c.name}_fused`,
    label: `${c.label}, fused`,
    config: { ...c.config, fusedMultiplyAdd: true },
  }]);
  for (const mpeCase of withFused) {
    const cost = costs[mpeCase.name] = await mpeTrainCost(mpeCase, options.repeats);
    const { batchSize, updateEvery } = mpeCase.config;
    for (const [key, value] of Object.entries(cost)) {
      numbers[`mpe_run_${mpeCase.name}_${RUN_COST_KEYS[key as keyof RunCost]}`] = value;
    }
    console.log(
      `    ${mpeCase.label.padEnd(22)} batch ${batchSize}, update every ${updateEvery}: ` +
        `${cost.wallSeconds.toFixed(1)} s, ${cost.stepsPerSecond.toFixed(0)} steps/s, ` +
        `${cost.msPerStep.toFixed(3)} ms/step, ${cost.updateRounds} rounds, ` +
        `peak RSS ${cost.peakRssMb.toFixed(0)} MB`,
    );
  }
  return { exact: costs.peer, fused: costs.peer_fused };
}

/** What the bench reads from the peer's JSON (see `run_peer.sh`). */
interface PeerResult {
  steps: number;
  wall_s: number;
  steps_per_s: number;
  steps_per_s_warmup_phase: number | null;
  steps_per_s_learning_phase: number | null;
  updates: number;
  update_round_ms: number | null;
  update_round_ms_excl_sample: number | null;
  peak_rss_kb: number;
  last100_mean_agent_return: number | null;
}

/** One run of the PyTorch MADDPG peer: `steps` steps, of which the first 20 000 warm up. */
async function runPeer(steps: number, seed: number): Promise<PeerResult> {
  const script = new URL("../../shared/reference/mpe/peer/run_peer.sh", import.meta.url).pathname;
  const out = await Deno.makeTempFile({ suffix: ".json" });
  try {
    const result = await new Deno.Command("bash", {
      args: [script, MPE_ENV, String(steps), String(seed), out],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!result.success) {
      const tail = new TextDecoder().decode(result.stderr).trim().split("\n").pop();
      throw new Error(`The PyTorch MADDPG peer failed (${script}): ${tail}`);
    }
    return JSON.parse(await Deno.readTextFile(out));
  } finally {
    await Deno.remove(out);
  }
}

/** Medians of `repeats` peer runs of N learning steps after its warm-up, recorded in `numbers`. */
async function mpePeer(options: BenchOptions, numbers: Numbers) {
  const steps = options.mpeSteps + PEER_WARMUP;
  console.log(
    `  PyTorch MADDPG peer (run_peer.sh ${MPE_ENV} ${steps} 0: ${PEER_WARMUP} warm-up ` +
      `+ ${options.mpeSteps} learning steps):`,
  );
  const runs: PeerResult[] = [];
  for (let r = 0; r < options.repeats; r++) {
    const run = await runPeer(steps, 0);
    runs.push(run);
    console.log(
      `    run ${r + 1}: ${run.wall_s.toFixed(1)} s, ${
        run.steps_per_s.toFixed(0)
      } steps/s overall, ` +
        `warm-up ${rate(run.steps_per_s_warmup_phase ?? undefined)}, learning ` +
        `${rate(run.steps_per_s_learning_phase ?? undefined)}; ${run.updates} rounds of ` +
        `${(run.update_round_ms ?? NaN).toFixed(2)} ms (${
          (run.update_round_ms_excl_sample ?? NaN).toFixed(2)
        } without replay sampling), peak RSS ${(run.peak_rss_kb / 1024).toFixed(0)} MiB, ` +
        `last-100 return ${(run.last100_mean_agent_return ?? NaN).toFixed(2)}`,
    );
  }
  const med = (pick: (run: PeerResult) => number | null) =>
    median(runs.map((run) => pick(run) ?? NaN));
  const peer = {
    learningStepsPerS: med((run) => run.steps_per_s_learning_phase ?? run.steps_per_s),
    roundMs: med((run) => run.update_round_ms),
    roundMsExclSample: med((run) => run.update_round_ms_excl_sample),
    peakRssMb: med((run) => run.peak_rss_kb) / 1024,
  };
  Object.assign(numbers, {
    peer_steps: steps,
    peer_wall_s: med((run) => run.wall_s),
    peer_steps_per_s: med((run) => run.steps_per_s),
    peer_steps_per_s_warmup_phase: med((run) => run.steps_per_s_warmup_phase),
    peer_steps_per_s_learning_phase: peer.learningStepsPerS,
    peer_update_round_ms: peer.roundMs,
    peer_update_round_ms_excl_sample: peer.roundMsExclSample,
    peer_peak_rss_kb: med((run) => run.peak_rss_kb),
    peer_last100_mean_agent_return: med((run) => run.last100_mean_agent_return),
  });
  return peer;
}

/** Ours (the peer's hyperparameters) beside the peer, the ratios peer / ours and the target. */
function mpeComparison(
  ours: {
    cost: { exact: RunCost; fused: RunCost };
    rounds: Record<LearnerKind, number>;
    fusedRound: number;
    floorMs: number;
    atPeakMs: number;
  },
  peer: Awaited<ReturnType<typeof mpePeer>>,
  numbers: Numbers,
): void {
  const peerMsPerStep = 1000 / peer.learningStepsPerS;
  const rows: [string, string, number, number, boolean][] = [
    ["ms per learning step (run)", "step", ours.cost.exact.msPerStep, peerMsPerStep, true],
    ["the same, fused multiply-adds", "step_fused", ours.cost.fused.msPerStep, peerMsPerStep, true],
    ["update round ms, inline", "round_inline", ours.rounds.inline, peer.roundMs, true],
    ["update round ms, helper", "round_helper", ours.rounds.helper, peer.roundMs, true],
    ["update round ms, parallel", "round_parallel", ours.rounds.parallel, peer.roundMs, true],
    ["update round ms, helper, fused", "round_helper_fused", ours.fusedRound, peer.roundMs, true],
    ["peak RSS MB", "peak_rss", ours.cost.exact.peakRssMb, peer.peakRssMb, false],
  ];
  const table = [["", "ours", "peer", "peer / ours", `target ≥${PEER_TARGET}x`]];
  for (const [label, key, mine, theirs, targeted] of rows) {
    const ratio = numbers[`ratio_peer_over_ours_${key}`] = theirs / mine;
    const verdict = targeted ? (ratio >= PEER_TARGET ? "ok" : "MISSED") : "-";
    const digits = key === "peak_rss" ? 0 : 3;
    table.push([
      label,
      mine.toFixed(digits),
      theirs.toFixed(digits),
      `${ratio.toFixed(2)}x`,
      verdict,
    ]);
  }
  console.log(`  ours (peer's hyperparameters) vs the peer, learning phase:`);
  printTable(table);
  console.log(
    `  (the peer's round includes its replay sampling; without it: ` +
      `${peer.roundMsExclSample.toFixed(2)} ms. Ours is timed on pre-drawn batches.)`,
  );
  const wanted = peer.roundMs / PEER_TARGET;
  numbers.mpe_round_ms_for_target = wanted;
  console.log(
    `  ${PEER_TARGET}x the peer's round asks for ${wanted.toFixed(2)} ms; the products alone ` +
      `take ${ours.floorMs.toFixed(2)} ms on one core, ${(ours.floorMs / 2).toFixed(2)} on two ` +
      `(this project's kernel), and ${ours.atPeakMs.toFixed(2)} / ` +
      `${(ours.atPeakMs / 2).toFixed(2)} even at the best rate of any product`,
  );
}

/** The mpe section: update rounds, training cost and, with `--reference`, the peer. */
async function mpeSection(options: BenchOptions, numbers: Numbers): Promise<void> {
  console.log(`\nMADDPG on ${MPE_ENV}, continuous actions, 3 agents:`);
  const cases = await mpeCases(options.seed, options.mpeSteps);
  const { rounds, fused, floors, atPeak } = await mpeUpdateRounds(cases, options, numbers);
  if (options.mpeSteps === 0) return;
  const cost = await mpeTrainRuns(cases, options, numbers);
  if (!options.reference) return;
  const peer = await mpePeer(options, numbers);
  mpeComparison(
    {
      cost,
      rounds: rounds.peer,
      fusedRound: fused.peer,
      floorMs: floors.peer,
      atPeakMs: atPeak.peer,
    },
    peer,
    numbers,
  );
}

// ---------------------------------------------------------------------------------------

/** Parses flags and runs the chosen sections. */
export async function main(args: string[] = Deno.args): Promise<void> {
  const options = parseBenchArgs(args);
  if (!options) return;
  // Refused now, not after minutes of benchmarks.
  if (options.json !== undefined) await checkOutputPath("--json", options.json, "file");
  await initBackend();
  const numbers: Numbers = {};
  await printMachine(numbers);
  if (options.only.has("update")) {
    const setup = await benchUpdates(options, numbers);
    benchEfficiency(setup, { repeats: options.repeats, numbers });
  }
  if (options.only.has("env")) await envSection(options, numbers);
  if (options.only.has("run") && options.episodes > 0) await benchRun(options, numbers);
  if (options.only.has("mpe")) await mpeSection(options, numbers);
  if (options.json !== undefined) {
    await writeFileAtomic(options.json, JSON.stringify(numbers, null, 2) + "\n");
  }
}

if (import.meta.main) await runMain(() => main());
