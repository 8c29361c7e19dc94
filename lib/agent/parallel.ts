/**
 * Update rounds on one worker thread per agent.
 *
 * tfjs-wasm runs one thread per instance under Deno, so the main thread alone cannot use
 * both cores. Here worker i owns agent i's critic and optimizers and runs its part of each
 * round; agent i's actor update waits only for the new actors of agents before it, which
 * arrive on direct ports between workers. The main thread keeps stepping the environment
 * while rounds run, and waits only when it needs the current actors or the losses.
 *
 * Every worker does exactly the arithmetic {@linkcode MADDPGAgentManager.updateWithUniforms}
 * does for its agent, so results are bit-identical to the inline learner.
 *
 * @module
 */
import type { RuntimeInfo } from "../backend.ts";
import type { Mlp } from "../nn/mlp.ts";
import type { Batch } from "../replay_buffer.ts";
import type { Learner } from "./learner.ts";
import type { FromWorker, ToWorker } from "./learner_worker.ts";
import type { MADDPGAgentManager, MaddpgOptions, UpdateLosses } from "./maddpg.ts";

interface Pending {
  losses: UpdateLosses;
  remaining: number;
}

/** A {@linkcode Learner} with one worker thread per agent. */
export class ParallelLearner implements Learner {
  readonly #manager: MADDPGAgentManager;
  readonly #workers: Worker[] = [];
  #nextId = 0;
  readonly #pending = new Map<number, Pending>();
  #order: number[] = [];
  #waiters: (() => void)[] = [];
  #failure: Error | undefined;
  #runtime: RuntimeInfo | undefined;
  readonly #stateHandlers = new Map<number, (message: FromWorker) => void>();

  private constructor(manager: MADDPGAgentManager) {
    this.#manager = manager;
  }

  /** Starts one worker per agent, seeded with `manager`'s networks. */
  static async start(
    manager: MADDPGAgentManager,
    options: MaddpgOptions,
  ): Promise<ParallelLearner> {
    const learner = new ParallelLearner(manager);
    const n = manager.numAgents;
    const channels: MessageChannel[][] = Array.from({ length: n }, () => []);
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) channels[i][j] = new MessageChannel();
    }
    const ready: Promise<void>[] = [];
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
      const init: ToWorker = {
        type: "init",
        agent: i,
        options,
        actors: manager.actors.map((net) => net.params),
        targetActors: manager.targetActors.map((net) => net.params),
        critic: manager.critics[i].params,
        targetCritic: manager.targetCritics[i].params,
        actorOptimizer: manager.actorOptimizers[i].getState(),
        criticOptimizer: manager.criticOptimizers[i].getState(),
        ports,
      };
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
    return this.#manager.actors;
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const wake of this.#waiters.splice(0)) wake();
  }

  #onMessage(agent: number, message: FromWorker): void {
    if (message.type === "error") {
      this.#fail(new Error(`Learner worker ${agent}: ${message.message}`));
    } else if (message.type === "done") {
      const pending = this.#pending.get(message.id)!;
      pending.losses.critic[agent] = message.critic;
      pending.losses.actor[agent] = message.actor;
      const actor = this.#manager.actors[agent];
      actor.params.set(message.actorParams);
      actor.touch();
      if (--pending.remaining === 0) {
        for (const wake of this.#waiters.splice(0)) wake();
      }
    } else if (message.type === "state") {
      this.#stateHandlers.get(agent)?.(message);
      this.#stateHandlers.delete(agent);
    }
  }

  submit(batch: Batch, uniforms: Float64Array): void {
    if (this.#failure) throw this.#failure;
    const id = this.#nextId++;
    const n = this.#manager.numAgents;
    this.#pending.set(id, {
      losses: { critic: new Array(n).fill(0), actor: new Array(n).fill(0) },
      remaining: n,
    });
    this.#order.push(id);
    const message: ToWorker = { type: "round", id, batch, uniforms };
    for (const worker of this.#workers) worker.postMessage(message); // structured clone copies
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

  async collect(): Promise<MADDPGAgentManager> {
    await this.flush();
    const m = this.#manager;
    await Promise.all(this.#workers.map((worker, i) =>
      new Promise<void>((resolve) => {
        this.#stateHandlers.set(i, (message) => {
          if (message.type !== "state") return;
          m.actors[i].params.set(message.actor);
          m.targetActors[i].params.set(message.targetActor);
          m.critics[i].params.set(message.critic);
          m.targetCritics[i].params.set(message.targetCritic);
          m.actorOptimizers[i].setState(message.actorOptimizer);
          m.criticOptimizers[i].setState(message.criticOptimizer);
          for (const net of [m.actors[i], m.targetActors[i], m.critics[i], m.targetCritics[i]]) {
            net.touch();
          }
          resolve();
        });
        worker.postMessage({ type: "collect" } satisfies ToWorker);
      })
    ));
    return m;
  }

  close(): Promise<void> {
    for (const worker of this.#workers) worker.terminate();
    this.#workers.length = 0;
    this.#manager.dispose();
    return Promise.resolve();
  }
}
