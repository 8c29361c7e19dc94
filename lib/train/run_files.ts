/**
 * The files of a run directory as bytes, laid out as `deno task train` writes them
 * (`config.json`, `metrics.csv`, `summary.json`, `checkpoint/agent_<i>/{actor,critic}/`), for
 * a runtime without files: a browser tab zips them. No Deno API.
 *
 * @module
 */
import type { AlgorithmInstance } from "../agent/algorithm.ts";
import { mlpArtifacts, WEIGHTS_FILE } from "../checkpoint.ts";
import type { TrainConfig } from "../config_fields.ts";
import { metricsText } from "./episode_log.ts";
import type { EpisodeMetrics } from "./episode_log.ts";

/** What a run directory is made of. */
export interface RunDirectoryParts {
  /** The resolved config (`config.json`'s `config`). */
  config: TrainConfig;
  /** Every episode's metrics, in order (`metrics.csv`). */
  history: readonly EpisodeMetrics[];
  /** Contents of `summary.json`. */
  summary: unknown;
  /** The trained networks (`checkpoint/`). */
  algorithm: Pick<AlgorithmInstance, "actors" | "critics">;
  /** How the run ran (`config.json`'s `runtime`). */
  runtime: unknown;
}

/**
 * The files of a run directory, keyed by their path inside it (`/`-separated), which
 * `deno task evaluate --run <dir>` accepts once written out.
 */
export async function runDirectoryFiles(
  parts: RunDirectoryParts,
): Promise<Record<string, Uint8Array>> {
  const { config, history, summary, algorithm, runtime } = parts;
  const encoder = new TextEncoder();
  const json = (value: unknown) => encoder.encode(JSON.stringify(value, null, 2) + "\n");
  const numAgents = algorithm.actors.length;
  const files: Record<string, Uint8Array> = {
    "config.json": json({ config, runtime }),
    "metrics.csv": encoder.encode(
      metricsText(history, {
        numAgents,
        measureNames: Object.keys(history[0]?.greedyMeasures ?? {}),
      }),
    ),
    "summary.json": json(summary),
  };
  for (let i = 0; i < numAgents; i++) {
    const nets = [
      ["actor", algorithm.actors[i]],
      ["critic", algorithm.critics[i]],
    ] as const;
    for (const [kind, net] of nets) {
      const { modelJson, weights } = await mlpArtifacts(net, `${kind}_${i}`);
      const dir = `checkpoint/agent_${i}/${kind}`;
      files[`${dir}/model.json`] = encoder.encode(modelJson);
      files[`${dir}/${WEIGHTS_FILE}`] = weights;
    }
  }
  return files;
}
