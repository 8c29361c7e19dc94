/**
 * `metrics.csv` as training writes it: rewritten atomically with the saved episodes when a
 * run starts or resumes, then grown one complete line per episode. A failed append (a full
 * disk) cuts the file back so that no torn line stays.
 *
 * @module
 */
import { writeFileAtomic } from "../files.ts";
import { historyHasReturns, metricsLine, metricsText } from "./episode_log.ts";
import type { EpisodeMetrics } from "./episode_log.ts";

/** An open `metrics.csv`. */
export class MetricsFile {
  readonly #file: Deno.FsFile;
  #size: number;
  readonly #returns: boolean;
  readonly #encoder = new TextEncoder();

  private constructor(file: Deno.FsFile, size: number, returns: boolean) {
    this.#file = file;
    this.#size = size;
    this.#returns = returns;
  }

  /**
   * Writes `<dir>/metrics.csv` holding `history`, and opens it for appending. The agents'
   * returns are columns unless `history` was saved without them.
   */
  static async open(
    dir: string,
    columns: { numAgents: number; measureNames: readonly string[] },
    history: readonly EpisodeMetrics[],
  ): Promise<MetricsFile> {
    const path = `${dir}/metrics.csv`;
    await writeFileAtomic(path, metricsText(history, columns));
    const file = await Deno.open(path, { append: true });
    return new MetricsFile(file, (await file.stat()).size, historyHasReturns(history));
  }

  /**
   * Appends one episode's line completely, or not at all. The write is synchronous: an
   * asynchronous one waits for a thread of Deno's pool, about 0.2 ms every episode.
   */
  append(metrics: EpisodeMetrics): void {
    const bytes = this.#encoder.encode(metricsLine(metrics, this.#returns) + "\n");
    try {
      let written = 0;
      while (written < bytes.length) written += this.#file.writeSync(bytes.subarray(written));
      this.#size += bytes.length;
    } catch (error) {
      try {
        this.#file.truncateSync(this.#size);
      } catch {
        // The append's own error is the one to report.
      }
      throw error;
    }
  }

  /** Closes the file. */
  close(): void {
    this.#file.close();
  }
}
