/**
 * Strict reading of a run's `metrics.csv`.
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import { METRICS_COLUMNS } from "../metrics.ts";

/** The columns every `metrics.csv` starts with. */
export const REQUIRED_COLUMNS = METRICS_COLUMNS;

/** A parsed `metrics.csv`: each column as numbers, rows in episode order. */
export interface MetricsTable {
  /** The file it came from. */
  path: string;
  /** Column names, as in the header. */
  columns: string[];
  /** Values by column name. */
  values: Record<string, number[]>;
  /** Number of episodes (rows). */
  length: number;
}

/**
 * Parses CSV text with the `metrics.csv` header. Every row must have every field, every
 * field a finite number, episodes 1, 2, 3, …; an empty run is refused. Errors name the file
 * and the line. A repeated column name is read as pandas reads it (`name.1`).
 */
export function parseMetricsCsv(text: string, path: string): MetricsTable {
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  if (lines.length === 0 || lines[0].trim() === "") {
    throw new UsageError(`${path}: empty file, no header`);
  }
  const columns = uniqueColumns(lines[0].trim().split(","));
  for (const required of REQUIRED_COLUMNS) {
    if (!columns.includes(required)) {
      throw new UsageError(`${path}:1: header lacks the column "${required}"`);
    }
  }
  if (lines.length === 1) throw new UsageError(`${path}: no episodes (an empty run)`);
  const values: Record<string, number[]> = Object.fromEntries(columns.map((c) => [c, []]));
  for (let i = 1; i < lines.length; i++) {
    const fields = lines[i].trim().split(",");
    if (fields.length !== columns.length) {
      throw new UsageError(
        `${path}:${
          i + 1
        }: expected ${columns.length} fields, got ${fields.length} (a truncated or malformed row)`,
      );
    }
    fields.forEach((field, k) => {
      const value = field.trim() === "" ? NaN : Number(field);
      if (!Number.isFinite(value)) {
        throw new UsageError(
          `${path}:${i + 1}: "${columns[k]}" is not a number: ${JSON.stringify(field)}`,
        );
      }
      values[columns[k]].push(value);
    });
    if (values.episode[i - 1] !== i) {
      throw new UsageError(`${path}:${i + 1}: expected episode ${i}, got ${values.episode[i - 1]}`);
    }
  }
  return { path, columns, values, length: lines.length - 1 };
}

/**
 * Column names made unique as pandas reads them: a name's repeats become `<name>.1`, `<name>.2`, ….
 * (Speaker-listener runs written before `greedy_scenario_success` have two `greedy_success`.)
 */
function uniqueColumns(names: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((name) => {
    const count = seen.get(name) ?? 0;
    seen.set(name, count + 1);
    return count === 0 ? name : `${name}.${count}`;
  });
}

/** Reads and parses `<runDir>/metrics.csv`. */
export async function readMetrics(runDir: string): Promise<MetricsTable> {
  const path = `${runDir}/metrics.csv`;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new UsageError(`${path} does not exist: not a training run`);
    }
    throw new UsageError(`Cannot read ${path}: ${(error as Error).message.split(":")[0]}`);
  }
  return parseMetricsCsv(text, path);
}
