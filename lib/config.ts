/**
 * The training config from the command line, a `--config` file or a run's `config.json`:
 * parsing, validation and `--help`, all derived from the field descriptions in
 * `config_fields.ts` and the algorithms' declarations in `agent/catalogue.ts`.
 *
 * @module
 */
import { ALGORITHMS, algorithmsUsing, unusedFieldError } from "./agent/catalogue.ts";
import { parseFlags } from "./cli.ts";
import type { FlagSpec } from "./cli.ts";
import {
  CONFIG_FIELDS,
  DEFAULT_TRAIN_CONFIG,
  FIELD_NAMES,
  flagOf,
  formatValue,
  parseFieldValue,
} from "./config_fields.ts";
import type { ConfigField, TrainConfig } from "./config_fields.ts";
import "./env/builtin.ts";
import { envEntry, envIds, envOptionName, resolveEnvOptions } from "./env/registry.ts";
import { UsageError } from "./errors.ts";

export { DEFAULT_TRAIN_CONFIG, FIELD_NAMES, kebab } from "./config_fields.ts";
export type { AlgorithmName, ConfigField, TrainConfig } from "./config_fields.ts";

/** Fields recorded by older versions that are no longer part of a config (ignored on read). */
const RETIRED_FIELDS = new Set(["threads"]);

/**
 * Checks a complete config: ranges between fields, the environment and its options, and
 * the fields given explicitly (`given`) that the algorithm does not use.
 */
export function validateConfig(
  config: TrainConfig,
  given: Iterable<ConfigField> = [],
): TrainConfig {
  if (config.batchSize > config.bufferSize) {
    throw new UsageError(
      `--batch-size ${config.batchSize} is larger than --buffer-size ${config.bufferSize}`,
    );
  }
  if (config.gridSize < 2) throw new UsageError(`--grid-size must be >= 2, got ${config.gridSize}`);
  if (config.epsilonEnd > config.epsilonStart) {
    throw new UsageError(
      `--epsilon-end ${config.epsilonEnd} is above --epsilon-start ${config.epsilonStart}`,
    );
  }
  const unused = unusedFieldError(ALGORITHMS[config.algo], given);
  if (unused) throw new UsageError(unused);
  try {
    envEntry(config.env);
    resolveEnvOptions(config.env, config.envOptions);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (config.env !== "grid_world" && config.gridSize !== DEFAULT_TRAIN_CONFIG.gridSize) {
    throw new UsageError(`--grid-size applies to --env grid_world, not to ${config.env}`);
  }
  if (config.env === "grid_world") {
    // The grid world's two options are fields of the run's config: one place for each.
    const fields: Record<string, string> = { size: "--grid-size", maxSteps: "--max-steps" };
    for (const key of Object.keys(config.envOptions)) {
      const flag = fields[envOptionName(config.env, key) ?? ""];
      if (flag) throw new UsageError(`--env-option ${key} of grid_world is set with ${flag}`);
    }
  }
  return config;
}

/**
 * Reads a config record (a run's `config.json` or a `--config` file): every key must be a
 * known field of the right type; missing fields take their defaults. Returns the config and
 * the fields the record gives.
 */
export function readConfigRecord(
  record: unknown,
  source: string,
): { config: TrainConfig; given: ConfigField[] } {
  if (typeof record !== "object" || record === null || Array.isArray(record)) {
    throw new UsageError(`${source} must hold a JSON object`);
  }
  const config: Record<string, unknown> = { ...DEFAULT_TRAIN_CONFIG };
  const given: ConfigField[] = [];
  for (const [key, raw] of Object.entries(record)) {
    if (RETIRED_FIELDS.has(key)) continue;
    if (!(key in CONFIG_FIELDS)) throw new UsageError(`${source}: unknown config field "${key}"`);
    const name = key as ConfigField;
    config[name] = parseFieldValue(name, raw, `${source}: field "${key}"`);
    if (JSON.stringify(config[name]) !== JSON.stringify(DEFAULT_TRAIN_CONFIG[name])) {
      given.push(name);
    }
  }
  return { config: config as TrainConfig, given };
}

/** {@linkcode readConfigRecord}, validated. */
export function configFromRecord(record: unknown, source: string): TrainConfig {
  const { config, given } = readConfigRecord(record, source);
  return validateConfig(config, given);
}

/** The fields of `config` that define the experiment (see `FieldSpec.experiment`). */
export function experimentFields(config: TrainConfig): Partial<TrainConfig> {
  return Object.fromEntries(
    FIELD_NAMES.filter((name) => CONFIG_FIELDS[name].experiment).map((name) => [
      name,
      config[name],
    ]),
  ) as Partial<TrainConfig>;
}

/** Flags of `train` that are not config fields. */
export interface TrainFlags {
  /** The config of the flags over the defaults (see {@linkcode resolveConfig}). */
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
  /** `--threads`: learner threads (`auto`, 0, 1 or 2); results are identical. */
  threads: LearnerThreads;
}

/**
 * Learner threads: 0 (the main thread alone), 1 (the main thread and a helper thread for
 * the large matrix products), 2 (one worker per agent) or `auto`.
 */
export type LearnerThreads = "auto" | 0 | 1 | 2;

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

function parseThreads(raw: unknown): LearnerThreads {
  if (raw === undefined || raw === "auto") return "auto";
  if (raw === "0" || raw === "1" || raw === "2") return Number(raw) as 0 | 1 | 2;
  throw new UsageError(`--threads must be auto, 0, 1 or 2, got ${JSON.stringify(raw)}`);
}

const RUN_FLAGS: Record<string, FlagSpec> = {
  out: { type: "string" },
  force: { type: "boolean" },
  help: { type: "boolean" },
  quiet: { type: "boolean" },
  seeds: { type: "string" },
  workers: { type: "string" },
  config: { type: "string" },
  resume: { type: "string" },
  threads: { type: "string" },
};

/**
 * `args` with every true/false field given as a bare switch (`--hard`, followed by another flag
 * or by nothing) written out as `--hard=true`; `--hard true|false` and `--hard=false` pass as
 * they are.
 *
 * @example
 * ```ts
 * import { expandSwitches } from "./config.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(
 *   expandSwitches(["--hard", "--seed", "1", "--batch-per-agent"]),
 *   ["--hard=true", "--seed", "1", "--batch-per-agent=true"],
 * );
 * assert.deepEqual(expandSwitches(["--hard", "false"]), ["--hard", "false"]);
 * ```
 */
export function expandSwitches(args: readonly string[]): string[] {
  const switches = new Set(
    FIELD_NAMES.filter((name) => CONFIG_FIELDS[name].kind === "bool").map(flagOf),
  );
  return args.map((arg, i) => {
    const next = args[i + 1];
    const bare = next === undefined || next.startsWith("--");
    return switches.has(arg) && bare ? `${arg}=true` : arg;
  });
}

/** Parses `train`'s command line into a validated config. */
export function parseTrainArgs(args: string[]): TrainFlags {
  const options: Record<string, FlagSpec> = { ...RUN_FLAGS };
  for (const name of FIELD_NAMES) {
    options[flagOf(name).slice(2)] = { type: "string", multiple: name === "envOptions" };
  }
  const { values } = parseFlags(expandSwitches(args), options);
  const explicit: Record<string, unknown> = {};
  for (const name of FIELD_NAMES) {
    const raw = values[flagOf(name).slice(2)];
    if (raw !== undefined) explicit[name] = parseFieldValue(name, raw, flagOf(name));
  }
  const config = { ...DEFAULT_TRAIN_CONFIG, ...explicit } as TrainConfig;
  if (values.resume !== undefined && values.config !== undefined) {
    throw new UsageError("--resume takes the run's own config: drop --config");
  }
  if (values.resume !== undefined && values.seeds !== undefined) {
    throw new UsageError(`--resume continues one run: drop --seeds ${values.seeds}`);
  }
  if (values.out !== undefined && values.out === "") {
    throw new UsageError(`--out must name a directory`);
  }
  const fromFile = values.config !== undefined || values.resume !== undefined;
  return {
    config: fromFile ? config : validateConfig(config, Object.keys(explicit) as ConfigField[]),
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
      : parseFieldValue("episodes", values.workers, "--workers") as number,
    threads: parseThreads(values.threads),
  };
}

/** The flags that reproduce `config`: every field that differs from its default, but `omit`. */
export function configArgs(config: TrainConfig, omit: readonly ConfigField[] = []): string[] {
  const differs = (name: ConfigField) =>
    JSON.stringify(config[name]) !== JSON.stringify(DEFAULT_TRAIN_CONFIG[name]);
  return FIELD_NAMES.filter((name) => !omit.includes(name) && differs(name)).flatMap((name) => {
    if (name === "envOptions") {
      return Object.entries(config.envOptions).flatMap(([k, v]) => ["--env-option", `${k}=${v}`]);
    }
    return [flagOf(name), formatValue(name, config[name])];
  });
}

/** `--help` text of `train`. */
export function trainHelp(): string {
  const lines = [
    "Usage: deno task train [flags]",
    "",
    "Trains agents on an environment (the seed notebook's grid world by default) and writes",
    "results/<run>/.",
    "",
    "Flags (default in brackets):",
  ];
  const all = Object.keys(ALGORITHMS).length;
  for (const name of FIELD_NAMES) {
    const spec = CONFIG_FIELDS[name];
    const users = algorithmsUsing(name);
    const only = users.length < all ? ` (${users.join(", ")})` : "";
    const choices = spec.kind === "choice" ? `: ${CONFIG_FIELDS[name].choices!.join(", ")}` : "";
    const value = formatValue(name, DEFAULT_TRAIN_CONFIG[name]);
    lines.push(`  ${flagOf(name).padEnd(24)} ${spec.help}${choices}${only} [${value}]`);
  }
  lines.push(
    `  ${
      "--threads".padEnd(24)
    } learner threads: 0 (main thread), 1 (plus a helper for large products), 2 (one per agent), auto (2 if agents <= cores, else 1 if 2+ cores); same results [auto]`,
    `  ${"--out DIR".padEnd(24)} results directory [results/<algo>-seed<seed>, next free suffix]`,
    `  ${"--force".padEnd(24)} write into an --out that already holds results`,
    `  ${"--config FILE".padEnd(24)} start from a config file (configs/*.json); flags override it`,
    `  ${"--resume DIR".padEnd(24)} continue an interrupted run from its last saved state`,
    `  ${"--seeds LIST".padEnd(24)} one run per seed (0,1,2 or 0-4) into <out>/seed_<n>/`,
    `  ${"--workers N".padEnd(24)} runs of --seeds at once, in separate processes [cores]`,
    `  ${"--quiet".padEnd(24)} no progress output`,
    `  ${"--help".padEnd(24)} this text`,
    "",
    `Environments: ${envIds().join(", ")}`,
  );
  return lines.join("\n");
}

/** The JSON in `path`; a missing file is a one-line error ending in `what`. */
export async function readJson(path: string, what: string): Promise<unknown> {
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
 * config, where flags may change only fields that are not part of the experiment.
 */
export async function resolveConfig(flags: TrainFlags): Promise<TrainConfig> {
  const given = Object.keys(flags.explicit) as ConfigField[];
  if (flags.configFile !== undefined) {
    const file = readConfigRecord(await readJson(flags.configFile, ""), flags.configFile);
    const merged = { ...file.config, ...flags.explicit };
    return validateConfig(merged, new Set([...file.given, ...given]));
  }
  if (flags.resume === undefined) return flags.config;
  const path = `${flags.resume}/config.json`;
  const record = await readJson(path, ": not a run directory written by train");
  const saved = configFromRecord((record as { config?: unknown })?.config, path);
  for (const name of given) {
    const value = flags.explicit[name];
    if (CONFIG_FIELDS[name].experiment && JSON.stringify(value) !== JSON.stringify(saved[name])) {
      const changeable = FIELD_NAMES.filter((n) => !CONFIG_FIELDS[n].experiment).map(flagOf);
      throw new UsageError(
        `${flagOf(name)} ${formatValue(name, value)} differs from the run's ${
          formatValue(name, saved[name])
        }: a resumed run keeps its config (of its fields only ${changeable.join(", ")} may change)`,
      );
    }
  }
  return validateConfig({ ...saved, ...flags.explicit });
}
