/**
 * What a run tells its user as it goes: the notebook's progress line every 50 episodes, a
 * live status line (episode, steps/s, ETA), and the peak resident memory.
 *
 * @module
 */
import process from "node:process";
import { mean } from "../stats.ts";
import type { Team } from "../env/teams.ts";
import { teamReturnMeans } from "./episode_log.ts";
import type { EpisodeMetrics } from "./episode_log.ts";

/**
 * The notebook's line: averages of the last 50 episodes, printed every 50. In a competitive
 * world (`teams`) it ends with each team's mean return per agent, as the mean over both sides
 * (`Avg Reward`) says little there.
 */
export function notebookProgressLine(
  history: readonly EpisodeMetrics[],
  episodes: number,
  teams: readonly Team[] = [],
): string | undefined {
  const last = history[history.length - 1];
  if (!last || last.episode % 50 !== 0) return undefined;
  const recent = history.slice(-50);
  const line = `Ep ${last.episode}/${episodes} | Steps: ${last.totalSteps} | Avg Reward: ${
    mean(recent.map((m) => m.reward)).toFixed(2)
  } | Avg C_Loss: ${mean(recent.map((m) => m.criticLoss)).toFixed(4)} | Avg A_Loss: ${
    mean(recent.map((m) => m.actorLoss)).toFixed(4)
  } | Eps: ${last.epsilon.toFixed(3)}`;
  const means = teamReturnMeans(recent, teams);
  if (means === undefined) return line;
  return `${line} | ${teams.map((t, k) => `${t.label}: ${means[k].toFixed(2)}`).join(" | ")}`;
}

/** A status line at most every 250 ms: episode, steps/s of this session, ETA. */
export class StatusLine {
  readonly #start = performance.now();
  #last = 0;

  constructor(
    readonly show: ((line: string) => void) | undefined,
    readonly first: { episode: number; totalSteps: number },
    readonly episodes: number,
  ) {}

  /** Reports progress after `episode` (always after the last one). */
  update(episode: number, totalSteps: number): void {
    const now = performance.now();
    if (!this.show || (now - this.#last <= 250 && episode !== this.episodes)) return;
    this.#last = now;
    const seconds = (now - this.#start) / 1000;
    const eta = seconds / (episode - this.first.episode + 1) * (this.episodes - episode);
    const rate = (totalSteps - this.first.totalSteps) / seconds;
    this.show(
      `episode ${episode}/${this.episodes} | ${rate.toFixed(0)} steps/s | ETA ${eta.toFixed(0)} s`,
    );
  }
}

/**
 * The process's peak resident set size so far, MB: the kernel's own count (`getrusage`), so
 * no moment is missed and nothing has to sample it while training.
 */
export function peakRssMegabytes(): number {
  return process.resourceUsage().maxRSS / 1024;
}
