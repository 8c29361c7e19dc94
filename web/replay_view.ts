/// <reference lib="dom" />
/**
 * The replay view: a run's actors acting in the run's environment, one episode computed as
 * `deno task evaluate --seed N --policy P --episodes 1` plays it, then shown frame by frame
 * in `#replay-scene` with play, pause, step, speed, seed and policy controls.
 *
 * @module
 */
import type { ActionMode } from "../lib/agent/policy.ts";
import { competitiveTeams } from "../lib/env/teams.ts";
import { mean } from "../lib/stats.ts";
import { byId, clearError, h, showError } from "./dom.ts";
import { routeHash } from "./route.ts";
import { loadRun, replayEpisode } from "./run_files.ts";
import type { Replay } from "./run_files.ts";

interface ReplayState {
  path: string;
  replay: Replay;
  /** The frame on screen. */
  frame: number;
}

let state: ReplayState | undefined;
let timer: ReturnType<typeof setTimeout> | undefined;
// Bumped by every new request, so a slow older one does not overwrite a newer one.
let generation = 0;

/** Draws the current frame and its returns. */
function draw(): void {
  if (!state) return;
  const { replay, frame } = state;
  const { svg, step, returns, measures } = replay.frames[frame];
  byId("replay-scene").innerHTML = svg;
  const total = mean(returns);
  const last = replay.frames.length - 1;
  const shown = byId("replay-return");
  shown.textContent = `Return so far: ${returnsText(replay.agents, returns)}, step ${step} of ${
    replay.frames[last].step
  }`;
  shown.dataset.return = String(total);
  shown.dataset.step = String(step);
  byId("replay-agents").replaceChildren(
    h("tr", {}, h("th", {}, "Agent"), h("th", { class: "num" }, "Return so far")),
    ...returns.map((value, i) =>
      h("tr", {}, h("td", {}, replay.agents[i]), h("td", { class: "num" }, value.toFixed(2)))
    ),
    // The scenario's measures as the episode runs (the MADDPG paper's, for particle worlds);
    // before the first step there is nothing to measure yet.
    ...Object.entries(measures ?? {}).filter(([name]) => !name.startsWith("return_")).map((
      [name, value],
    ) =>
      h(
        "tr",
        { class: "measure" },
        h("td", {}, name.replaceAll("_", " ")),
        h(
          "td",
          { class: "num" },
          step === 0 ? "–" : Number.isInteger(value) ? String(value) : value.toFixed(3),
        ),
      )
    ),
  );
  const { result } = replay;
  byId("replay-outcome").textContent = frame === last
    ? `Episode over after ${result.length} steps: reward ${result.reward.toFixed(2)}, ${
      result.success ? "success (every agent reached its goal)" : "no success"
    }.`
    : "";
}

/** The returns so far: each team's mean per agent in a competitive world, else the mean. */
function returnsText(agents: readonly string[], returns: readonly number[]): string {
  const teams = competitiveTeams(agents);
  if (teams.length === 0) return `${mean(returns).toFixed(2)} (mean over agents)`;
  return teams.map((team) => `${team.label} ${mean(team.agents.map((i) => returns[i])).toFixed(2)}`)
    .join(", ") + " (mean per agent of each team)";
}

function stop(): void {
  if (timer !== undefined) clearTimeout(timer);
  timer = undefined;
  byId<HTMLButtonElement>("replay-play").disabled = false;
  byId<HTMLButtonElement>("replay-pause").disabled = true;
}

function advance(): boolean {
  if (!state || state.frame >= state.replay.frames.length - 1) return false;
  state.frame++;
  draw();
  return true;
}

function play(): void {
  if (!state) return;
  stop();
  if (state.frame >= state.replay.frames.length - 1) {
    state.frame = 0; // Play at the end starts over.
    draw();
  }
  byId<HTMLButtonElement>("replay-play").disabled = true;
  byId<HTMLButtonElement>("replay-pause").disabled = false;
  const tick = () => {
    const stepsPerSecond = Number(byId<HTMLSelectElement>("replay-speed").value) || 5;
    timer = setTimeout(() => (advance() ? tick() : stop()), 1000 / stepsPerSecond);
  };
  tick();
}

/** Computes the episode of the current seed and policy and shows its first frame. */
async function recompute(path: string): Promise<void> {
  const mine = ++generation;
  stop();
  clearError(); // the errors of an earlier seed or policy no longer hold
  const seedInput = byId<HTMLInputElement>("replay-seed");
  const seed = Number(seedInput.value);
  if (!Number.isSafeInteger(seed) || seed < 0) {
    showError(`The seed must be a non-negative integer, got ${JSON.stringify(seedInput.value)}`);
    return;
  }
  const policy = byId<HTMLSelectElement>("replay-policy").value as ActionMode;
  byId("replay-return").textContent = "Computing the episode…";
  const replay = await replayEpisode(path, { seed, policy });
  if (mine !== generation) return;
  state = { path, replay, frame: 0 };
  draw();
}

/** Stops playback (when the page leaves the view). */
export function leaveReplay(): void {
  generation++;
  stop();
}

/** Wires the controls (once). */
export function initReplayView(): void {
  byId("replay-play").addEventListener("click", play);
  byId("replay-pause").addEventListener("click", stop);
  byId("replay-step").addEventListener("click", () => {
    stop();
    advance();
  });
  const changed = () => {
    if (state) recompute(state.path).catch(showError);
  };
  byId("replay-seed").addEventListener("change", changed);
  byId("replay-policy").addEventListener("change", changed);
}

/** Shows the replay of `path`, seeded with the run's seed (evaluate's default). */
export async function showReplay(path: string, ready: Promise<void>): Promise<void> {
  leaveReplay();
  state = undefined;
  byId("replay-title").textContent = `Replay of ${path}`;
  byId<HTMLAnchorElement>("replay-charts").href = routeHash({ view: "charts", path });
  byId("replay-scene").replaceChildren();
  byId("replay-agents").replaceChildren();
  byId("replay-outcome").textContent = "";
  byId("replay-return").textContent = "Loading the actors…";
  await ready;
  let config;
  try {
    ({ config } = await loadRun(path));
  } catch (error) {
    byId("replay-return").textContent = "";
    throw error;
  }
  byId<HTMLInputElement>("replay-seed").value = String(config.seed);
  byId("replay-title").textContent =
    `Replay of ${path} (${config.algo} on ${config.env}, up to ${config.maxSteps} steps)`;
  // Set the state's path before the first episode, so control changes during it apply.
  await recompute(path);
}
