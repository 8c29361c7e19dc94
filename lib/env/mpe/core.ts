/**
 * The physics of the particle worlds: a port of MPE2's `_mpe_utils/core.py` (Farama, MIT,
 * commit `dbd68d2`) in its exact floating-point operation order, so a world steps to the
 * same float64 state bit for bit (up to `exp`/`log1p` differing by one ulp between libm and
 * V8, which the contact force uses).
 *
 * Names follow Python's in camelCase: `state.p_pos` is {@linkcode Entity.pPos},
 * `state.p_vel` is {@linkcode Entity.pVel}, `state.c` is {@linkcode Agent.c}, `max_speed` is
 * {@linkcode Entity.maxSpeed}. The attributes that MPE2's scenarios add in subclasses
 * (`adversary`, `leader`, `goal_a`, `key`, …) live on the base classes here, so that the
 * environment wrapper can save and restore them without knowing the scenario.
 *
 * @module
 */

/** Python's `np.logaddexp(0.0, y)` evaluated exactly as numpy does (`npy_logaddexp`). */
export function logAddExp(x: number, y: number): number {
  if (x === y) return x + Math.LN2;
  const tmp = x - y;
  if (tmp > 0) return x + Math.log1p(Math.exp(-tmp));
  if (tmp <= 0) return y + Math.log1p(Math.exp(tmp));
  return tmp; // NaN
}

/**
 * Properties and state of a physical entity (MPE2's `Entity` and `EntityState`).
 *
 * Every field is public and mutable, as in Python; a {@linkcode World} reads them on each
 * step.
 */
export class Entity {
  /** Name (`agent_0`, `landmark 0`, …). */
  name = "";
  /** Radius. */
  size = 0.05;
  /** Whether the entity moves (is integrated and can be pushed). */
  movable = false;
  /** Whether the entity takes part in contact forces. */
  collide = true;
  /** Material density (unused by the physics, kept from MPE2). */
  density = 25.0;
  /** Colour, RGB in [0, 1] (crypto's landmarks use 4-dimensional one-hot "colours"). */
  color: Float64Array = new Float64Array(3);
  /** Speed limit, or `null` for none. */
  maxSpeed: number | null = null;
  /** Action scale (MPE2's `accel`); `null` means 5.0. */
  accel: number | null = null;
  /** Mass. */
  initialMass = 1.0;
  /** Position (`state.p_pos`). */
  readonly pPos: Float64Array = new Float64Array(2);
  /** Velocity (`state.p_vel`). */
  readonly pVel: Float64Array = new Float64Array(2);
  /** Whether this is a landmark used as a world boundary (tag, world_comm; always false). */
  boundary = false;

  /** Mass (MPE2's `mass` property: the initial mass). */
  get mass(): number {
    return this.initialMass;
  }
}

/** An agent's action (MPE2's `Action`): physical force `u` and utterance `c`. */
export interface AgentAction {
  /** Physical action (force before the contact forces), length `dim_p`. */
  u: Float64Array;
  /** Communication action, length `dim_c`. */
  c: Float64Array;
}

/**
 * An agent (MPE2's `Agent` and `AgentState`): movable by default, with an utterance
 * {@linkcode Agent.c} of length `dim_c` (sized by {@linkcode World}'s constructor).
 */
export class Agent extends Entity {
  /** Whether the agent cannot speak (its `c` is zeros after each step). */
  silent = false;
  /** Whether the agent cannot observe the world (unused by the scenarios, kept from MPE2). */
  blind = false;
  /** Motor noise; MPE2's scenarios never set it and this port does not support it. */
  readonly uNoise: null = null;
  /** Communication noise; never set by MPE2's scenarios, not supported. */
  readonly cNoise: null = null;
  /** Control range (unused, kept from MPE2). */
  uRange = 1.0;
  /** Utterance (`state.c`). */
  c: Float64Array = new Float64Array(0);
  /** The action applied by the next {@linkcode World.step}. */
  readonly action: AgentAction = { u: new Float64Array(2), c: new Float64Array(0) };
  /** Adversary flag of competitive scenarios. */
  adversary = false;
  /** Leader flag (world_comm's `leadadversary_0`). */
  leader = false;
  /** Speaker flag (crypto's alice). */
  speaker = false;
  /** First goal entity (`goal_a`), or `null`. */
  goalA: Entity | null = null;
  /** Second goal entity (`goal_b`), or `null`. */
  goalB: Entity | null = null;
  /** Crypto's key (a landmark's colour), or `null`. */
  key: Float64Array | null = null;

  constructor() {
    super();
    this.movable = true;
  }
}

/** A landmark (MPE2's `Landmark`): an entity that scenarios make immovable. */
export class Landmark extends Entity {
  /** Push's landmark index (`landmark.index`). */
  index = 0;
}

/** What {@linkcode World}'s constructor takes. */
export interface WorldOptions {
  /** The agents, in order. */
  agents: Agent[];
  /** The landmarks, in order (after the agents in {@linkcode World.entities}). */
  landmarks: Landmark[];
  /** Communication dimension (`dim_c`). @default 0 */
  dimC?: number;
  /** Whether the scenario is cooperative (informational). @default false */
  collaborative?: boolean;
  /** Food landmarks (world_comm; already part of `landmarks`). @default [] */
  food?: Landmark[];
  /** Forest landmarks (world_comm; already part of `landmarks`). @default [] */
  forests?: Landmark[];
}

/**
 * A multi-agent world (MPE2's `World`) with its physics {@linkcode World.step}.
 *
 * The entity lists are fixed at construction; the step allocates nothing.
 */
export class World {
  /** Agents, in order. */
  readonly agents: Agent[];
  /** Landmarks, in order. */
  readonly landmarks: Landmark[];
  /** `agents ++ landmarks`, the order of every physics loop. */
  readonly entities: Entity[];
  /** Communication dimension. */
  readonly dimC: number;
  /** Position dimension (2). */
  readonly dimP = 2;
  /** Colour dimension (3). */
  readonly dimColor = 3;
  /** Time step. */
  dt = 0.1;
  /** Velocity damping per step. */
  damping = 0.25;
  /** Contact force stiffness. */
  contactForce = 1e2;
  /** Contact softness. */
  contactMargin = 1e-3;
  /** Whether the scenario is cooperative. */
  readonly collaborative: boolean;
  /** world_comm's food landmarks (a subset of `landmarks`). */
  readonly food: Landmark[];
  /** world_comm's forest landmarks (a subset of `landmarks`). */
  readonly forests: Landmark[];

  /** Force per entity, x and y interleaved (scratch). */
  readonly #force: Float64Array;
  /** Whether an entity's force is set (Python's `None` test). */
  readonly #hasForce: Uint8Array;

  /** A world of the given agents and landmarks (in that order its entities). */
  constructor(options: WorldOptions) {
    const dimC = options.dimC ?? 0;
    if (!Number.isSafeInteger(dimC) || dimC < 0) {
      throw new RangeError(`World dimC must be a non-negative integer, got ${dimC}`);
    }
    this.agents = options.agents;
    this.landmarks = options.landmarks;
    this.entities = [...options.agents, ...options.landmarks];
    this.dimC = dimC;
    this.collaborative = options.collaborative ?? false;
    this.food = options.food ?? [];
    this.forests = options.forests ?? [];
    for (const agent of this.agents) {
      agent.c = new Float64Array(dimC);
      agent.action.c = new Float64Array(dimC);
    }
    this.#force = new Float64Array(2 * this.entities.length);
    this.#hasForce = new Uint8Array(this.entities.length);
  }

  /**
   * One physics step (MPE2's `World.step`): action forces, contact forces of every pair
   * `i < j` that both collide, integration (position with the old velocity, then damping,
   * force and the speed clamp), then the utterances.
   */
  step(): void {
    this.#hasForce.fill(0);
    this.#actionForces();
    this.#contactForces();
    this.#integrate();
    this.#utter();
  }

  /** `p_force[i] = u + 0.0` (MPE2 adds its noise term, 0 here) for every movable agent. */
  #actionForces(): void {
    const force = this.#force, has = this.#hasForce, agents = this.agents;
    for (let i = 0; i < agents.length; i++) {
      const agent = agents[i];
      if (!agent.movable) continue;
      force[2 * i] = agent.action.u[0] + 0.0;
      force[2 * i + 1] = agent.action.u[1] + 0.0;
      has[i] = 1;
    }
  }

  /** Contact forces of every pair `a < b` that both collide (no distance cut-off, as MPE2). */
  #contactForces(): void {
    const entities = this.entities, n = entities.length;
    const k = this.contactMargin, contact = this.contactForce;
    for (let a = 0; a < n; a++) {
      const ea = entities[a];
      if (!ea.collide) continue;
      const pa = ea.pPos;
      for (let b = a + 1; b < n; b++) {
        const eb = entities[b];
        if (!eb.collide) continue;
        const pb = eb.pPos;
        const dx = pa[0] - pb[0], dy = pa[1] - pb[1];
        const dist = Math.sqrt(dx * dx + dy * dy);
        const distMin = ea.size + eb.size;
        const penetration = logAddExp(0, -(dist - distMin) / k) * k;
        const fx = contact * dx / dist * penetration;
        const fy = contact * dy / dist * penetration;
        if (ea.movable) this.#addForce(a, fx, fy);
        if (eb.movable) this.#addForce(b, -fx, -fy);
      }
    }
  }

  /** `F[i] = f + F[i]`, or `f + 0.0` for a force MPE2 still holds as `None`. */
  #addForce(i: number, fx: number, fy: number): void {
    const force = this.#force, has = this.#hasForce;
    if (has[i]) {
      force[2 * i] = fx + force[2 * i];
      force[2 * i + 1] = fy + force[2 * i + 1];
    } else {
      force[2 * i] = fx + 0.0;
      force[2 * i + 1] = fy + 0.0;
      has[i] = 1;
    }
  }

  /** Position with the old velocity, then damping, force and the speed clamp. */
  #integrate(): void {
    const entities = this.entities, force = this.#force, has = this.#hasForce;
    const dt = this.dt, keep = 1 - this.damping;
    for (let i = 0; i < entities.length; i++) {
      const e = entities[i];
      if (!e.movable) continue;
      const p = e.pPos, v = e.pVel;
      p[0] += v[0] * dt;
      p[1] += v[1] * dt;
      v[0] = v[0] * keep;
      v[1] = v[1] * keep;
      if (has[i]) {
        const mass = e.initialMass;
        v[0] += (force[2 * i] / mass) * dt;
        v[1] += (force[2 * i + 1] / mass) * dt;
      }
      const maxSpeed = e.maxSpeed;
      if (maxSpeed !== null) {
        const speed = Math.sqrt(v[0] * v[0] + v[1] * v[1]);
        if (speed > maxSpeed) {
          v[0] = v[0] / speed * maxSpeed;
          v[1] = v[1] / speed * maxSpeed;
        }
      }
    }
  }

  /** Each agent's utterance: zeros when silent, else its communication action. */
  #utter(): void {
    for (const agent of this.agents) {
      const c = agent.c;
      if (agent.silent) {
        c.fill(0);
      } else {
        const ac = agent.action.c;
        for (let j = 0; j < c.length; j++) c[j] = ac[j] + 0.0;
      }
    }
  }
}

/** Euclidean distance between two entities, as MPE2 computes it (`sqrt(dx² + dy²)`). */
export function distance(a: Entity, b: Entity): number {
  const dx = a.pPos[0] - b.pPos[0], dy = a.pPos[1] - b.pPos[1];
  return Math.sqrt(dx * dx + dy * dy);
}

/** Squared distance `Σ (a - b)²` between two entities' positions. */
export function squaredDistance(a: Entity, b: Entity): number {
  const dx = a.pPos[0] - b.pPos[0], dy = a.pPos[1] - b.pPos[1];
  return dx * dx + dy * dy;
}

/** MPE2's scenarios' `is_collision`: the entities overlap (`dist < size_a + size_b`). */
export function isCollision(a: Entity, b: Entity): boolean {
  return distance(a, b) < a.size + b.size;
}
