/**
 * The environment registry: `makeEnv(id, options)` builds any registered environment from
 * validated options; `registerEnv` adds one (a test's toy world, a user's own).
 *
 * Environments register themselves when their module is imported; `lib/env/builtin.ts`
 * imports every built-in one.
 *
 * @module
 */
import type { ParallelEnv } from "./parallel_env.ts";

/** A value of an environment option. */
export type EnvOptionValue = number | boolean;

/** How one option of an environment is described, checked and parsed. */
export interface EnvOptionSpec {
  /** `int`, `number` (finite) or `boolean`. */
  type: "int" | "number" | "boolean";
  /** Value when not given. */
  default: EnvOptionValue;
  /** Smallest allowed value (numbers). */
  min?: number;
  /** Largest allowed value (numbers). */
  max?: number;
  /** One line for `--help` and errors. */
  help: string;
  /** Other names accepted on the command line (MPE2's `max_cycles`, `N`, …). */
  aliases?: readonly string[];
}

/** A registered environment. */
export interface EnvEntry<Options extends Record<string, EnvOptionValue>> {
  /** Its id, e.g. `"simple_spread_v3"`. */
  id: string;
  /** One line for humans. */
  description: string;
  /** Its options, by name (camelCase). */
  options: { [K in keyof Options]: EnvOptionSpec };
  /** Builds it from complete, validated options. */
  create(options: Options): ParallelEnv;
}

// deno-lint-ignore no-explicit-any -- entries of every option type live in one map
const ENTRIES = new Map<string, EnvEntry<any>>();

/** Registers an environment; an id can be registered once. */
export function registerEnv<Options extends Record<string, EnvOptionValue>>(
  entry: EnvEntry<Options>,
): void {
  if (ENTRIES.has(entry.id)) throw new Error(`Environment "${entry.id}" is already registered`);
  ENTRIES.set(entry.id, entry);
}

/** The ids of every registered environment, in registration order. */
export function envIds(): string[] {
  return [...ENTRIES.keys()];
}

/** The entry of `id`, or a `RangeError` naming it and the ids that exist. */
export function envEntry(id: string): EnvEntry<Record<string, EnvOptionValue>> {
  const entry = ENTRIES.get(id);
  if (!entry) {
    throw new RangeError(`Unknown environment "${id}"; registered: ${envIds().join(", ")}`);
  }
  return entry;
}

/**
 * Complete options of environment `id`: `given` (canonical names or aliases, values as
 * numbers, booleans or strings such as `"true"` or `"4"`) over the defaults. A `RangeError`
 * names an unknown option, or a bad value and what is allowed.
 */
export function resolveEnvOptions(
  id: string,
  given: Record<string, unknown> = {},
): Record<string, EnvOptionValue> {
  const entry = envEntry(id);
  const specs = entry.options as Record<string, EnvOptionSpec>;
  const resolved: Record<string, EnvOptionValue> = {};
  for (const [name, spec] of Object.entries(specs)) resolved[name] = spec.default;
  for (const [key, raw] of Object.entries(given)) {
    const name = canonicalName(specs, key);
    if (!name) {
      const known = Object.entries(specs).map(([n, s]) =>
        s.aliases?.length ? `${n} (${s.aliases.join(", ")})` : n
      );
      throw new RangeError(
        `${id} has no option "${key}"; its options: ${known.join(", ") || "none"}`,
      );
    }
    resolved[name] = parseOptionValue(specs[name], raw, `${id} option ${key}`);
  }
  return resolved;
}

/** Builds environment `id` with `options` (see {@linkcode resolveEnvOptions}). */
export function makeEnv(id: string, options: Record<string, unknown> = {}): ParallelEnv {
  return envEntry(id).create(resolveEnvOptions(id, options));
}

/**
 * Parses `KEY=VALUE` strings (as given to `--env-option`) into an options record.
 *
 * @example
 * ```ts
 * import { parseEnvOptionArgs } from "./registry.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseEnvOptionArgs(["N=4", "continuous_actions=true"]), {
 *   N: "4",
 *   continuous_actions: "true",
 * });
 * ```
 */
export function parseEnvOptionArgs(args: readonly string[]): Record<string, string> {
  const options: Record<string, string> = {};
  for (const arg of args) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.+)$/.exec(arg.trim());
    if (!match) throw new RangeError(`--env-option must look like KEY=VALUE, got "${arg}"`);
    options[match[1]] = match[2];
  }
  return options;
}

/**
 * The name of environment `id`'s option that `key` stands for (itself, or the option it is an
 * alias of), or undefined.
 *
 * @example
 * ```ts
 * import "./builtin.ts";
 * import { envOptionName } from "./registry.ts";
 * import assert from "node:assert/strict";
 * assert.equal(envOptionName("grid_world", "grid_size"), "size");
 * assert.equal(envOptionName("grid_world", "colour"), undefined);
 * ```
 */
export function envOptionName(id: string, key: string): string | undefined {
  return canonicalName(envEntry(id).options as Record<string, EnvOptionSpec>, key);
}

function canonicalName(specs: Record<string, EnvOptionSpec>, key: string): string | undefined {
  if (key in specs) return key;
  return Object.keys(specs).find((name) => specs[name].aliases?.includes(key));
}

function parseOptionValue(spec: EnvOptionSpec, raw: unknown, where: string): EnvOptionValue {
  if (spec.type === "boolean") {
    if (raw === true || raw === "true") return true;
    if (raw === false || raw === "false") return false;
    throw new RangeError(`${where} must be true or false, got ${JSON.stringify(raw)}`);
  }
  const value = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : raw;
  const integer = spec.type === "int";
  if (
    typeof value !== "number" || !Number.isFinite(value) ||
    (integer && !Number.isSafeInteger(value)) ||
    (spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max)
  ) {
    const range = spec.min !== undefined && spec.max !== undefined
      ? ` in ${spec.min}..${spec.max}`
      : spec.min !== undefined
      ? ` >= ${spec.min}`
      : spec.max !== undefined
      ? ` <= ${spec.max}`
      : "";
    throw new RangeError(
      `${where} must be ${integer ? "an integer" : "a number"}${range}, got ${JSON.stringify(raw)}`,
    );
  }
  return value;
}
