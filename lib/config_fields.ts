/**
 * Every field of a training run's config, described once: its kind (which fixes parsing and
 * range checks), default, help text, and whether changing it on `--resume` would change the
 * experiment. Flags, `--help`, validation, `--config` files, resume checks and `config.json`
 * are all derived from {@linkcode CONFIG_FIELDS}; which algorithms use a field is declared by
 * the algorithms (`lib/agent/`).
 *
 * @module
 */
import { UsageError } from "./errors.ts";
import { ALGORITHM_NAMES } from "./agent/algorithm_names.ts";
import { WEIGHT_INITS } from "./nn/mlp.ts";
import { BOX_OUTPUTS } from "./agent/_action_heads.ts";

/** A field's value kind: how a flag or a JSON value is parsed and checked. */
export type FieldKind =
  | "int+" // a positive integer
  | "int0" // a non-negative integer
  | "unit" // a number in [0, 1]
  | "real+" // a positive number
  | "real0" // a non-negative number
  | "bool"
  | "choice" // one of `choices`
  | "layers" // hidden layer widths, "128,128" (empty: none)
  | "name" // a non-empty identifier (an environment id)
  | "options"; // KEY=VALUE pairs (repeatable flag), a JSON object in files

/** One field's description. */
export interface FieldSpec<T> {
  /** How values are parsed and checked. */
  kind: FieldKind;
  /** Value when not given. */
  default: T;
  /** One line for `--help`. */
  help: string;
  /** Allowed values of a `choice` field. */
  choices?: readonly string[];
  /** False for fields a resumed run may change (they do not change what it learns). */
  experiment: boolean;
}

/** A field that is part of the experiment. */
function field<T>(kind: FieldKind, value: T, help: string): FieldSpec<T> {
  return { kind, default: value, help, experiment: true };
}

/** A field a resumed run may change: where and how it runs, not what it learns. */
function runField<T>(kind: FieldKind, value: T, help: string): FieldSpec<T> {
  return { kind, default: value, help, experiment: false };
}

function choice<const C extends readonly string[]>(
  choices: C,
  value: C[number],
  help: string,
): FieldSpec<C[number]> {
  return { kind: "choice", default: value, help, choices, experiment: true };
}

/** The fields, in `--help` order; defaults are the seed notebook's hyperparameters. */
export const CONFIG_FIELDS = {
  algo: choice(ALGORITHM_NAMES, "notebook", "learning algorithm"),
  env: field("name", "grid_world", "environment id (listed under Environments in --help)"),
  envOptions: field<Record<string, string>>(
    "options",
    {},
    "environment option KEY=VALUE (repeatable; MPE2 names accepted)",
  ),
  seed: field("int0", 42 as number, "seed of the run's random number generator"),
  episodes: runField("int+", 200 as number, "number of training episodes"),
  maxSteps: field("int+", 100 as number, "maximum steps per episode"),
  gridSize: field("int+", 5 as number, "side of the grid world (>= 2; grid_world only)"),
  bufferSize: field("int+", 100_000 as number, "replay buffer capacity (transitions)"),
  batchSize: field("int+", 256 as number, "transitions per update batch (<= buffer size)"),
  gamma: field("unit", 0.99 as number, "discount factor"),
  tau: field("unit", 1e-3 as number, "soft-update rate of target networks"),
  actorLr: field("real+", 1e-4 as number, "actor learning rate (Adam)"),
  criticLr: field("real+", 1e-3 as number, "critic learning rate (Adam)"),
  lrDecayUpdates: field(
    "int0",
    0 as number,
    "updates over which each network's learning rate falls linearly to --lr-end-factor of itself (torch's LinearLR; 0: constant)",
  ),
  lrEndFactor: field(
    "unit",
    0.1 as number,
    "the factor learning rates end at (--lr-decay-updates)",
  ),
  gradClip: field("real+", 1 as number, "maximum global gradient norm per network update"),
  actorHidden: field<number[]>("layers", [128, 128], "hidden layer widths of every actor"),
  criticHidden: field<number[]>("layers", [256, 256], "hidden layer widths of every critic"),
  epsilonStart: field("unit", 1 as number, "exploration rate at the start"),
  epsilonEnd: field("unit", 0.05 as number, "exploration rate floor"),
  epsilonDecay: field("int+", 50_000 as number, "steps over which epsilon decays to its floor"),
  updateEvery: field("int+", 4 as number, "environment steps between update intervals"),
  warmupSteps: field("int0", 0 as number, "environment steps before the first update"),
  numUpdates: field("int+", 1 as number, "update rounds per interval"),
  testEpisodes: field("int0", 5 as number, "episodes of the end-of-training tests"),
  checkpointEvery: runField(
    "int0",
    25 as number,
    "episodes between saves of the training state (0: on signals only)",
  ),
  actionSelection: choice(
    ["argmax", "sample"] as const,
    "argmax",
    "non-random training actions: the actor's argmax or a sample of its policy",
  ),
  actionNoise: field("real0", 0.1 as number, "std of the Gaussian noise on continuous actions"),
  actionNoiseEnd: field("real0", 0.1 as number, "floor of that std"),
  actionNoiseDecay: field("int+", 500_000 as number, "steps over which it decays to the floor"),
  actionNoiseAfterWarmup: field(
    "bool",
    false as boolean,
    "start that decay after the warm-up steps (as maddpg-zoo-torch) instead of at the first step",
  ),
  actorOutput: choice(
    BOX_OUTPUTS,
    "sigmoid",
    "bounded output of continuous actors: a sigmoid, or a tanh rescaled to the box",
  ),
  weightInit: choice(
    WEIGHT_INITS,
    "torch",
    "initial weights: torch (nn.Linear's uniform) or ddpg (Kaiming-normal, output layer ±3e-3)",
  ),
  actorGradClip: field(
    "real0",
    0 as number,
    "maximum global gradient norm of actor updates (0: the --grad-clip value)",
  ),
  batchPerAgent: field(
    "bool",
    false as boolean,
    "draw a replay batch for each agent's update (as maddpg-zoo-torch) instead of one per round",
  ),
  shareActors: field(
    "bool",
    false as boolean,
    "one actor for the agents of the same spaces, team and algorithm, stepped with their mean gradient",
  ),
  fusedMultiplyAdd: field(
    "bool",
    false as boolean,
    "sum the networks' products with fused multiply-adds (relaxed SIMD): faster, not bit-identical to the exact default",
  ),
  adversaryAlgo: choice(
    ["same", "maddpg", "iddpg", "ddpg"] as const,
    "same",
    "algorithm of the adversaries' team (adversary_*, eve_0): same (as --algo), maddpg, or iddpg (ddpg)",
  ),
  temperature: field("real+", 1 as number, "Gumbel-Softmax temperature"),
  hard: field("bool", false as boolean, "straight-through one-hot Gumbel-Softmax"),
  logitsRegularization: field("real0", 1e-3 as number, "actor logits penalty weight"),
  policyDelay: field("int+", 2 as number, "critic updates per actor and target update"),
  targetNoise: field("real0", 0.2 as number, "std of the noise on target logits"),
  targetNoiseClip: field("real0", 0.5 as number, "clip of the target-logit noise"),
} as const;

/** Name of a config field. */
export type ConfigField = keyof typeof CONFIG_FIELDS;

/** Everything that defines a training run: one value per {@linkcode CONFIG_FIELDS} entry. */
export type TrainConfig = {
  -readonly [K in ConfigField]: (typeof CONFIG_FIELDS)[K]["default"];
};

/** One of the algorithms `--algo` offers. */
export type AlgorithmName = TrainConfig["algo"];

/** The defaults of every field: the seed notebook's experiment. */
export const DEFAULT_TRAIN_CONFIG: Readonly<TrainConfig> = Object.freeze(
  Object.fromEntries(
    Object.entries(CONFIG_FIELDS).map(([name, spec]) => [name, spec.default]),
  ) as TrainConfig,
);

/** The field names, in `--help` order. */
export const FIELD_NAMES = Object.keys(CONFIG_FIELDS) as ConfigField[];

/**
 * `maxSteps` → `max-steps`.
 *
 * @example
 * ```ts
 * import { kebab } from "./config_fields.ts";
 * import assert from "node:assert/strict";
 * assert.equal(kebab("envOptions"), "env-options");
 * ```
 */
export function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
}

/** The flag of a field (`envOptions` is given one at a time as `--env-option`). */
export function flagOf(name: ConfigField): string {
  return name === "envOptions" ? "--env-option" : `--${kebab(name)}`;
}

/** A field's value as the text of its flag (`[128, 128]` → `128,128`). */
export function formatValue(name: ConfigField, value: unknown): string {
  if (CONFIG_FIELDS[name].kind === "options") {
    return Object.entries(value as Record<string, string>).map(([k, v]) => `${k}=${v}`).join(" ");
  }
  return Array.isArray(value) ? value.join(",") : String(value);
}

const WANTED: Record<string, string> = {
  "int+": "a positive integer",
  "int0": "a non-negative integer",
  "unit": "a number in [0, 1]",
  "real+": "a positive number",
  "real0": "a non-negative number",
};

/**
 * Parses one field's value from a flag's text or a JSON value, naming `where` in the error.
 *
 * @example
 * ```ts
 * import { parseFieldValue } from "./config_fields.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseFieldValue("actorHidden", "64,64", "--actor-hidden"), [64, 64]);
 * assert.throws(() => parseFieldValue("gamma", "1.5", "--gamma"), /--gamma must be a number in \[0, 1\], got "1.5"/);
 * ```
 */
export function parseFieldValue(name: ConfigField, raw: unknown, where: string): unknown {
  const spec: FieldSpec<unknown> = CONFIG_FIELDS[name];
  const bad = (wanted: string) =>
    new UsageError(`${where} must be ${wanted}, got ${JSON.stringify(raw)}`);
  switch (spec.kind) {
    case "choice":
      if (typeof raw !== "string" || !spec.choices!.includes(raw)) {
        throw bad(`one of ${spec.choices!.join(", ")}`);
      }
      return raw;
    case "bool":
      if (raw === true || raw === "true") return true;
      if (raw === false || raw === "false") return false;
      throw bad("true or false");
    case "name":
      if (typeof raw !== "string" || !/^[A-Za-z][A-Za-z0-9_]*$/.test(raw)) throw bad("a name");
      return raw;
    case "layers":
      return parseLayers(raw, bad);
    case "options":
      return parseOptions(raw, bad);
  }
  const value = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : raw;
  if (typeof value !== "number" || !Number.isFinite(value)) throw bad("a number");
  const ok = spec.kind === "int+"
    ? Number.isSafeInteger(value) && value > 0
    : spec.kind === "int0"
    ? Number.isSafeInteger(value) && value >= 0
    : spec.kind === "unit"
    ? value >= 0 && value <= 1
    : spec.kind === "real0"
    ? value >= 0
    : value > 0;
  if (!ok) throw bad(WANTED[spec.kind]);
  return value;
}

function parseLayers(raw: unknown, bad: (wanted: string) => Error): number[] {
  const parts = Array.isArray(raw)
    ? raw
    : typeof raw === "string"
    ? (raw.trim() === "" ? [] : raw.split(",").map((part) => Number(part.trim())))
    : undefined;
  if (!parts || parts.some((w) => !Number.isSafeInteger(w) || w < 1 || w > 65536)) {
    throw bad("comma-separated layer widths (positive integers)");
  }
  return parts as number[];
}

function parseOptions(raw: unknown, bad: (wanted: string) => Error): Record<string, string> {
  const pairs = typeof raw === "string" ? [raw] : Array.isArray(raw) ? raw : undefined;
  const out: Record<string, string> = {};
  if (pairs) {
    for (const pair of pairs) {
      const match = typeof pair === "string" ? /^([A-Za-z_][A-Za-z0-9_]*)=(.+)$/.exec(pair) : null;
      if (!match) throw bad("KEY=VALUE");
      out[match[1]] = match[2];
    }
    return out;
  }
  if (typeof raw !== "object" || raw === null) throw bad("an object of environment options");
  for (const [key, value] of Object.entries(raw)) {
    if (!["string", "number", "boolean"].includes(typeof value)) {
      throw bad("an object of environment options");
    }
    out[key] = String(value);
  }
  return out;
}
