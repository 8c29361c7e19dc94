// deno-lint-ignore-file no-console
/**
 * `deno task bench [--episodes 200] [--repeats 3] [--rounds 200] [--reference]`: medians of
 * the update round, environment steps and a whole notebook run; with `--reference`, the
 * seed notebook's PyTorch run on this machine beside them, and the ratios.
 *
 * @module
 */
import { integerFlag, parseFlags } from "../lib/cli.ts";
import { InlineLearner } from "../lib/agent/learner.ts";
import type { Learner } from "../lib/agent/learner.ts";
import { MADDPGAgentManager } from "../lib/agent/maddpg.ts";
import type { MaddpgOptions } from "../lib/agent/maddpg.ts";
import { ParallelLearner } from "../lib/agent/parallel.ts";
import { initBackend } from "../lib/backend.ts";
import { DEFAULT_TRAIN_CONFIG } from "../lib/config.ts";
import { MultiAgentGridEnv } from "../lib/env/grid_world.ts";
import { runMain } from "../lib/errors.ts";
import { allocateBatch, ReplayBuffer } from "../lib/replay_buffer.ts";
import { Pcg32 } from "../lib/rng.ts";
import { train } from "../lib/trainer.ts";

const HELP = `Usage: deno task bench [flags]

  --rounds N       update rounds per timing of the update benchmark [200]
  --episodes N     episodes of the whole-run benchmark (0 skips it) [200]
  --repeats N      repeats of each benchmark; medians are printed [3]
  --seed N         seed of the runs [42]
  --reference      also run ../shared/reference/run_notebook.sh (PyTorch) with the same
                   episodes and seed, and print ours / PyTorch
  --json FILE      also write the numbers as JSON
  --help           this text`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** A replay buffer filled with random-policy transitions. */
function filledBuffer(rng: Pcg32): ReplayBuffer {
  const env = new MultiAgentGridEnv();
  const buffer = new ReplayBuffer({ capacity: 20_000, numAgents: 2, observationDim: 6 });
  let observations = env.reset();
  for (let t = 0; t < 10_000; t++) {
    const actions = [rng.nextInt(4), rng.nextInt(4)];
    const step = env.step(actions);
    buffer.push(observations, actions, step.rewards, step.observations, step.done);
    observations = step.done || t % 100 === 99 ? env.reset() : step.observations;
  }
  return buffer;
}

/** Milliseconds per update round (both agents, batch 256), rounds queued back to back. */
async function timeRounds(
  learner: Learner,
  manager: MADDPGAgentManager,
  rounds: number,
  rng: Pcg32,
  buffer: ReplayBuffer,
): Promise<number> {
  const batches = Array.from(
    { length: rounds },
    () => buffer.sample(256, rng, allocateBatch(256, 2, 6)),
  );
  const uniforms = batches.map(() => manager.drawUniforms(256, rng));
  const start = performance.now();
  for (let k = 0; k < rounds; k++) learner.submit(batches[k], uniforms[k]);
  await learner.flush();
  return (performance.now() - start) / rounds;
}

/** Environment steps per second with random actions from the PRNG. */
function timeEnvironment(rng: Pcg32): number {
  const env = new MultiAgentGridEnv();
  env.reset();
  const steps = 200_000;
  const start = performance.now();
  for (let t = 0; t < steps; t++) {
    if (env.step([rng.nextInt(4), rng.nextInt(4)]).done) env.reset();
  }
  return steps / ((performance.now() - start) / 1000);
}

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
  return JSON.parse(await Deno.readTextFile(out));
}

/** Parses flags and runs the benchmarks. */
export async function main(args: string[] = Deno.args): Promise<void> {
  const { values } = parseFlags(args, {
    rounds: { type: "string", default: "200" },
    episodes: { type: "string", default: "200" },
    repeats: { type: "string", default: "3" },
    seed: { type: "string", default: "42" },
    reference: { type: "boolean" },
    json: { type: "string" },
    help: { type: "boolean" },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const rounds = integerFlag("--rounds", values.rounds);
  const episodes = integerFlag("--episodes", values.episodes, true);
  const repeats = integerFlag("--repeats", values.repeats);
  const seed = integerFlag("--seed", values.seed, true);
  await initBackend();
  const numbers: Record<string, number> = {};
  const options: MaddpgOptions = { numAgents: 2, observationDim: 6, actionDim: 4 };

  const rng = new Pcg32(seed);
  const buffer = filledBuffer(rng);
  for (
    const [name, makeLearner] of [
      ["inline", (m: MADDPGAgentManager) => Promise.resolve(new InlineLearner(m))],
      [
        "parallel",
        (m: MADDPGAgentManager) => ParallelLearner.start(m, DEFAULT_TRAIN_CONFIG, options),
      ],
    ] as const
  ) {
    const manager = new MADDPGAgentManager(options, new Pcg32(seed));
    const learner: Learner = await makeLearner(manager);
    await timeRounds(learner, manager, 20, rng, buffer); // warm-up
    const times: number[] = [];
    for (let r = 0; r < repeats; r++) {
      times.push(await timeRounds(learner, manager, rounds, rng, buffer));
    }
    await learner.close();
    numbers[`update_round_ms_${name}`] = median(times);
    console.log(
      `update round (2 agents, batch 256), ${name} learner: ${
        median(times).toFixed(2)
      } ms (median of ${repeats} x ${rounds})`,
    );
  }
  const envRates = Array.from({ length: repeats }, () => timeEnvironment(rng));
  numbers.env_steps_per_s = median(envRates);
  console.log(`environment: ${(median(envRates) / 1e6).toFixed(2)} M steps/s (random actions)`);

  if (episodes > 0) {
    const walls: number[] = [], stepCounts: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const outDir = await Deno.makeTempDir({ prefix: "maddpg-bench-" });
      const summary = await train({ ...DEFAULT_TRAIN_CONFIG, seed, episodes }, { outDir });
      await Deno.remove(outDir, { recursive: true });
      walls.push(summary.wallSeconds);
      stepCounts.push(summary.totalSteps);
      console.log(
        `  run ${r + 1}: ${
          summary.wallSeconds.toFixed(1)
        } s, ${summary.totalSteps} steps, peak RSS ${summary.peakRssMb.toFixed(0)} MB`,
      );
    }
    numbers.run_wall_s = median(walls);
    numbers.run_steps = stepCounts[0];
    numbers.run_ms_per_step = median(walls.map((w, i) => (w * 1000) / stepCounts[i]));
    console.log(
      `notebook run (${episodes} episodes, seed ${seed}): ${median(walls).toFixed(1)} s wall, ${
        numbers.run_ms_per_step.toFixed(2)
      } ms/step (median of ${repeats})`,
    );
    if (values.reference) {
      const refWalls: number[] = [], refPerStep: number[] = [];
      for (let r = 0; r < repeats; r++) {
        const ref = await runReference(episodes, seed);
        refWalls.push(ref.wall_s);
        refPerStep.push((ref.wall_s * 1000) / ref.total_steps);
        console.log(`  PyTorch run ${r + 1}: ${ref.wall_s.toFixed(1)} s, ${ref.total_steps} steps`);
      }
      numbers.reference_wall_s = median(refWalls);
      numbers.reference_ms_per_step = median(refPerStep);
      console.log(
        `PyTorch notebook (${episodes} episodes, seed ${seed}): ${
          median(refWalls).toFixed(1)
        } s wall, ${median(refPerStep).toFixed(2)} ms/step`,
      );
      console.log(
        `ratio ours / PyTorch: wall ${
          (numbers.run_wall_s / numbers.reference_wall_s).toFixed(2)
        }, per step ${(numbers.run_ms_per_step / numbers.reference_ms_per_step).toFixed(2)}`,
      );
    }
  }
  if (typeof values.json === "string") {
    await Deno.writeTextFile(values.json, JSON.stringify(numbers, null, 2) + "\n");
  }
}

if (import.meta.main) await runMain(() => main());
