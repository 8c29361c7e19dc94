/**
 * Worker thread of `ParallelLearner`: owns one agent's critic, target critic and both
 * optimizers, plus copies of every actor and target actor, and runs that agent's part of
 * each update round. Actor weights travel between workers on direct message ports.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { initBackend, runtimeInfo } from "../backend.ts";
import type { RuntimeInfo } from "../backend.ts";
import { Pcg32 } from "../rng.ts";
import type { Batch } from "../replay_buffer.ts";
import { MADDPGAgentManager } from "./maddpg.ts";
import type { MaddpgOptions } from "./maddpg.ts";
import type { AdamState } from "../nn/adam.ts";

/** Messages the main thread sends to a learner worker. */
export type ToWorker =
  | {
    type: "init";
    agent: number;
    options: MaddpgOptions;
    actors: Float32Array[];
    targetActors: Float32Array[];
    critic: Float32Array;
    targetCritic: Float32Array;
    /** This agent's optimizers (a resumed run's; fresh ones otherwise). */
    actorOptimizer: AdamState;
    criticOptimizer: AdamState;
    /** Port to each other worker, by agent (null for this one). */
    ports: (MessagePort | null)[];
  }
  | { type: "round"; id: number; batch: Batch; uniforms: Float64Array }
  | { type: "collect" };

/** Messages a learner worker sends to the main thread. */
export type FromWorker =
  | { type: "ready"; runtime: RuntimeInfo }
  | { type: "done"; id: number; critic: number; actor: number; actorParams: Float32Array }
  | {
    type: "state";
    actor: Float32Array;
    targetActor: Float32Array;
    critic: Float32Array;
    targetCritic: Float32Array;
    actorOptimizer: AdamState;
    criticOptimizer: AdamState;
  }
  | { type: "error"; message: string };

let agent = -1;
let manager: MADDPGAgentManager | undefined;
// Actor weights received from each other worker, in order, and who waits for them.
const inbox: Float32Array[][] = [];
const waiting: (((params: Float32Array) => void) | undefined)[] = [];
let ports: (MessagePort | null)[] = [];

function nextActor(from: number): Promise<Float32Array> {
  const queued = inbox[from].shift();
  if (queued) return Promise.resolve(queued);
  return new Promise((resolve) => (waiting[from] = resolve));
}

async function runRound(id: number, batch: Batch, uniforms: Float64Array): Promise<FromWorker> {
  const m = manager!;
  const round = m.beginRound(batch, uniforms);
  let critic: number, actor: number;
  try {
    critic = m.updateCritic(round, agent);
    const prepared = m.prepareActor(round, agent);
    // Agents before this one have already updated their actors this round.
    for (let j = 0; j < agent; j++) {
      m.actors[j].params.set(await nextActor(j));
      m.actors[j].touch();
    }
    actor = m.finishActor(round, prepared);
  } finally {
    m.endRound(round);
  }
  const actorParams = m.actors[agent].params;
  for (const port of ports) port?.postMessage(actorParams.slice());
  for (let j = agent + 1; j < m.numAgents; j++) {
    m.actors[j].params.set(await nextActor(j));
    m.actors[j].touch();
  }
  m.updateTargets([agent]);
  return { type: "done", id, critic, actor, actorParams: actorParams.slice() };
}

// Rounds run one at a time, in arrival order.
let queue: Promise<void> = Promise.resolve();

function reply(message: FromWorker): void {
  self.postMessage(message);
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  queue = queue.then(async () => {
    try {
      if (message.type === "init") {
        await initBackend();
        agent = message.agent;
        // The weights come from the main thread; this generator only fills the placeholders.
        manager = new MADDPGAgentManager(message.options, new Pcg32(0));
        message.actors.forEach((p, j) => manager!.actors[j].params.set(p));
        message.targetActors.forEach((p, j) => manager!.targetActors[j].params.set(p));
        manager.critics[agent].params.set(message.critic);
        manager.targetCritics[agent].params.set(message.targetCritic);
        manager.actorOptimizers[agent].setState(message.actorOptimizer);
        manager.criticOptimizers[agent].setState(message.criticOptimizer);
        for (const net of [...manager.actors, ...manager.targetActors]) net.touch();
        manager.critics[agent].touch();
        manager.targetCritics[agent].touch();
        ports = message.ports;
        ports.forEach((port, j) => {
          inbox[j] = [];
          if (!port) return;
          port.onmessage = (e: MessageEvent<Float32Array>) => {
            const resolve = waiting[j];
            if (resolve) {
              waiting[j] = undefined;
              resolve(e.data);
            } else inbox[j].push(e.data);
          };
        });
        reply({ type: "ready", runtime: runtimeInfo() });
      } else if (message.type === "round") {
        reply(await runRound(message.id, message.batch, message.uniforms));
      } else if (message.type === "collect") {
        const m = manager!;
        reply({
          type: "state",
          actor: m.actors[agent].params.slice(),
          targetActor: m.targetActors[agent].params.slice(),
          critic: m.critics[agent].params.slice(),
          targetCritic: m.targetCritics[agent].params.slice(),
          actorOptimizer: m.actorOptimizers[agent].getState(),
          criticOptimizer: m.criticOptimizers[agent].getState(),
        });
      }
    } catch (error) {
      reply({ type: "error", message: error instanceof Error ? error.message : String(error) });
    }
  });
};
