/**
 * SIGINT / SIGTERM for a training run: the first asks the run to stop after its step (it saves
 * its state and exits 130 / 143); a second exits at once.
 *
 * @module
 */

/** The signals a run stops on. */
export type StopSignal = "SIGINT" | "SIGTERM";

/** The exit code of a run stopped by `signal` (SIGINT: 130, otherwise SIGTERM: 143). */
export function signalExitCode(signal: string): number {
  return signal === "SIGINT" ? 130 : 143;
}

/** What {@linkcode listenForStop} returns. */
export interface StopListener {
  /** The first signal received, if any: the trainer's `shouldStop`. */
  readonly received: () => StopSignal | undefined;
  /** Removes the listeners. */
  readonly close: () => void;
}

/**
 * Listens for SIGINT and SIGTERM. `onFirst` runs on the first (to say that the state is being
 * saved); a second signal exits with its code at once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listenForStop, signalExitCode } from "./stop_signals.ts";
 *
 * const stop = listenForStop(() => {});
 * assert.equal(stop.received(), undefined);
 * stop.close();
 * assert.equal(signalExitCode("SIGTERM"), 143);
 * ```
 */
export function listenForStop(onFirst: (signal: StopSignal) => void): StopListener {
  let received: StopSignal | undefined;
  const listeners = (["SIGINT", "SIGTERM"] as const).map((signal) => {
    const listener = () => {
      if (received) Deno.exit(signalExitCode(signal));
      received = signal;
      onFirst(signal);
    };
    Deno.addSignalListener(signal, listener);
    return [signal, listener] as const;
  });
  return {
    received: () => received,
    close: () => {
      for (const [signal, listener] of listeners) Deno.removeSignalListener(signal, listener);
    },
  };
}
