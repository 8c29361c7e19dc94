/**
 * Worker thread of `ParallelLearner`: owns one agent's critics and optimizers, plus copies
 * of every actor and target actor, and runs that agent's part of each update round
 * (`AlgorithmInstance.updateAgent`). Actor weights travel between workers on direct ports.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { initBackend, runtimeInfo } from "../backend.ts";
import type { RuntimeInfo } from "../backend.ts";
import type { TrainConfig } from "../config_fields.ts";
import { Pcg32 } from "../rng.ts";
import type { Batch } from "../replay_buffer.ts";
import { createAlgorithm } from "./catalogue.ts";
import type { AgentShape, AlgorithmInstance, LearnerState, PeerExchange } from "./algorithm.ts";

/** Messages the main thread sends to a learner worker. */
export type ToWorker =
  | {
    type: "init";
    agent: number;
    config: TrainConfig;
    agents: readonly AgentShape[];
    /** Every network and optimizer (a resumed run's, or fresh ones). */
    state: LearnerState;
    /** Port to each other worker, by agent (null for this one). */
    ports: (MessagePort | null)[];
  }
  | { type: "round"; id: number; batch: Batch; uniforms: Float64Array }
  | { type: "collect" };

/** Messages a learner worker sends to the main thread. */
export type FromWorker =
  | { type: "ready"; runtime: RuntimeInfo }
  | { type: "done"; id: number; critic: number; actor: number; actorParams: Float32Array }
  | { type: "state"; state: LearnerState }
  | { type: "error"; message: string };

/** The other workers, seen from agent `agent`'s: actor weights in, this actor out. */
class PortExchange implements PeerExchange {
  // Actor weights received from each other worker, in order, and who waits for them.
  readonly #inbox: Float32Array[][];
  readonly #waiting: (((params: Float32Array) => void) | undefined)[];

  constructor(
    readonly agent: number,
    readonly algorithm: AlgorithmInstance,
    readonly ports: readonly (MessagePort | null)[],
  ) {
    this.#inbox = ports.map(() => []);
    this.#waiting = ports.map(() => undefined);
    ports.forEach((port, j) => {
      if (!port) return;
      port.onmessage = (event: MessageEvent<Float32Array>) => {
        const resolve = this.#waiting[j];
        if (resolve) {
          this.#waiting[j] = undefined;
          resolve(event.data);
        } else this.#inbox[j].push(event.data);
      };
    });
  }

  sendActor(): void {
    const params = this.algorithm.actors[this.agent].params;
    for (const port of this.ports) port?.postMessage(params.slice());
  }

  async receiveActors(from: number, to: number): Promise<void> {
    for (let j = from; j < to; j++) {
      if (j === this.agent) continue;
      const actor = this.algorithm.actors[j];
      actor.params.set(await this.#next(j));
      actor.touch();
    }
  }

  #next(from: number): Promise<Float32Array> {
    const queued = this.#inbox[from].shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => (this.#waiting[from] = resolve));
  }
}

let exchange: PortExchange | undefined;
// Rounds run one at a time, in arrival order.
let queue: Promise<void> = Promise.resolve();

function reply(message: FromWorker): void {
  self.postMessage(message);
}

// Test-only fault injection: MADDPG_TEST_WORKER_FAIL=<message type>:<n> fails the n-th such
// message of this worker (a worker error at that point must end the run cleanly).
const injected = (Deno.env.get("MADDPG_TEST_WORKER_FAIL") ?? "").split(":");
const seen = new Map<string, number>();

async function handle(message: ToWorker): Promise<void> {
  seen.set(message.type, (seen.get(message.type) ?? 0) + 1);
  if (injected[0] === message.type && seen.get(message.type) === Number(injected[1] ?? 1)) {
    throw new Error(`injected failure on ${message.type} ${injected[1] ?? 1}`);
  }
  if (message.type === "init") {
    await initBackend();
    // The weights come from the main thread; this generator only fills the placeholders.
    const algorithm = createAlgorithm(message.config, message.agents, new Pcg32(0));
    algorithm.setState(message.state);
    exchange = new PortExchange(message.agent, algorithm, message.ports);
    reply({ type: "ready", runtime: runtimeInfo() });
  } else if (message.type === "round") {
    const { agent, algorithm } = exchange!;
    const losses = await algorithm.updateAgent(agent, message, exchange!);
    const actorParams = algorithm.actors[agent].params.slice();
    reply({ type: "done", id: message.id, ...losses, actorParams });
  } else if (message.type === "collect") {
    reply({ type: "state", state: exchange!.algorithm.getState() });
  }
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  queue = queue.then(async () => {
    try {
      await handle(event.data);
    } catch (error) {
      reply({ type: "error", message: error instanceof Error ? error.message : String(error) });
    }
  });
};
