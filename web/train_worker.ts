/// <reference lib="webworker" />
/**
 * The page's training worker (built to `dist/web/train_worker.js`): trains with the project's
 * library (`TrainingSession.inline` + `trainingLoop`) on the tfjs wasm backend, and zips the
 * run directory as `deno task train` writes it.
 *
 * Messages in: `{ type: "start", config }` (a whole `TrainConfig`).
 * Messages out: `{ type: "ready", runtime }`, `{ type: "episode", metrics }` after each episode,
 * `{ type: "done", files, summary }` (`files`: the zip's bytes, transferred) or
 * `{ type: "error", message }`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import * as wasm from "@tensorflow/tfjs-backend-wasm";
import { zipSync } from "fflate";
import { initBackend } from "../lib/backend.ts";
import type { TrainConfig } from "../lib/config_fields.ts";
import type { EpisodeMetrics } from "../lib/train/episode_log.ts";
import { trainingLoop } from "../lib/train/loop.ts";
import { runDirectoryFiles } from "../lib/train/run_files.ts";
import { buildParts, TrainingSession } from "../lib/train/session.ts";
import type { SessionParts, SessionResult } from "../lib/train/session.ts";
import { InlineLearner } from "../lib/agent/learner.ts";

/** A message the page sends. */
export interface StartMessage {
  type: "start";
  config: TrainConfig;
}

/** How a browser run ran (`config.json`'s `runtime`). */
export interface BrowserRuntime {
  runtime: "browser";
  userAgent: string;
  tfjs: string;
  tfjsBackendWasm: string;
  backend: string;
  simd: boolean;
  threads: boolean;
  learnerThreads: 0;
}

/** `summary.json` of a browser run (as `deno task train`'s, without the process's memory). */
export interface BrowserSummary extends SessionResult {
  episodes: number;
  totalSteps: number;
  updateRounds: number;
  wallSeconds: number;
  stepsPerSecond: number;
}

/** A message the worker sends. */
export type WorkerMessage =
  | { type: "ready"; runtime: BrowserRuntime }
  | { type: "episode"; metrics: EpisodeMetrics }
  | { type: "done"; files: Uint8Array; summary: BrowserSummary }
  | { type: "error"; message: string };

const scope = self as unknown as DedicatedWorkerGlobalScope;

function post(message: WorkerMessage, transfer: Transferable[] = []): void {
  scope.postMessage(message, transfer);
}

/** An inline session that posts each finished episode to the page. */
class PostingSession extends TrainingSession {
  constructor(parts: SessionParts) {
    super(parts);
    this.learnerInstance = new InlineLearner(this.algorithm);
  }

  protected override recordEpisode(metrics: EpisodeMetrics): Promise<void> {
    post({ type: "episode", metrics });
    return Promise.resolve();
  }
}

let started = false;

async function initWasm(): Promise<BrowserRuntime> {
  // The .wasm files are served next to this script.
  wasm.setWasmPaths("./");
  await initBackend("wasm");
  return {
    runtime: "browser",
    userAgent: scope.navigator?.userAgent ?? "",
    tfjs: tf.version_core,
    tfjsBackendWasm: wasm.version_wasm,
    backend: tf.getBackend(),
    simd: tf.env().getBool("WASM_HAS_SIMD_SUPPORT") as boolean,
    threads: tf.env().getBool("WASM_HAS_MULTITHREAD_SUPPORT") as boolean,
    learnerThreads: 0,
  };
}

async function run(config: TrainConfig): Promise<void> {
  const runtime = await initWasm();
  post({ type: "ready", runtime });
  const session = new PostingSession(buildParts(config));
  const start = performance.now();
  try {
    await trainingLoop(session);
    const { result, algorithm } = await session.finishSession();
    const wallSeconds = (performance.now() - start) / 1000;
    const { totalSteps, updateRounds } = session.counters;
    const summary: BrowserSummary = {
      episodes: config.episodes,
      totalSteps,
      updateRounds,
      wallSeconds,
      stepsPerSecond: totalSteps / wallSeconds,
      ...result,
    };
    const files = await runDirectoryFiles({
      config,
      history: session.history,
      summary,
      algorithm,
      runtime,
    });
    const zip = zipSync(files, { level: 6 });
    post({ type: "done", files: zip, summary }, [zip.buffer]);
  } finally {
    await session.close();
  }
}

scope.addEventListener("message", (event: MessageEvent<StartMessage>) => {
  const message = event.data;
  if (message?.type !== "start") return;
  if (started) {
    post({ type: "error", message: "this worker has already trained; start a new one" });
    return;
  }
  started = true;
  run(message.config).catch((error) => {
    post({ type: "error", message: error instanceof Error ? error.message : String(error) });
  });
});
