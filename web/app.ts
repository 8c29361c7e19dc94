/// <reference lib="dom" />
/**
 * The page of trained runs (see `web/CONTRACT.md`): the runs table, a run's charts, runs
 * compared, a run's actors replayed, training in a worker; and `window.maddpg`, the
 * automation API the browser test drives.
 *
 * Built by `deno task build-web` into `dist/web/app.js`.
 *
 * @module
 */
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import type { ActionMode } from "../lib/agent/policy.ts";
import { initBackend } from "../lib/backend.ts";
import { showCharts, showCompare } from "./charts_view.ts";
import { byId, clearError, showError } from "./dom.ts";
import { initReplayView, leaveReplay, showReplay } from "./replay_view.ts";
import { parseRoute } from "./route.ts";
import type { Route } from "./route.ts";
import { greedyActions, replayEpisode } from "./run_files.ts";
import { initRunsView, showRuns } from "./runs_view.ts";
import { lastDownload, mountTrainView, train } from "./train_view.ts";

/** The automation API of the page (see `web/CONTRACT.md`). */
export interface MaddpgApi {
  /** Resolves once tfjs runs on its wasm backend. */
  ready: Promise<void>;
  /**
   * For each joint observation, the run's actors' greedy actions: numbers for discrete
   * agents, arrays for continuous ones.
   */
  greedyActions(runPath: string, observations: number[][][]): Promise<(number | number[])[][]>;
  /** The first episode `deno task evaluate --seed <seed> --policy <policy>` would play. */
  replay(
    runPath: string,
    options: { seed: number; policy: ActionMode },
  ): Promise<{ reward: number; returns: number[]; length: number }>;
  /** Trains a preset in a Web Worker, updating the training view. */
  train(
    options: { preset: string; episodes?: number; seed?: number },
  ): Promise<{ episodes: number; greedySuccess: boolean }>;
  /** The zip of the last trained run directory. */
  lastDownload(): { name: string; base64: string } | undefined;
}

declare global {
  // `var`: a property of globalThis, which is `window` in the page.
  var maddpg: MaddpgApi;
}

// The wasm files are copied next to app.js by the build; "./" is relative to the page.
const ready = (async () => {
  setWasmPaths("./");
  await initBackend("wasm");
})();
ready.catch((error) => showError(`Cannot start tfjs on its wasm backend: ${error.message}`));

globalThis.maddpg = {
  ready,
  async greedyActions(runPath, observations) {
    await ready;
    return await greedyActions(runPath, observations);
  },
  async replay(runPath, options) {
    await ready;
    const { result } = await replayEpisode(runPath, options);
    return { reward: result.reward, returns: result.returns, length: result.length };
  },
  train: (options) => train(options),
  lastDownload: () => lastDownload(),
};

const VIEWS = ["runs", "charts", "compare", "replay", "train"] as const;

/** Shows one view's section and fills it. */
async function show(route: Route): Promise<void> {
  for (const view of VIEWS) byId(`view-${view}`).hidden = view !== route.view;
  for (const link of document.querySelectorAll<HTMLAnchorElement>("nav a")) {
    link.classList.toggle("active", link.hash === `#${route.view}`);
  }
  if (route.view !== "replay") leaveReplay();
  switch (route.view) {
    case "runs":
      return await showRuns();
    case "charts":
      return await showCharts(route.path);
    case "compare":
      return await showCompare(route.paths);
    case "replay":
      return await showReplay(route.path, ready);
    case "train":
      return;
  }
}

function navigate(): void {
  clearError();
  show(parseRoute(location.hash)).catch(showError);
}

initRunsView();
initReplayView();
try {
  mountTrainView(byId("view-train"));
} catch (error) {
  byId("view-train").append(
    Object.assign(document.createElement("p"), {
      className: "problem",
      textContent: `The training view is not available: ${(error as Error).message}`,
    }),
  );
}
addEventListener("hashchange", navigate);
navigate();
