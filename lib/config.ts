/**
 * The training configuration: one typed record, its defaults (the notebook's
 * hyperparameters), and its mapping onto command-line flags.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { UsageError } from "./errors.ts";
import { ALGORITHM_INFO } from "./agent/algorithms.ts";

/** Algorithms `train` knows. */
export const ALGORITHMS = ["notebook", "maddpg", "matd3", "iddpg"] as const;
/** One of {@linkcode ALGORITHMS}. */
export type Algorithm = typeof ALGORITHMS[number];

/** Everything that defines a training run. */
export interface TrainConfig {
  /**
   * Learning algorithm: "notebook" (the seed notebook's discrete MADDPG), "maddpg"
   * (Gumbel-Softmax MADDPG), "matd3" (MADDPG with TD3's changes), "iddpg" (independent
   * learners, no centralized critic).
   */
  algo: Algorithm;
  /** Seed of the run's random number generator. */
  seed: number;
  /** Number of training episodes. */
  episodes: number;
  /** Maximum steps per episode. */
  maxSteps: number;
  /** Side of the grid world. */
  gridSize: number;
  /** Replay buffer capacity (transitions). */
  bufferSize: number;
  /** Transitions per update batch. */
  batchSize: number;
  /** Discount factor. */
  gamma: number;
  /** Soft-update rate of target networks. */
  tau: number;
  /** Actor learning rate (Adam). */
  actorLr: number;
  /** Critic learning rate (Adam). */
  criticLr: number;
  /** Maximum global gradient norm per network update. */
  gradClip: number;
  /** Exploration rate at the start. */
  epsilonStart: number;
  /** Exploration rate floor. */
  epsilonEnd: number;
  /** Environment steps over which epsilon decays linearly to its floor. */
  epsilonDecay: number;
  /** Environment steps between update intervals. */
  updateEvery: number;
  /** Update rounds per interval. */
  numUpdates: number;
  /** Episodes of the end-of-training test. */
  testEpisodes: number;
  /** Episodes between saves of the whole training state (0: only on a signal). */
  checkpointEvery: number;
  /**
   * Learner threads: 0 runs updates on the main thread, 2 runs one worker per agent (same
   * results), "auto" the fastest the algorithm supports.
   */
  threads: "auto" | 0 | 2;
  /** How non-random training actions are chosen: the actor's "argmax", or a "sample" of its policy. */
  actionSelection: "argmax" | "sample";
  /** Gumbel-Softmax temperature (maddpg, matd3, iddpg). */
  temperature: number;
  /** Straight-through Gumbel-Softmax: one-hot forward, soft gradient (maddpg, matd3, iddpg). */
  hard: boolean;
  /** Weight of the actor's logits penalty c · mean(logits²) (maddpg, matd3, iddpg). */
  logitsRegularization: number;
  /** Critic updates per actor and target update (matd3). */
  policyDelay: number;
  /** Std of the noise on target logits (matd3's target-policy smoothing). */
  targetNoise: number;
  /** Clip of the target-logit noise (matd3). */
  targetNoiseClip: number;
}

/** The notebook's hyperparameters. */
export const DEFAULT_TRAIN_CONFIG = {
  algo: "notebook",
  seed: 42,
  episodes: 200,
  maxSteps: 100,
  gridSize: 5,
  bufferSize: 100_000,
  batchSize: 256,
  gamma: 0.99,
  tau: 1e-3,
  actorLr: 1e-4,
  criticLr: 1e-3,
  gradClip: 1,
  epsilonStart: 1,
  epsilonEnd: 0.05,
  epsilonDecay: 50_000,
  updateEvery: 4,
  numUpdates: 1,
  testEpisodes: 5,
  checkpointEvery: 25,
  threads: "auto",
  actionSelection: "argmax",
  temperature: 1,
  hard: false,
  logitsRegularization: 1e-3,
  policyDelay: 2,
  targetNoise: 0.2,
  targetNoiseClip: 0.5,
} as const satisfies TrainConfig;

/** Fields only some algorithms use: a value other than the default is refused elsewhere. */
export const ALGORITHM_FIELDS: Partial<Record<keyof TrainConfig, readonly Algorithm[]>> = {
  temperature: ["maddpg", "matd3", "iddpg"],
  hard: ["maddpg", "matd3", "iddpg"],
  logitsRegularization: ["maddpg", "matd3", "iddpg"],
  policyDelay: ["matd3"],
  targetNoise: ["matd3"],
  targetNoiseClip: ["matd3"],
};

type Kind =
  | "int+"
  | "int0"
  | "unit"
  | "real+"
  | "real0"
  | "algo"
  | "threads"
  | "bool"
  | "selection";

/** How each field is checked; also the order of `--help`. */
const FIELD_KINDS: Record<keyof TrainConfig, Kind> = {
  algo: "algo",
  seed: "int0",
  episodes: "int+",
  maxSteps: "int+",
  gridSize: "int+",
  bufferSize: "int+",
  batchSize: "int+",
  gamma: "unit",
  tau: "unit",
  actorLr: "real+",
  criticLr: "real+",
  gradClip: "real+",
  epsilonStart: "unit",
  epsilonEnd: "unit",
  epsilonDecay: "int+",
  updateEvery: "int+",
  numUpdates: "int+",
  testEpisodes: "int0",
  checkpointEvery: "int0",
  threads: "threads",
  actionSelection: "selection",
  temperature: "real+",
  hard: "bool",
  logitsRegularization: "real0",
  policyDelay: "int+",
  targetNoise: "real0",
  targetNoiseClip: "real0",
};

const HELP: Record<keyof TrainConfig, string> = {
  algo: `learning algorithm: ${ALGORITHMS.join(", ")}`,
  seed: "seed of the run's random number generator",
  episodes: "number of training episodes",
  maxSteps: "maximum steps per episode",
  gridSize: "side of the grid world (>= 2)",
  bufferSize: "replay buffer capacity",
  batchSize: "transitions per update batch (<= buffer size)",
  gamma: "discount factor",
  tau: "soft-update rate of target networks",
  actorLr: "actor learning rate",
  criticLr: "critic learning rate",
  gradClip: "maximum global gradient norm",
  epsilonStart: "exploration rate at the start",
  epsilonEnd: "exploration rate floor",
  epsilonDecay: "steps over which epsilon decays to its floor",
  updateEvery: "environment steps between updates",
  numUpdates: "update rounds per interval",
  testEpisodes: "episodes of the end-of-training test",
  checkpointEvery: "episodes between saves of the training state (0: on signals only)",
  threads: "learner threads: auto, 0 (main thread) or 2 (one per agent); same results",
  actionSelection: "non-random training actions: argmax or sample (of the actor's policy)",
  temperature: "Gumbel-Softmax temperature (maddpg, matd3, iddpg)",
  hard: "straight-through one-hot Gumbel-Softmax: true or false (maddpg, matd3, iddpg)",
  logitsRegularization: "actor logits penalty weight (maddpg, matd3, iddpg)",
  policyDelay: "critic updates per actor update (matd3)",
  targetNoise: "std of noise on target logits (matd3)",
  targetNoiseClip: "clip of the target-logit noise (matd3)",
};

/** `maxSteps` → `max-steps`. */
export function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
}

/** The config fields, in `--help` order. */
export const CONFIG_FIELDS = Object.keys(FIELD_KINDS) as (keyof TrainConfig)[];

function parseField(
  field: keyof TrainConfig,
  raw: unknown,
  where: string,
): string | number | boolean {
  const kind = FIELD_KINDS[field];
  if (kind === "algo") {
    if (typeof raw !== "string" || !(ALGORITHMS as readonly string[]).includes(raw)) {
      throw new UsageError(
        `${where} must be one of ${ALGORITHMS.join(", ")}, got ${JSON.stringify(raw)}`,
      );
    }
    return raw;
  }
  const value = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : raw;
  if (kind === "threads") {
    if (raw === "auto") return raw;
    if (value !== 0 && value !== 2) {
      throw new UsageError(`${where} must be auto, 0 or 2, got ${JSON.stringify(raw)}`);
    }
    return value;
  }
  if (kind === "bool") {
    if (raw === true || raw === "true") return true;
    if (raw === false || raw === "false") return false;
    throw new UsageError(`${where} must be true or false, got ${JSON.stringify(raw)}`);
  }
  if (kind === "selection") {
    if (raw === "argmax" || raw === "sample") return raw;
    throw new UsageError(`${where} must be argmax or sample, got ${JSON.stringify(raw)}`);
  }
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new UsageError(`${where} must be a number, got ${JSON.stringify(raw)}`);
  }
  const ok = kind === "int+"
    ? Number.isSafeInteger(value) && value > 0
    : kind === "int0"
    ? Number.isSafeInteger(value) && value >= 0
    : kind === "unit"
    ? value >= 0 && value <= 1
    : kind === "real0"
    ? value >= 0
    : value > 0;
  if (!ok) {
    const wanted = {
      "int+": "a positive integer",
      "int0": "a non-negative integer",
      "unit": "a number in [0, 1]",
      "real+": "a positive number",
      "real0": "a non-negative number",
    }[kind as "int+" | "int0" | "unit" | "real+" | "real0"];
    throw new UsageError(`${where} must be ${wanted}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** Checks relations between fields of a complete config. */
export function validateConfig(config: TrainConfig): TrainConfig {
  if (config.batchSize > config.bufferSize) {
    throw new UsageError(
      `--batch-size ${config.batchSize} is larger than --buffer-size ${config.bufferSize}`,
    );
  }
  if (config.gridSize < 2) throw new UsageError(`--grid-size must be >= 2, got ${config.gridSize}`);
  for (const [field, algorithms] of Object.entries(ALGORITHM_FIELDS)) {
    const key = field as keyof TrainConfig;
    if (config[key] !== DEFAULT_TRAIN_CONFIG[key] && !algorithms.includes(config.algo)) {
      throw new UsageError(
        `--${kebab(key)} applies to ${algorithms.join(", ")}, not to --algo ${config.algo}`,
      );
    }
  }
  if (config.threads === 2 && !ALGORITHM_INFO[config.algo].parallel) {
    throw new UsageError(`--algo ${config.algo} has no parallel learner: use --threads 0 or auto`);
  }
  if (config.epsilonEnd > config.epsilonStart) {
    throw new UsageError(
      `--epsilon-end ${config.epsilonEnd} is above --epsilon-start ${config.epsilonStart}`,
    );
  }
  return config;
}

/**
 * Reads a config record (e.g. a run's `config.json`): every key must be a known field of
 * the right type; missing fields take their defaults.
 */
export function configFromRecord(record: unknown, source: string): TrainConfig {
  if (typeof record !== "object" || record === null || Array.isArray(record)) {
    throw new UsageError(`${source} must hold a JSON object`);
  }
  const config: Record<string, unknown> = { ...DEFAULT_TRAIN_CONFIG };
  for (const [key, raw] of Object.entries(record)) {
    if (!(key in FIELD_KINDS)) throw new UsageError(`${source}: unknown config field "${key}"`);
    config[key] = parseField(key as keyof TrainConfig, raw, `${source}: field "${key}"`);
  }
  return validateConfig(config as unknown as TrainConfig);
}

/** Flags of `train` that are not config fields. */
export interface TrainFlags {
  /** The config of the flags over the defaults (see {@linkcode resolveConfig} for --config, --resume). */
  config: TrainConfig;
  /** The config fields given as flags. */
  explicit: Partial<TrainConfig>;
  /** `--config FILE`. */
  configFile?: string;
  /** `--resume DIR`. */
  resume?: string;
  /** `--out DIR`, if given. */
  out?: string;
  /** `--force`: allow writing into an `--out` that already holds results. */
  force: boolean;
  /** `--help`. */
  help: boolean;
  /** `--quiet`: no progress output. */
  quiet: boolean;
  /** `--seeds 0,1,2`: one run per seed (then `config.seed` is unused). */
  seeds?: number[];
  /** `--workers N`: runs of `--seeds` at once, as separate processes. */
  workers: number;
}

/** Parses `--seeds` ("0,1,2" or a range "0-4"): distinct non-negative integers. */
export function parseSeeds(raw: string): number[] {
  const range = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(raw);
  const seeds = range
    ? Array.from(
      { length: Math.max(0, Number(range[2]) - Number(range[1]) + 1) },
      (_, k) => Number(range[1]) + k,
    )
    : raw.split(",").map((part) => (part.trim() === "" ? NaN : Number(part)));
  if (seeds.length === 0 || seeds.some((seed) => !Number.isSafeInteger(seed) || seed < 0)) {
    throw new UsageError(
      `--seeds must list non-negative integers (0,1,2 or 0-4), got ${JSON.stringify(raw)}`,
    );
  }
  if (new Set(seeds).size !== seeds.length) {
    throw new UsageError(`--seeds lists a seed twice: ${JSON.stringify(raw)}`);
  }
  return seeds;
}

/** Parses `train`'s command line into a validated config. */
export function parseTrainArgs(args: string[]): TrainFlags {
  const options: Record<string, { type: "string" | "boolean" }> = {
    out: { type: "string" },
    force: { type: "boolean" },
    help: { type: "boolean" },
    quiet: { type: "boolean" },
    seeds: { type: "string" },
    workers: { type: "string" },
    config: { type: "string" },
    resume: { type: "string" },
  };
  for (const field of CONFIG_FIELDS) options[kebab(field)] = { type: "string" };
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args, options, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new UsageError((error as Error).message.split("\n")[0]);
  }
  const explicit: Record<string, unknown> = {};
  for (const field of CONFIG_FIELDS) {
    const raw = values[kebab(field)];
    if (raw !== undefined) explicit[field] = parseField(field, raw, `--${kebab(field)}`);
  }
  const config = { ...DEFAULT_TRAIN_CONFIG, ...explicit };
  if (values.resume !== undefined && values.config !== undefined) {
    throw new UsageError("--resume takes the run's own config: drop --config");
  }
  if (values.out !== undefined && values.out === "") {
    throw new UsageError(`--out must name a directory`);
  }
  return {
    config: values.config === undefined && values.resume === undefined
      ? validateConfig(config as unknown as TrainConfig)
      : config as unknown as TrainConfig,
    explicit: explicit as Partial<TrainConfig>,
    configFile: values.config as string | undefined,
    resume: values.resume as string | undefined,
    out: values.out as string | undefined,
    force: values.force === true,
    help: values.help === true,
    quiet: values.quiet === true,
    seeds: values.seeds === undefined ? undefined : parseSeeds(values.seeds as string),
    workers: values.workers === undefined
      ? navigator.hardwareConcurrency
      : parseField("episodes", values.workers, "--workers") as number,
  };
}

/** `--help` text of `train`. */
export function trainHelp(): string {
  const lines = [
    "Usage: deno task train [flags]",
    "",
    "Trains MADDPG agents on the 2-agent grid world and writes results/<run>/.",
    "",
    "Flags (default in brackets):",
  ];
  for (const field of CONFIG_FIELDS) {
    const flag = `--${kebab(field)}`.padEnd(24);
    lines.push(`  ${flag} ${HELP[field]} [${DEFAULT_TRAIN_CONFIG[field]}]`);
  }
  lines.push(
    `  ${"--out DIR".padEnd(24)} results directory [results/<algo>-seed<seed>, next free suffix]`,
    `  ${"--force".padEnd(24)} write into an --out that already holds results`,
    `  ${"--config FILE".padEnd(24)} start from a config file (configs/*.json); flags override it`,
    `  ${"--resume DIR".padEnd(24)} continue an interrupted run from its last saved state`,
    `  ${"--seeds LIST".padEnd(24)} one run per seed (0,1,2 or 0-4) into <out>/seed_<n>/`,
    `  ${"--workers N".padEnd(24)} runs of --seeds at once, in separate processes [cores]`,
    `  ${"--quiet".padEnd(24)} no progress output`,
    `  ${"--help".padEnd(24)} this text`,
  );
  return lines.join("\n");
}

/** Fields a resumed run may change: they do not alter what it learns. */
export const RESUMABLE_FIELDS: readonly (keyof TrainConfig)[] = [
  "episodes",
  "threads",
  "checkpointEvery",
];

async function readConfigRecord(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    throw new UsageError(`Cannot read ${path}${what}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`${path} is not valid JSON`);
  }
}

/**
 * The config a `train` command line means: with `--config FILE`, the file's fields (unknown
 * keys and wrong types refused) under the flags; with `--resume DIR`, the run's saved
 * config, where flags may change only {@linkcode RESUMABLE_FIELDS}.
 */
export async function resolveConfig(flags: TrainFlags): Promise<TrainConfig> {
  if (flags.configFile !== undefined) {
    const base = configFromRecord(await readConfigRecord(flags.configFile, ""), flags.configFile);
    return validateConfig({ ...base, ...flags.explicit });
  }
  if (flags.resume === undefined) return flags.config;
  const path = `${flags.resume}/config.json`;
  const record = await readConfigRecord(path, ": not a run directory written by train");
  const saved = configFromRecord((record as { config?: unknown })?.config, path);
  for (const [field, value] of Object.entries(flags.explicit)) {
    const key = field as keyof TrainConfig;
    if (!RESUMABLE_FIELDS.includes(key) && value !== saved[key]) {
      throw new UsageError(
        `--${kebab(key)} ${value} differs from the run's ${
          saved[key]
        }: a resumed run keeps its config (only ${
          RESUMABLE_FIELDS.map((f) => `--${kebab(f)}`).join(", ")
        } may change)`,
      );
    }
  }
  return validateConfig({ ...saved, ...flags.explicit });
}
