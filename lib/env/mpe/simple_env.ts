/**
 * The environment wrapper of the particle worlds: a port of MPE2's `SimpleEnv` (through
 * PettingZoo's parallel API) as a {@linkcode ParallelEnv}.
 *
 * What it does, in MPE2's order: decodes each agent's action (discrete `m = a % 5`,
 * `comm = a // 5`; continuous clipped to [0, 1], `u = (a2 − a1, a4 − a3) · accel`, the
 * utterance a raw slice), steps the world, computes the rewards (mixed with `local_ratio`
 * when the scenario has one), counts the step (all agents truncated at `maxCycles`; never
 * terminated) and returns float32 observations.
 *
 * @module
 */
import { checkActions } from "../parallel_env.ts";
import type {
  Action,
  ParallelEnv,
  ResetOptions,
  ResetResult,
  StepResult,
} from "../parallel_env.ts";
import { Box, Discrete } from "../spaces.ts";
import type { Space } from "../spaces.ts";
import type { CircleShape, Scene } from "../scene.ts";
import { NumpyGenerator } from "./numpy_random.ts";
import type { Pcg64State } from "./numpy_random.ts";
import type { Agent, World } from "./core.ts";
import type { Scenario } from "./scenario.ts";

/** Letters of discrete utterances in {@linkcode MpeEnv.scene}'s messages (MPE2's alphabet). */
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** Size of a movable agent's part of the action (noop, −x, +x, −y, +y). */
const MOVE_DIM = 5;

/** Options of {@linkcode MpeEnv}. */
export interface MpeEnvOptions<W extends World = World> {
  /** The registry id (`"simple_spread_v3"`). */
  id: string;
  /** The scenario; its world is made by the constructor. */
  scenario: Scenario<W>;
  /** Steps after which every agent is truncated (MPE2's `max_cycles`). @default 25 */
  maxCycles?: number;
  /** Box(0, 1) actions instead of Discrete (MPE2's `continuous_actions`). @default false */
  continuousActions?: boolean;
  /**
   * Weight of an agent's own reward against the scenario's global one, or `null` for
   * scenarios without (MPE2's `local_ratio`). @default null
   */
  localRatio?: number | null;
  /** Put the scenario's benchmark data in each agent's infos (`benchmark_data`). @default false */
  benchmarkData?: boolean;
}

/** One entity in {@linkcode MpeEnvState}. */
export interface MpeEntityState {
  /** Position. */
  pPos: number[];
  /** Velocity. */
  pVel: number[];
  /** Colour (changed by resets that mark goals). */
  color: number[];
  /** Utterance (agents only). */
  c?: number[];
  /** Index in `entities` of the agent's `goalA`, if set. */
  goalA?: number;
  /** Index in `entities` of the agent's `goalB`, if set. */
  goalB?: number;
  /** Crypto's key, if set. */
  key?: number[];
}

/** What {@linkcode MpeEnv.getState} returns: JSON-safe, enough to continue exactly. */
export interface MpeEnvState {
  /** Format tag. */
  format: "mpe-env-state/1";
  /** The environment's id. */
  id: string;
  /** Steps taken in this episode. */
  steps: number;
  /** Whether `reset` has been called. */
  started: boolean;
  /** The generator's state, or `null` before the first reset. */
  rng: Pcg64State | null;
  /** Every entity, in `agents ++ landmarks` order. */
  entities: MpeEntityState[];
}

/**
 * A particle world as a {@linkcode ParallelEnv}, bit for bit MPE2's (see `SPEC.md`).
 *
 * Seeding: `reset({ seed })` makes a fresh numpy `Generator(PCG64(SeedSequence(seed)))` and
 * draws the initial state from it, as MPE2 does; `reset()` continues that generator's stream.
 * The first `reset()` without a seed uses seed 0 (MPE2 would draw OS entropy).
 *
 * Observations: the returned `Float32Array`s are reused. Two sets alternate, so the
 * observations of one call stay valid through the next `step` (a transition `(o, o')` can
 * be read before storing) and are overwritten by the call after it.
 *
 * @example
 * ```ts
 * import { MpeEnv } from "./simple_env.ts";
 * import { SimpleScenario } from "./simple.ts";
 * import assert from "node:assert/strict";
 * const env = new MpeEnv({ id: "simple_v3", scenario: new SimpleScenario() });
 * const { observations } = env.reset({ seed: 42 });
 * assert.equal(observations[0].length, 4);
 * const { truncations } = env.step([2]);
 * assert.deepEqual(truncations, [false]);
 * ```
 */
export class MpeEnv<W extends World = World> implements ParallelEnv {
  /** The registry id. */
  readonly id: string;
  /** Agent names, in `world.agents` order. */
  readonly agents: readonly string[];
  /** Each agent's observation space, `Box(-inf, inf, (n,))`. */
  readonly observationSpaces: readonly Box[];
  /** Each agent's action space. */
  readonly actionSpaces: readonly Space[];
  /** Steps per episode (`max_cycles`). */
  readonly maxSteps: number;
  /** Whether actions are continuous. */
  readonly continuousActions: boolean;
  /** MPE2's `local_ratio`, or `null`. */
  readonly localRatio: number | null;
  /** Whether infos carry benchmark data. */
  readonly benchmarkData: boolean;
  /** The scenario. */
  readonly scenario: Scenario<W>;
  /** The world (read it; change it only between steps, and expect getState to follow). */
  readonly world: W;

  #rng: NumpyGenerator | null = null;
  #steps = 0;
  #started = false;
  readonly #obs: [Float32Array[], Float32Array[]];
  #flip = 0;

  /** A scenario's world behind the parallel interface, as MPE2's `SimpleEnv`. */
  constructor(options: MpeEnvOptions<W>) {
    const { id, scenario, maxCycles = 25, continuousActions = false } = options;
    const localRatio = options.localRatio ?? null;
    if (!Number.isSafeInteger(maxCycles) || maxCycles < 1) {
      throw new RangeError(`${id}: maxCycles must be a positive integer, got ${maxCycles}`);
    }
    if (localRatio !== null && !(localRatio >= 0 && localRatio <= 1)) {
      throw new RangeError(`${id}: localRatio must be in [0, 1], got ${localRatio}`);
    }
    if (localRatio !== null && !scenario.globalReward) {
      throw new RangeError(`${id}: localRatio ${localRatio} needs a scenario with a global reward`);
    }
    this.id = id;
    this.scenario = scenario;
    this.maxSteps = maxCycles;
    this.continuousActions = continuousActions;
    this.localRatio = localRatio;
    this.benchmarkData = options.benchmarkData ?? false;
    const world = scenario.makeWorld();
    this.world = world;
    // MPE2 resets the world in its constructor; the observation sizes are measured on it.
    scenario.resetWorld(world, NumpyGenerator.fromSeed(0));
    this.agents = world.agents.map((agent) => agent.name);
    const scratch = new Float64Array(1 << 16);
    const sizes = world.agents.map((agent) => scenario.observation(agent, world, scratch));
    this.observationSpaces = sizes.map((n) => new Box(-Infinity, Infinity, [n]));
    this.actionSpaces = world.agents.map((agent) => actionSpace(agent, world, continuousActions));
    this.#obs = [
      sizes.map((n) => new Float32Array(n)),
      sizes.map((n) => new Float32Array(n)),
    ];
  }

  /** Steps taken in the current episode. */
  get steps(): number {
    return this.#steps;
  }

  /**
   * Starts an episode: with a seed, a fresh generator from it (MPE2's `reset(seed)`);
   * without, the current generator's stream continues (seed 0 the first time).
   */
  reset(options: ResetOptions = {}): ResetResult {
    const { seed } = options;
    if (seed !== undefined) {
      if (!Number.isSafeInteger(seed) || seed < 0) {
        throw new RangeError(`${this.id}: seed must be a non-negative integer, got ${seed}`);
      }
      this.#rng = NumpyGenerator.fromSeed(seed);
    } else if (this.#rng === null) {
      this.#rng = NumpyGenerator.fromSeed(0);
    }
    this.scenario.resetWorld(this.world, this.#rng);
    this.#steps = 0;
    this.#started = true;
    return { observations: this.#observe(), infos: this.agents.map(() => ({})) };
  }

  /**
   * Applies one action per agent (see the module description). Throws a `RangeError` naming
   * the agent and the value for an action outside its space (NaN, wrong length, index out
   * of range), before anything changes; continuous values outside [0, 1] are clipped as
   * MPE2 does. A `Float32Array` action is computed in float32 like a numpy float32 array.
   */
  step(actions: readonly Action[]): StepResult {
    if (!this.#started) throw new Error(`${this.id}: call reset() before step()`);
    if (this.#steps >= this.maxSteps) {
      throw new Error(
        `${this.id}: the episode was truncated after ${this.#steps} steps; call reset()`,
      );
    }
    checkActions(this, actions);
    const world = this.world, agents = world.agents, n = agents.length;
    for (let i = 0; i < n; i++) this.#setAction(agents[i], actions[i]);
    world.step();

    const scenario = this.scenario, ratio = this.localRatio;
    const global = ratio !== null ? scenario.globalReward!(world) : 0.0;
    const rewards = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const own = scenario.reward(agents[i], world);
      rewards[i] = ratio !== null ? global * (1 - ratio) + own * ratio : own;
    }
    this.#steps++;
    const truncated = this.#steps >= this.maxSteps;
    const terminations = new Array<boolean>(n).fill(false);
    const truncations = new Array<boolean>(n).fill(truncated);
    return {
      observations: this.#observe(),
      rewards,
      terminations,
      truncations,
      infos: this.#infos(),
    };
  }

  /** Sets `agent.action` from one validated action (MPE2's `_set_action`). */
  #setAction(agent: Agent, action: Action): void {
    const u = agent.action.u, c = agent.action.c;
    u[0] = 0;
    u[1] = 0;
    c.fill(0);
    if (!this.continuousActions) {
      let index = action as number;
      if (agent.movable) {
        const move = index % MOVE_DIM;
        index = Math.floor(index / MOVE_DIM);
        if (move === 1) u[0] = -1.0;
        if (move === 2) u[0] = +1.0;
        if (move === 3) u[1] = -1.0;
        if (move === 4) u[1] = +1.0;
        const sensitivity = agent.accel ?? 5.0;
        u[0] *= sensitivity;
        u[1] *= sensitivity;
      }
      if (!agent.silent) c[index] = 1.0;
      return;
    }
    const values = action as ArrayLike<number>;
    const f32 = values instanceof Float32Array;
    let at = 0;
    if (agent.movable) {
      const a1 = clip01(values[1]), a2 = clip01(values[2]);
      const a3 = clip01(values[3]), a4 = clip01(values[4]);
      u[0] += f32 ? Math.fround(a2 - a1) : a2 - a1;
      u[1] += f32 ? Math.fround(a4 - a3) : a4 - a3;
      const sensitivity = agent.accel ?? 5.0;
      u[0] *= sensitivity;
      u[1] *= sensitivity;
      at = MOVE_DIM;
    }
    if (!agent.silent) {
      for (let k = 0; k < c.length; k++) c[k] = clip01(values[at + k]);
    }
  }

  /** Writes every agent's observation into the next set of reused buffers. */
  #observe(): Float32Array[] {
    this.#flip ^= 1;
    const out = this.#obs[this.#flip];
    const world = this.world, agents = world.agents;
    for (let i = 0; i < agents.length; i++) this.scenario.observation(agents[i], world, out[i]);
    return out;
  }

  #infos(): Record<string, unknown>[] {
    const agents = this.world.agents;
    if (!this.benchmarkData || !this.scenario.benchmarkData) return agents.map(() => ({}));
    return agents.map((agent) => ({
      benchmark_data: this.scenario.benchmarkData!(agent, this.world),
    }));
  }

  /**
   * The current state as circles (colour = entity colour, radius = size, black outline),
   * in `agents ++ landmarks` order, viewed like MPE2's camera (`±max|position| / 0.9`, at
   * least ±1), with MPE2's "<name> sends <word>" line for every agent that speaks.
   */
  scene(): Scene {
    const entities = this.world.entities;
    let cam = 0;
    for (const e of entities) cam = Math.max(cam, Math.abs(e.pPos[0]), Math.abs(e.pPos[1]));
    const half = Math.max(cam / 0.9, 1);
    const shapes: CircleShape[] = entities.map((e) => ({
      kind: "circle",
      x: e.pPos[0],
      y: e.pPos[1],
      radius: e.size,
      color: [e.color[0] ?? 0, e.color[1] ?? 0, e.color[2] ?? 0],
      stroke: [0, 0, 0],
    }));
    const messages: string[] = [];
    for (const agent of this.world.agents) {
      if (agent.silent) continue;
      const c = agent.c;
      let word: string;
      if (c.every((v) => v === 0)) {
        word = "_";
      } else if (this.continuousActions) {
        word = "[" + Array.from(c, formatComm).join(",") + "]";
      } else {
        let best = 0;
        for (let k = 1; k < c.length; k++) if (c[k] > c[best]) best = k;
        word = ALPHABET[best];
      }
      messages.push(`${agent.name} sends ${word}`);
    }
    return { view: [-half, -half, half, half], shapes, messages };
  }

  /** Positions, velocities, utterances, colours, goals, step count and generator state. */
  getState(): MpeEnvState {
    const world = this.world, entities = world.entities;
    return {
      format: "mpe-env-state/1",
      id: this.id,
      steps: this.#steps,
      started: this.#started,
      rng: this.#rng === null ? null : this.#rng.getState(),
      entities: entities.map((e, i) => {
        const s: MpeEntityState = {
          pPos: Array.from(e.pPos),
          pVel: Array.from(e.pVel),
          color: Array.from(e.color),
        };
        if (i < world.agents.length) {
          const agent = e as Agent;
          s.c = Array.from(agent.c);
          if (agent.goalA) s.goalA = entities.indexOf(agent.goalA);
          if (agent.goalB) s.goalB = entities.indexOf(agent.goalB);
          if (agent.key) s.key = Array.from(agent.key);
        }
        return s;
      }),
    };
  }

  /**
   * Restores {@linkcode MpeEnv.getState}'s result (validated first: a `RangeError` names
   * what is wrong, and nothing changes).
   */
  setState(state: unknown): void {
    const s = state as MpeEnvState;
    const fail = (what: string): never => {
      throw new RangeError(`${this.id}: cannot restore state: ${what}`);
    };
    if (typeof s !== "object" || s === null || s.format !== "mpe-env-state/1") {
      fail(`not an mpe-env-state/1 object: ${JSON.stringify(state)?.slice(0, 80)}`);
    }
    if (s.id !== this.id) fail(`it belongs to "${s.id}", not "${this.id}"`);
    if (!Number.isSafeInteger(s.steps) || s.steps < 0 || s.steps > this.maxSteps) {
      fail(`steps must be an integer in 0..${this.maxSteps}, got ${s.steps}`);
    }
    const parsed = readEntityStates(s.entities, this.world, fail);
    let rng: NumpyGenerator | null = null;
    if (s.rng !== null) {
      if (typeof s.rng !== "object") fail(`rng must be a PCG64 state or null`);
      rng = NumpyGenerator.fromState(s.rng);
    }
    // Everything is valid: apply.
    const world = this.world;
    parsed.forEach((p, i) => {
      const e = world.entities[i];
      e.pPos.set(p.pPos);
      e.pVel.set(p.pVel);
      e.color = Float64Array.from(p.color);
      if (i < world.agents.length) {
        const agent = e as Agent;
        agent.c.set(p.c!);
        agent.goalA = p.goalA;
        agent.goalB = p.goalB;
        agent.key = p.key ? Float64Array.from(p.key) : null;
      }
    });
    this.#rng = rng;
    this.#steps = s.steps;
    this.#started = s.started === true;
  }
}

/** One entity's saved state, checked against `world` (agents' fields are null for landmarks). */
interface EntityValues {
  pPos: number[];
  pVel: number[];
  color: number[];
  c: number[] | null;
  goalA: Agent["goalA"];
  goalB: Agent["goalB"];
  key: number[] | null;
}

/** The saved `entities` of an `mpe-env-state/1`, checked against `world`; `fail` names a fault. */
function readEntityStates(
  saved: MpeEnvState["entities"] | undefined,
  world: World,
  fail: (what: string) => never,
): EntityValues[] {
  const entities = world.entities;
  if (!Array.isArray(saved) || saved.length !== entities.length) {
    fail(`expected ${entities.length} entities, got ${saved?.length}`);
  }
  const numbers = (v: unknown, n: number, where: string): number[] => {
    if (!Array.isArray(v) || v.length !== n || !v.every((x) => typeof x === "number")) {
      fail(`${where} must be ${n} numbers, got ${JSON.stringify(v)}`);
    }
    return v as number[];
  };
  const index = (v: unknown, where: string): Agent["goalA"] => {
    if (v === undefined) return null;
    if (!Number.isSafeInteger(v) || (v as number) < 0 || (v as number) >= entities.length) {
      fail(`${where} must be an entity index, got ${JSON.stringify(v)}`);
    }
    return entities[v as number];
  };
  return saved!.map((es, i) => {
    const name = entities[i].name;
    const agent = i < world.agents.length;
    return {
      pPos: numbers(es.pPos, 2, `${name}.pPos`),
      pVel: numbers(es.pVel, 2, `${name}.pVel`),
      color: numbers(es.color, es.color?.length ?? -1, `${name}.color`),
      c: agent ? numbers(es.c, world.dimC, `${name}.c`) : null,
      goalA: agent ? index(es.goalA, `${name}.goalA`) : null,
      goalB: agent ? index(es.goalB, `${name}.goalB`) : null,
      key: agent && es.key !== undefined ? numbers(es.key, es.key.length, `${name}.key`) : null,
    };
  });
}

/** The action space of `agent` (MPE2's rule: 5 moves if movable, times or plus `dim_c`). */
function actionSpace(agent: Agent, world: World, continuous: boolean): Space {
  let dim = agent.movable ? world.dimP * 2 + 1 : continuous ? 0 : 1;
  if (!agent.silent) {
    if (continuous) dim += world.dimC;
    else dim *= world.dimC;
  }
  return continuous ? new Box(0, 1, [dim]) : new Discrete(dim);
}

function clip01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

/**
 * Python's `f"{x:.2f}"`: like `toFixed(2)`, except that an exact tie rounds to the even
 * digit (Python: `0.125` → `"0.12"`; `toFixed`: `"0.13"`).
 */
export function formatComm(x: number): string {
  const text = x.toFixed(2);
  const exact = Math.abs(x).toFixed(100);
  const dot = exact.indexOf(".");
  const rest = exact.slice(dot + 3);
  if (!/^50*$/.test(rest)) return text;
  const truncated = (Math.trunc(Math.abs(x) * 100) / 100).toFixed(2);
  const lastDigit = Number(exact[dot + 2]);
  const rounded = lastDigit % 2 === 0 ? truncated : text.replace("-", "");
  return (x < 0 || Object.is(x, -0) ? "-" : "") + rounded;
}
