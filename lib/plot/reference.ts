/**
 * The seed notebook's PyTorch curves, as written by `../shared/reference/run_notebook.sh`.
 *
 * @module
 */
import { UsageError } from "../errors.ts";

/** The curves of a reference run. */
export interface ReferenceRun {
  /** The file. */
  path: string;
  /** Its seed (when recorded). */
  seed?: number;
  /** The seeds of the runs averaged into this one (see {@linkcode meanReference}). */
  seeds?: number[];
  /** Per-episode rewards and mean losses. */
  reward: number[];
  /** Per-episode mean critic loss. */
  critic_loss: number[];
  /** Per-episode mean actor loss. */
  actor_loss: number[];
}

/** Reads and checks a reference JSON file; errors name the file and the field. */
export async function readReference(path: string): Promise<ReferenceRun> {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await Deno.readTextFile(path));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new UsageError(`${path} does not exist`);
    throw new UsageError(`${path} is not a JSON file of run_notebook.sh`);
  }
  const curve = (field: string): number[] => {
    const value = json?.[field];
    if (
      !Array.isArray(value) || value.length === 0 ||
      !value.every((v) => typeof v === "number" && Number.isFinite(v))
    ) {
      throw new UsageError(`${path}: field "${field}" must be a non-empty array of numbers`);
    }
    return value;
  };
  const reward = curve("episode_rewards");
  const criticLoss = curve("critic_loss");
  const actorLoss = curve("actor_loss");
  if (criticLoss.length !== reward.length || actorLoss.length !== reward.length) {
    throw new UsageError(`${path}: episode_rewards, critic_loss and actor_loss differ in length`);
  }
  const seed = typeof json.seed === "number" ? json.seed : undefined;
  return { path, seed, reward, critic_loss: criticLoss, actor_loss: actorLoss };
}

/** Several reference runs as one: the per-episode mean over them (up to the shortest). */
export function meanReference(runs: readonly ReferenceRun[]): ReferenceRun {
  if (runs.length === 1) return runs[0];
  const length = Math.min(...runs.map((r) => r.reward.length));
  const average = (field: "reward" | "critic_loss" | "actor_loss") =>
    Array.from({ length }, (_, k) => runs.reduce((sum, r) => sum + r[field][k], 0) / runs.length);
  return {
    path: runs.map((r) => r.path).join(", "),
    seeds: runs.map((r) => r.seed ?? NaN),
    reward: average("reward"),
    critic_loss: average("critic_loss"),
    actor_loss: average("actor_loss"),
  };
}
