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
    const { values, positionals } = parseArgs({ args, options, strict: true, allowPositionals });
    return { values: values as ParsedFlags["values"], positionals };
  } catch (error) {
    throw new UsageError((error as Error).message.split("\n")[0]);
  }
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
