/**
 * The options every particle world shares (MPE2's `max_cycles`, `continuous_actions`,
 * `benchmark_data`) as registry option specs, and a helper that builds the environment.
 *
 * @module
 */
import type { EnvOptionSpec } from "../registry.ts";
import { MpeEnv } from "./simple_env.ts";
import type { World } from "./core.ts";
import type { Scenario } from "./scenario.ts";

/** The values of {@linkcode COMMON_OPTIONS}. */
export type CommonMpeOptions = {
  /** Steps per episode. */
  maxCycles: number;
  /** Box(0, 1) actions instead of Discrete. */
  continuousActions: boolean;
  /** Benchmark data in infos. */
  benchmarkData: boolean;
};

/** Option specs of {@linkcode CommonMpeOptions}, with MPE2's names as aliases. */
export const COMMON_OPTIONS: { [K in keyof CommonMpeOptions]: EnvOptionSpec } = {
  maxCycles: {
    type: "int",
    default: 25,
    min: 1,
    max: 1_000_000_000,
    help: "steps per episode; every agent is truncated after them",
    aliases: ["max_cycles"],
  },
  continuousActions: {
    type: "boolean",
    default: false,
    help: "Box(0, 1) actions (noop, -x, +x, -y, +y[, comm]) instead of Discrete",
    aliases: ["continuous_actions"],
  },
  benchmarkData: {
    type: "boolean",
    default: false,
    help: "put the scenario's benchmark data in each agent's infos",
    aliases: ["benchmark_data"],
  },
};

/** The `local_ratio` option (spread, reference): weight of an agent's own reward. */
export function localRatioOption(defaultValue = 0.5): EnvOptionSpec {
  return {
    type: "number",
    default: defaultValue,
    min: 0,
    max: 1,
    help: "weight of an agent's own reward; the global reward gets 1 - local_ratio",
    aliases: ["local_ratio"],
  };
}

/** Builds an {@linkcode MpeEnv} from a scenario and the common options. */
export function createMpeEnv<W extends World>(
  id: string,
  scenario: Scenario<W>,
  options: CommonMpeOptions & { localRatio?: number },
): MpeEnv<W> {
  const localRatio = options.localRatio ?? null;
  return new MpeEnv({
    id,
    scenario,
    maxCycles: options.maxCycles,
    continuousActions: options.continuousActions,
    benchmarkData: options.benchmarkData,
    localRatio,
  });
}
