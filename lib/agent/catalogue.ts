/**
 * Every algorithm of `--algo`, by name, and the checks derived from their declarations: an
 * environment or a config field an algorithm does not support is refused here, with the
 * reason.
 *
 * @module
 */
import { flagOf } from "../config_fields.ts";
import type { AlgorithmName, ConfigField, TrainConfig } from "../config_fields.ts";
import type { Pcg32 } from "../rng.ts";
import type {
  AgentShape,
  AlgorithmInstance,
  AlgorithmSpec,
  AlgorithmSupport,
} from "./algorithm.ts";
import { IDDPG } from "./iddpg.ts";
import { MADDPG } from "./maddpg.ts";
import { MATD3 } from "./matd3.ts";
import { NOTEBOOK } from "./notebook.ts";

/** The algorithms, by `--algo` name. */
export const ALGORITHMS: Readonly<Record<AlgorithmName, AlgorithmSpec>> = {
  notebook: NOTEBOOK,
  maddpg: MADDPG,
  matd3: MATD3,
  iddpg: IDDPG,
};

/** Fields that a capability allows rather than the fields list: teams of two algorithms. */
const CAPABILITY_FIELDS: Partial<Record<ConfigField, keyof AlgorithmSupport>> = {
  adversaryAlgo: "mixedTeams",
};

/** Fields some algorithm declares: each is refused by the algorithms that do not. */
export const ALGORITHM_FIELDS: ReadonlySet<ConfigField> = new Set([
  ...Object.values(ALGORITHMS).flatMap((spec) => spec.fields),
  ...Object.keys(CAPABILITY_FIELDS) as ConfigField[],
]);

/** Whether `spec` uses `field`, by its fields list or its capabilities. */
function uses(spec: AlgorithmSpec, field: ConfigField): boolean {
  const capability = CAPABILITY_FIELDS[field];
  return capability ? spec.supports[capability] : spec.fields.includes(field);
}

/** The algorithms that use `field` (every algorithm for the common fields). */
export function algorithmsUsing(field: ConfigField): AlgorithmName[] {
  const all = Object.values(ALGORITHMS);
  if (!ALGORITHM_FIELDS.has(field)) return all.map((spec) => spec.name);
  return all.filter((spec) => uses(spec, field)).map((spec) => spec.name);
}

/**
 * Why `spec` cannot run with `config`'s explicitly given fields, or undefined. A field an
 * algorithm does not use may not be given at all.
 */
export function unusedFieldError(
  spec: AlgorithmSpec,
  given: Iterable<ConfigField>,
): string | undefined {
  for (const field of given) {
    if (ALGORITHM_FIELDS.has(field) && !uses(spec, field)) {
      return `${flagOf(field)} applies to ${
        algorithmsUsing(field).join(", ")
      }, not to --algo ${spec.name}`;
    }
  }
  return undefined;
}

/** Why `spec` cannot train agents of these shapes, or undefined. */
export function agentsError(
  spec: AlgorithmSpec,
  env: { id: string; agents: readonly string[] },
  shapes: readonly AgentShape[],
): string | undefined {
  for (let i = 0; i < shapes.length; i++) {
    const kind = shapes[i].actionKind;
    if (!spec.supports[kind]) {
      return `--algo ${spec.name} does not support ${kind} actions (${env.id}: ${env.agents[i]})`;
    }
  }
  const first = shapes[0];
  const mixed = shapes.some((s) =>
    s.observationSize !== first.observationSize || s.actionSize !== first.actionSize
  );
  if (mixed && !spec.supports.heterogeneous) {
    return `--algo ${spec.name} needs agents of one size; ${env.id}'s differ`;
  }
  return undefined;
}

/** Builds `config.algo`'s networks for agents of these shapes. */
export function createAlgorithm(
  config: TrainConfig,
  agents: readonly AgentShape[],
  rng: Pcg32,
): AlgorithmInstance {
  return ALGORITHMS[config.algo].create({ agents, config }, rng);
}
