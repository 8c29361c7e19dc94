/**
 * A turn of the event loop, as short as the runtime allows: what a long computation awaits
 * now and then so that signal handlers and a page's messages get to run.
 *
 * `setTimeout(resolve, 0)` would do, but Deno's timers take about 2 ms to fire, which a
 * training run paying it every 50 ms loses 4% of its time to; `setImmediate` (Deno, Node)
 * takes about 10 µs. A browser has no `setImmediate`: there a `MessageChannel` message,
 * which no timer clamps, resolves the turn.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { yieldNow } from "./yield_now.ts";
 * let ran = false;
 * setTimeout(() => (ran = true), 0);
 * while (!ran) await yieldNow(); // the timer's callback gets its turn
 * assert.ok(ran);
 * ```
 *
 * @module
 */

type Immediate = (callback: () => void) => unknown;

let channel: { post: () => void; waiting: (() => void)[] } | undefined;

function messageTurn(): Promise<void> {
  if (!channel) {
    const { port1, port2 } = new MessageChannel();
    const waiting: (() => void)[] = [];
    port1.onmessage = () => waiting.shift()?.();
    channel = { post: () => port2.postMessage(0), waiting };
  }
  const { post, waiting } = channel;
  return new Promise((resolve) => {
    waiting.push(resolve);
    post();
  });
}

/** Resolves after one turn of the event loop. */
export function yieldNow(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: Immediate }).setImmediate;
  if (typeof immediate === "function") return new Promise((resolve) => immediate(resolve));
  return messageTurn();
}
