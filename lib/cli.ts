/**
 * Command-line parsing shared by the scripts: `node:util`'s `parseArgs`, strict, with its
 * errors turned into one-line {@linkcode UsageError}s.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { UsageError } from "./errors.ts";

/** How one flag is parsed. */
export interface FlagSpec {
  /** `string` takes a value; `boolean` is a switch. */
  type: "string" | "boolean";
  /** Repeatable (values collected into an array). */
  multiple?: boolean;
  /** Value when the flag is absent. */
  default?: string | boolean;
}

/** Parsed flags and positional arguments. */
export interface ParsedFlags {
  /** Flag values by name. */
  values: Record<string, string | boolean | string[] | undefined>;
  /** Positional arguments. */
  positionals: string[];
}

/**
 * Parses `args` strictly: an unknown flag, a missing value or (unless allowed) a positional
 * argument is a {@linkcode UsageError} of one line.
 *
 * @example
 * ```ts
 * import { parseFlags } from "./cli.ts";
 * const { values } = parseFlags(["--episodes", "5"], { episodes: { type: "string" } });
 * if (values.episodes !== "5") throw new Error("parsed");
 * ```
 */
export function parseFlags(
  args: string[],
  options: Record<string, FlagSpec>,
  allowPositionals = false,
): ParsedFlags {
  try {
    const { values, positionals } = parseArgs({
      args: joinNegativeValues(args, options),
      options,
      strict: true,
      allowPositionals,
    });
    return { values: values as ParsedFlags["values"], positionals };
  } catch (error) {
    const message = (error as Error).message;
    const ambiguous = /^Option '(--[^']+)' argument is ambiguous/.exec(message);
    const value = ambiguous ? args[args.indexOf(ambiguous[1]) + 1] : undefined;
    if (ambiguous && value !== undefined) {
      throw new UsageError(
        `${ambiguous[1]} got ${JSON.stringify(value)}: a value starting with "-" is written ` +
          `${ambiguous[1]}=${value}`,
      );
    }
    throw new UsageError(message.split("\n")[0]);
  }
}

/**
 * `args` with a negative number after a flag that takes a value joined to it (`--seed -1` →
 * `--seed=-1`), so that the flag's own check names the value instead of `parseArgs` calling it
 * ambiguous.
 *
 * @example
 * ```ts
 * import { joinNegativeValues } from "./cli.ts";
 * import assert from "node:assert/strict";
 * const options = { seed: { type: "string" as const }, quiet: { type: "boolean" as const } };
 * assert.deepEqual(joinNegativeValues(["--seed", "-1", "--quiet"], options), ["--seed=-1", "--quiet"]);
 * assert.deepEqual(joinNegativeValues(["--seed", "-x"], options), ["--seed", "-x"]);
 * ```
 */
export function joinNegativeValues(
  args: readonly string[],
  options: Record<string, FlagSpec>,
): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i].startsWith("--") ? args[i].slice(2) : undefined;
    const next = args[i + 1];
    const takesValue = name !== undefined && options[name]?.type === "string";
    if (takesValue && next !== undefined && /^-(\d|\.\d|Infinity)/.test(next)) {
      out.push(`${args[i]}=${next}`);
      i++;
    } else out.push(args[i]);
  }
  return out;
}

/** A flag's value as a positive (or, with `allowZero`, non-negative) integer. */
export function integerFlag(flag: string, raw: unknown, allowZero = false): number {
  const value = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new UsageError(
      `${flag} must be a ${allowZero ? "non-negative" : "positive"} integer, got ${
        JSON.stringify(raw)
      }`,
    );
  }
  return value;
}
