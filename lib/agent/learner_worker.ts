/**
 * Worker thread of `ParallelLearner`: owns one agent's critics and optimizers, plus copies
 * of every actor and target actor, and runs that agent's part of each update round. Actor
 * weights travel between workers on direct message ports.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { initBackend, runtimeInfo } from "../backend.ts";
import type { RuntimeInfo } from "../backend.ts";
import type { TrainConfig } from "../config.ts";
import { Pcg32 } from "../rng.ts";
import type { Batch } from "../replay_buffer.ts";
import { createAgents, maddpgOptions } from "./algorithms.ts";
import type { LearnerState, UpdateCore } from "./algorithms.ts";
import { GumbelMADDPG } from "./gumbel_maddpg.ts";
import { MADDPGAgentManager } from "./maddpg.ts";

/** Messages the main thread sends to a learner worker. */
export type ToWorker =
  | {
    type: "init";
    agent: number;
    config: TrainConfig;
    shape: { numAgents: number; observationDim: number; actionDim: number };
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

let agent = -1;
let core: UpdateCore | undefined;
// Actor weights received from each other worker, in order, and who waits for them.
const inbox: Float32Array[][] = [];
const waiting: (((params: Float32Array) => void) | undefined)[] = [];
let ports: (MessagePort | null)[] = [];

function nextActor(from: number): Promise<Float32Array> {
  const queued = inbox[from].shift();
  if (queued) return Promise.resolve(queued);
  return new Promise((resolve) => (waiting[from] = resolve));
}

/** Takes the new actors of agents `from`..`to − 1` (not this one) as they arrive. */
async function receiveActors(from: number, to: number): Promise<void> {
  for (let j = from; j < to; j++) {
    if (j === agent) continue;
    core!.actors[j].params.set(await nextActor(j));
    core!.actors[j].touch();
  }
}

function sendActor(): Float32Array {
  const params = core!.actors[agent].params;
  for (const port of ports) port?.postMessage(params.slice());
  return params.slice();
}

/**
 * The notebook's round: agent i's actor update samples the actions of agents before it
 * from their new actors, so it waits for those (its own log-π gradient first).
 */
async function notebookRound(m: MADDPGAgentManager, batch: Batch, uniforms: Float64Array) {
  const round = m.beginRound(batch, uniforms);
  let critic: number, actor: number;
  try {
    critic = m.updateCritic(round, agent);
    const prepared = m.prepareActor(round, agent);
    await receiveActors(0, agent);
    actor = m.finishActor(round, prepared);
  } finally {
    m.endRound(round);
  }
  const actorParams = sendActor();
  await receiveActors(agent + 1, m.numAgents);
  m.updateTargets([agent]);
  return { critic, actor, actorParams };
}

/** The Gumbel algorithms' round: agents are independent until the target updates. */
async function gumbelRound(m: GumbelMADDPG, batch: Batch, uniforms: Float64Array) {
  const round = m.beginRound(batch, uniforms);
  let losses: { critic: number; actor: number };
  try {
    losses = m.updateAgent(round, agent);
  } finally {
    m.endRound(round);
  }
  const actorParams = sendActor();
  await receiveActors(0, m.numAgents);
  m.finishRound(round, [agent]);
  return { ...losses, actorParams };
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
        core = createAgents(
          message.config,
          maddpgOptions(message.config, message.shape),
          new Pcg32(0),
        );
        core.setState(message.state);
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
        const { batch, uniforms } = message;
        const result = core instanceof MADDPGAgentManager
          ? await notebookRound(core, batch, uniforms)
          : await gumbelRound(core as GumbelMADDPG, batch, uniforms);
        reply({ type: "done", id: message.id, ...result });
      } else if (message.type === "collect") {
        reply({ type: "state", state: core!.getState() });
      }
    } catch (error) {
      reply({ type: "error", message: error instanceof Error ? error.message : String(error) });
    }
  });
};
