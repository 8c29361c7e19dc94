// deno-lint-ignore-file no-console
/**
 * `deno task render`: one episode as an animated GIF (or APNG), either of a trained run's
 * actors (`--run results/<run>`) or of a random policy in any registered environment
 * (`--env ID`), for looking at behaviour and for the README's pictures.
 *
 * @module
 */
import { integerFlag, parseFlags } from "../lib/cli.ts";
import { configFromRecord } from "../lib/config.ts";
import "../lib/env/builtin.ts";
import type { ParallelEnv } from "../lib/env/parallel_env.ts";
import { envIds, makeEnv, parseEnvOptionArgs } from "../lib/env/registry.ts";
import type { Scene } from "../lib/env/scene.ts";
import { runMain, UsageError } from "../lib/errors.ts";
import { checkOutputPath, parentOf } from "../lib/files.ts";
import { writeAnimation } from "../lib/render/animation.ts";
import { DEFAULT_SIZE } from "../lib/render/svg.ts";
import { Pcg32 } from "../lib/rng.ts";
import { mean } from "../lib/stats.ts";
import { evaluate, parsePolicy } from "./evaluate.ts";

/** The largest picture side: a 4 096-pixel frame is 64 MB of RGBA, and an episode has dozens. */
const MAX_SIZE = 4096;

const HELP = `Usage: deno task render (--run results/<run> | --env ID) [flags]

Renders one episode as an animation: a GIF, or an APNG when --out ends in .png or .apng.
The first frame is the reset state, then one frame per step.

  --run DIR          a run directory written by train: its actors act in its environment
  --env ID           an environment, acted in by a random policy (no training needed)
  --env-option K=V   an option of --env's environment (repeatable)
  --adversaries-from DIR
                     with --run: the adversaries act with the actors of this other run of the
                     same environment (as evaluate and crossplay pit teams)
  --policy P         with --run: greedy (default) or sample; with --env: random (default)
  --seed N           seed of the reset and of sampled actions [--run: the run's; --env: 0]
  --steps N          at most N steps [the environment's step limit]
  --size PX          width and height of the picture, pixels, at most ${MAX_SIZE} [${DEFAULT_SIZE}]
  --out FILE         where to write [--run: <run>/episode.gif; --env: <env>.gif]
  --help             this text

Environments: ${envIds().join(", ")}`;

/** One rendered episode: its pictures and what the title says. */
export interface RenderedEpisode {
  /** The reset state, then one scene per step. */
  scenes: Scene[];
  /** The environment's id. */
  envId: string;
  /** The algorithm, or `"random"`. */
  who: string;
  /** The seed used. */
  seed: number;
  /** Mean over agents of each agent's return. */
  reward: number;
}

/** What {@linkcode randomEpisode} runs. */
export interface RandomEpisodeOptions {
  /** Seeds the reset and the action generator. */
  seed: number;
  /** At most this many steps (the environment may end the episode sooner). */
  steps: number;
}

/** One episode of uniformly random actions (`space.sample(new Pcg32(seed))`). */
export function randomEpisode(env: ParallelEnv, options: RandomEpisodeOptions): RenderedEpisode {
  const rng = new Pcg32(options.seed);
  env.reset({ seed: options.seed });
  const scenes = [env.scene()];
  const returns = new Array(env.agents.length).fill(0);
  for (let step = 0; step < options.steps; step++) {
    const result = env.step(env.actionSpaces.map((space) => space.sample(rng)));
    result.rewards.forEach((r, i) => (returns[i] += r));
    scenes.push(env.scene());
    if ([...result.terminations, ...result.truncations].some(Boolean)) break;
  }
  return { scenes, envId: env.id, who: "random", seed: options.seed, reward: mean(returns) };
}

/** What {@linkcode runEpisode} runs. */
export interface RunEpisodeOptions {
  /** `greedy` or `sample`. */
  policy: unknown;
  /** Seed of the reset and of sampling; the run's seed when absent. */
  seed?: number;
  /** Step limit; the run's when absent. */
  steps?: number;
  /** Another run of the same environment whose adversaries play. */
  adversariesFrom?: string;
}

/** One evaluation episode of a trained run's actors in the run's environment. */
export async function runEpisode(
  runDir: string,
  options: RunEpisodeOptions,
): Promise<RenderedEpisode> {
  const policy = parsePolicy(options.policy);
  const scenes: Scene[] = [];
  const result = await evaluate(runDir, {
    episodes: 1,
    policy,
    seed: options.seed,
    maxSteps: options.steps,
    adversariesFrom: options.adversariesFrom,
    onScene: (scene) => scenes.push(scene),
  });
  // evaluate() has checked config.json; read again for the names (defaults filled in).
  const path = `${runDir}/config.json`;
  const record = JSON.parse(await Deno.readTextFile(path));
  const { env: envId, algo } = configFromRecord(record.config, path);
  // Actors brought in by import-torch say so: their algorithm is the config they were given.
  const trained = record.importedFrom ? `${algo} (torch)` : algo;
  const from = options.adversariesFrom?.replace(/\/+$/, "").split("/").pop();
  const who = from === undefined ? trained : `${trained} vs adversaries of ${from}`;
  return { scenes, envId, who, seed: result.seed, reward: result.averageReward };
}

/** The animation's title: `<env> · <algo> · seed N · return R`. */
export function episodeTitle(episode: RenderedEpisode): string {
  const { envId, who, seed, reward } = episode;
  return `${envId} · ${who} · seed ${seed} · return ${reward.toFixed(2)}`;
}

/** Frame options of a `size`-pixel square picture. */
export interface Framing {
  /** The bold first line. */
  title: string;
  /** Font size, pixels: 13 from 400 px up, scaled down with smaller pictures, at least 9. */
  fontSize: number;
  /** The scenes, with the title's second half as their first message if it was split. */
  scenes: Scene[];
}

/**
 * Fits the title to a `size`-pixel picture: the font shrinks with the picture, and a title
 * too wide for it (DejaVu Sans is about 0.6 em a character) is split before `· seed`, the
 * second half becoming the first line under it.
 */
export function frameEpisode(episode: RenderedEpisode, size: number): Framing {
  const title = episodeTitle(episode);
  const fontSize = Math.min(13, Math.max(9, Math.round((13 * size) / 400)));
  const at = title.lastIndexOf(" · seed ");
  if (title.length * 0.6 * fontSize <= size - 12 || at < 0) {
    return { title, fontSize, scenes: episode.scenes };
  }
  const rest = title.slice(at + 3);
  const scenes = episode.scenes.map((scene) => ({ ...scene, messages: [rest, ...scene.messages] }));
  return { title: title.slice(0, at), fontSize, scenes };
}

/** Builds `--env`'s environment; an unknown id or option is a {@linkcode UsageError}. */
function makeRandomEnv(id: string, optionArgs: string[]): ParallelEnv {
  try {
    return makeEnv(id, parseEnvOptionArgs(optionArgs));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** `--out`, or the default; a `UsageError` for an extension that is no animation. */
async function outPath(raw: unknown, fallback: string): Promise<string> {
  const path = (raw as string | undefined) ?? fallback;
  if (!/\.(gif|png|apng)$/i.test(path)) {
    throw new UsageError(`--out must end in .gif, .png or .apng, got ${JSON.stringify(path)}`);
  }
  await checkOutputPath("--out", path, "file");
  return path;
}

type Values = ReturnType<typeof parseFlags>["values"];

function optionalInteger(values: Values, flag: string, allowZero = false): number | undefined {
  const raw = values[flag];
  return raw === undefined ? undefined : integerFlag(`--${flag}`, raw, allowZero);
}

/** The episode the flags ask for, and where it goes. */
async function chooseEpisode(values: Values): Promise<{ episode: RenderedEpisode; out: string }> {
  const runDir = values.run as string | undefined;
  const envId = values.env as string | undefined;
  if ((runDir === undefined) === (envId === undefined)) {
    throw new UsageError("give exactly one of --run DIR and --env ID");
  }
  const seed = optionalInteger(values, "seed", true);
  const steps = optionalInteger(values, "steps");
  if (runDir !== undefined) {
    if (values["env-option"] !== undefined) {
      throw new UsageError("--env-option goes with --env; a run uses its own options");
    }
    const out = await outPath(values.out, `${runDir}/episode.gif`);
    const adversariesFrom = values["adversaries-from"] as string | undefined;
    const episode = await runEpisode(runDir, {
      policy: values.policy,
      seed,
      steps,
      adversariesFrom,
    });
    return { episode, out };
  }
  if (values["adversaries-from"] !== undefined) {
    throw new UsageError(
      "--adversaries-from goes with --run: a random policy has no adversaries to take",
    );
  }
  const policy = values.policy ?? "random";
  if (policy !== "random") {
    throw new UsageError(`--env renders a random policy: --policy must be random, got "${policy}"`);
  }
  const env = makeRandomEnv(envId!, (values["env-option"] as string[] | undefined) ?? []);
  const out = await outPath(values.out, `${envId}.gif`);
  const episode = randomEpisode(env, { seed: seed ?? 0, steps: steps ?? env.maxSteps });
  return { episode, out };
}

/** Parses flags, runs the episode, writes the animation. */
export async function main(args: string[] = Deno.args): Promise<void> {
  const { values } = parseFlags(args, {
    run: { type: "string" },
    env: { type: "string" },
    "env-option": { type: "string", multiple: true },
    "adversaries-from": { type: "string" },
    policy: { type: "string" },
    seed: { type: "string" },
    steps: { type: "string" },
    size: { type: "string" },
    out: { type: "string" },
    help: { type: "boolean" },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const size = optionalInteger(values, "size") ?? DEFAULT_SIZE;
  if (size > MAX_SIZE) {
    throw new UsageError(`--size must be at most ${MAX_SIZE} pixels, got ${size}`);
  }
  const { episode, out } = await chooseEpisode(values);
  await Deno.mkdir(parentOf(out), { recursive: true });
  const { scenes, title, fontSize } = frameEpisode(episode, size);
  await writeAnimation(out, scenes, {
    width: size,
    height: size,
    title,
    fontSize,
    // The grid world's colours are meant as given; MPE's are drawn darker, as MPE2 does.
    ...(episode.envId === "grid_world" ? { shade: 1 } : {}),
  });
  console.log(`Wrote ${out} (${episode.scenes.length} frames)`);
}

if (import.meta.main) await runMain(() => main());
