/**
 * Update rounds on one worker thread per agent, for every algorithm.
 *
 * tfjs-wasm runs one thread per instance under Deno, so the main thread alone cannot use
 * both cores. Here worker i owns agent i's critics and optimizers and runs its part of each
 * round. In the notebook's update, agent i's actor update waits for the new actors of the
 * agents before it; in the Gumbel-Softmax algorithms the agents only meet at the target
 * updates. Actors travel on direct ports between workers. The main thread keeps stepping
 * the environment while rounds run, and waits only when it needs the current actors or the
 * losses.
 *
 * Every worker does exactly the arithmetic the algorithm's inline `updateWithUniforms` does
 * for its agent, so results are bit-identical to the inline learner (tested).
 *
 * @module
 */
import type { RuntimeInfo } from "../backend.ts";
import type { Mlp } from "../nn/mlp.ts";
import type { Batch } from "../replay_buffer.ts";
import type { Learner } from "./learner.ts";
import type { FromWorker, ToWorker } from "./learner_worker.ts";
import type { AgentShape, AlgorithmInstance, LearnerState, UpdateLosses } from "./algorithm.ts";
import type { TrainConfig } from "../config_fields.ts";

interface Pending {
  losses: UpdateLosses;
  remaining: number;
}

/** A {@linkcode Learner} with one worker thread per agent. */
export class ParallelLearner implements Learner {
  readonly #algorithm: AlgorithmInstance;
  readonly #workers: Worker[] = [];
  #nextId = 0;
  readonly #pending = new Map<number, Pending>();
  #order: number[] = [];
  #waiters: (() => void)[] = [];
  #failure: Error | undefined;
  #runtime: RuntimeInfo | undefined;
  readonly #stateWaiters = new Map<
    number,
    { resolve: (state: LearnerState) => void; reject: (error: Error) => void }
  >();

  private constructor(algorithm: AlgorithmInstance) {
    this.#algorithm = algorithm;
  }

  /** Starts one worker per agent, seeded with `algorithm`'s networks. */
  static async start(
    algorithm: AlgorithmInstance,
    config: TrainConfig,
    agents: readonly AgentShape[],
  ): Promise<ParallelLearner> {
    const learner = new ParallelLearner(algorithm);
    const n = agents.length;
    const channels: MessageChannel[][] = Array.from({ length: n }, () => []);
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) channels[i][j] = new MessageChannel();
    }
    const ready: Promise<void>[] = [];
    const state = algorithm.getState();
    for (let i = 0; i < n; i++) {
      const worker = new Worker(new URL("./learner_worker.ts", import.meta.url).href, {
        type: "module",
      });
      learner.#workers.push(worker);
      ready.push(
        new Promise((resolve, reject) => {
          worker.onmessage = (event: MessageEvent<FromWorker>) => {
            if (event.data.type === "ready") {
              learner.#runtime = event.data.runtime;
              resolve();
            } else if (event.data.type === "error") reject(new Error(event.data.message));
          };
          worker.onerror = (event) => {
            event.preventDefault();
            reject(new Error(`Learner worker ${i} failed: ${event.message}`));
          };
        }),
      );
      const ports = Array.from(
        { length: n },
        (_, j) => j === i ? null : i < j ? channels[i][j].port1 : channels[j][i].port2,
      );
      const init: ToWorker = { type: "init", agent: i, config, agents, state, ports };
      worker.postMessage(init, ports.filter((port): port is MessagePort => port !== null));
    }
    try {
      await Promise.all(ready);
    } catch (error) {
      await learner.close();
      throw error;
    }
    learner.#workers.forEach((worker, i) => {
      worker.onmessage = (event: MessageEvent<FromWorker>) => learner.#onMessage(i, event.data);
      worker.onerror = (event) => {
        event.preventDefault();
        learner.#fail(new Error(`Learner worker ${i} failed: ${event.message}`));
      };
    });
    return learner;
  }

  /** The workers' tfjs runtime (backend, versions). */
  get runtime(): RuntimeInfo {
    return this.#runtime!;
  }

  get actors(): readonly Mlp[] {
    return this.#algorithm.actors;
  }

  /** Records the first failure and wakes everything that waits for a worker. */
  #fail(error: Error): void {
    this.#failure ??= error;
    for (const wake of this.#waiters.splice(0)) wake();
    for (const waiter of this.#stateWaiters.values()) waiter.reject(this.#failure);
    this.#stateWaiters.clear();
  }

  #onMessage(agent: number, message: FromWorker): void {
    if (message.type === "error") {
      this.#fail(new Error(`Learner worker ${agent}: ${message.message}`));
    } else if (message.type === "done") {
      const pending = this.#pending.get(message.id)!;
      pending.losses.critic[agent] = message.critic;
      pending.losses.actor[agent] = message.actor;
      const actor = this.#algorithm.actors[agent];
      actor.params.set(message.actorParams);
      actor.touch();
      if (--pending.remaining === 0) {
        for (const wake of this.#waiters.splice(0)) wake();
      }
    } else if (message.type === "state") {
      this.#stateWaiters.get(agent)?.resolve(message.state);
      this.#stateWaiters.delete(agent);
    }
  }

  submit(batches: readonly Batch[], uniforms: readonly Float64Array[]): void {
    if (this.#failure) throw this.#failure;
    const id = this.#nextId++;
    const n = this.#workers.length;
    this.#pending.set(id, {
      losses: { critic: new Array(n).fill(0), actor: new Array(n).fill(0) },
      remaining: n,
    });
    this.#order.push(id);
    // Worker i gets the shared batch, or agent i's own; structured clone copies it.
    const own = (i: number) => (batches.length === 1 ? 0 : i);
    this.#workers.forEach((worker, i) => {
      const message: ToWorker = {
        type: "round",
        id,
        batch: batches[own(i)],
        uniforms: uniforms[own(i)],
      };
      worker.postMessage(message);
    });
  }

  async flush(): Promise<UpdateLosses[]> {
    const ids = this.#order;
    this.#order = [];
    const losses: UpdateLosses[] = [];
    for (const id of ids) {
      while (!this.#failure && this.#pending.get(id)!.remaining > 0) {
        await new Promise<void>((resolve) => this.#waiters.push(resolve));
      }
      if (this.#failure) throw this.#failure;
      losses.push(this.#pending.get(id)!.losses);
      this.#pending.delete(id);
    }
    return losses;
  }

  async collect(): Promise<AlgorithmInstance> {
    await this.flush();
    const states = await Promise.all(
      this.#workers.map((worker, i) =>
        new Promise<LearnerState>((resolve, reject) => {
          if (this.#failure) return reject(this.#failure);
          this.#stateWaiters.set(i, { resolve, reject });
          worker.postMessage({ type: "collect" } satisfies ToWorker);
        })
      ),
    );
    // Worker i is the authority on agent i's networks and optimizers (names end in _i).
    const merged: LearnerState = { nets: {}, optimizers: {}, counters: { ...states[0].counters } };
    states.forEach((state, i) => {
      const own = (name: string) => name.endsWith(`_${i}`);
      for (const [name, params] of Object.entries(state.nets)) {
        if (own(name)) merged.nets[name] = params;
      }
      for (const [name, adam] of Object.entries(state.optimizers)) {
        if (own(name)) merged.optimizers[name] = adam;
      }
      for (const [name, values] of Object.entries(state.counters)) {
        // Per-agent counters (one value per agent) come from their agent's worker.
        if (values.length === states.length) merged.counters[name][i] = values[i];
      }
    });
    this.#algorithm.setState(merged);
    return this.#algorithm;
  }

  close(): Promise<void> {
    for (const worker of this.#workers) worker.terminate();
    this.#workers.length = 0;
    this.#algorithm.dispose();
    return Promise.resolve();
  }
}
