/**
 * Replays every MPE2 golden trace in `tests/fixtures/mpe/traces/` (made by the original
 * Python source; see that folder's README.md) through the TypeScript port: the same
 * `reset(seed)` must give the same initial world and observations, and every recorded
 * joint action the same observations (float32, exactly), rewards and world state (relative
 * 1e-12: `exp`/`log1p` may differ by one ulp between glibc and V8), and flags.
 */
import assert from "node:assert/strict";
import { makeEnv } from "../lib/env/registry.ts";
import { MpeEnv } from "../lib/env/mpe/mod.ts";
import type { Agent } from "../lib/env/mpe/mod.ts";

const DIR = new URL("./fixtures/mpe/traces/", import.meta.url);

interface EntityRecord {
  p_pos: number[];
  p_vel: number[];
  c?: number[];
  color?: number[];
  goal_a?: number;
  goal_b?: number;
  key?: number[];
}
interface SpecEntity {
  name: string;
  kind: string;
  size: number;
  mass: number;
  movable: boolean;
  collide: boolean;
  max_speed: number | null;
  accel: number | null;
  silent?: boolean;
  adversary?: boolean;
  leader?: boolean;
}
interface SpaceRecord {
  type: string;
  n?: number;
  shape?: number[];
}
interface Trace {
  header: {
    env: string;
    env_kwargs: Record<string, unknown>;
    seed: number;
    action_dtype: string;
    possible_agents: string[];
    action_spaces: Record<string, SpaceRecord>;
    observation_shapes: Record<string, number[]>;
    world_spec: {
      dim_c: number;
      dt: number;
      damping: number;
      contact_force: number;
      contact_margin: number;
      entities: SpecEntity[];
    };
  };
  initial: {
    world: EntityRecord[];
    obs: Record<string, number[]>;
    env_rng_state_after_reset: { state: string; inc: string; has_uint32: number; uinteger: number };
  };
  steps: {
    t: number;
    actions: Record<string, number | number[]>;
    obs: Record<string, number[]>;
    rewards: Record<string, number>;
    terminations: Record<string, boolean>;
    truncations: Record<string, boolean>;
    world: EntityRecord[];
  }[];
}

/** Relative tolerance of world state and rewards. */
const REL = 1e-12;
/** Absolute tolerance near zero. */
const ABS = 1e-300;

function close(actual: number, expected: number): boolean {
  if (actual === expected) return true;
  const diff = Math.abs(actual - expected);
  return diff <= ABS || diff <= REL * Math.max(Math.abs(actual), Math.abs(expected));
}

/** Largest relative difference seen per trace (reported when a trace passes inexactly). */
function relative(actual: number, expected: number): number {
  if (actual === expected) return 0;
  return Math.abs(actual - expected) / Math.max(Math.abs(actual), Math.abs(expected));
}

function checkVector(
  actual: ArrayLike<number>,
  expected: readonly number[],
  where: string,
  stats: { maxRel: number; inexact: number },
): void {
  assert.deepEqual(actual.length, expected.length, `${where}: length`);
  for (let k = 0; k < expected.length; k++) {
    if (actual[k] !== expected[k]) {
      stats.inexact++;
      stats.maxRel = Math.max(stats.maxRel, relative(actual[k], expected[k]));
    }
    assert.ok(
      close(actual[k], expected[k]),
      `${where}[${k}]: got ${actual[k]}, MPE2 ${expected[k]} (rel ${
        relative(actual[k], expected[k]).toExponential(2)
      })`,
    );
  }
}

function checkObservation(actual: Float32Array, expected: readonly number[], where: string) {
  assert.deepEqual(actual.length, expected.length, `${where}: observation length`);
  for (let k = 0; k < expected.length; k++) {
    assert.ok(
      actual[k] === expected[k],
      `${where}: observation[${k}] got ${actual[k]}, MPE2 ${expected[k]}`,
    );
  }
}

function checkWorld(
  env: MpeEnv,
  records: EntityRecord[],
  where: string,
  stats: { maxRel: number; inexact: number },
  full: boolean,
) {
  const entities = env.world.entities;
  assert.deepEqual(entities.length, records.length, `${where}: entity count`);
  records.forEach((record, i) => {
    const e = entities[i];
    const name = `${where} ${e.name}`;
    checkVector(e.pPos, record.p_pos, `${name} p_pos`, stats);
    checkVector(e.pVel, record.p_vel, `${name} p_vel`, stats);
    if (record.c) checkVector((e as Agent).c, record.c, `${name} c`, stats);
    if (!full) return;
    if (record.color) assert.deepEqual(Array.from(e.color), record.color, `${name} color`);
    if (i < env.world.agents.length) {
      const agent = e as Agent;
      const index = (x: unknown) => x === null ? undefined : entities.indexOf(x as Agent);
      assert.deepEqual(index(agent.goalA), record.goal_a, `${name} goal_a`);
      assert.deepEqual(index(agent.goalB), record.goal_b, `${name} goal_b`);
      assert.deepEqual(agent.key ? Array.from(agent.key) : undefined, record.key, `${name} key`);
    }
  });
}

function hex128(decimal: string): string {
  return BigInt(decimal).toString(16).padStart(32, "0");
}

const files: string[] = [];
for (const entry of Deno.readDirSync(DIR)) {
  if (entry.isFile && entry.name.endsWith(".json")) files.push(entry.name);
}
files.sort();

Deno.test("mpe traces: the fixture folder holds traces of all nine scenarios", () => {
  const envs = new Set(files.map((f) => f.replace(/_(discrete|continuous).*$/, "")));
  assert.deepEqual([...envs].sort(), [
    "simple_adversary_v3",
    "simple_crypto_v3",
    "simple_push_v3",
    "simple_reference_v3",
    "simple_speaker_listener_v4",
    "simple_spread_v3",
    "simple_tag_v3",
    "simple_v3",
    "simple_world_comm_v3",
  ]);
});

for (const file of files) {
  Deno.test(`mpe trace ${file}`, () => {
    const trace: Trace = JSON.parse(Deno.readTextFileSync(new URL(file, DIR)));
    const { header } = trace;
    const env = makeEnv(header.env, header.env_kwargs);
    assert.ok(env instanceof MpeEnv, `${header.env} is not an MpeEnv`);
    const stats = { maxRel: 0, inexact: 0 };

    // Agents and spaces.
    assert.deepEqual([...env.agents], header.possible_agents, "agents");
    env.agents.forEach((name, i) => {
      const space = env.actionSpaces[i], record = header.action_spaces[name];
      if (record.type === "Discrete") {
        assert.deepEqual(space.kind, "discrete", `${name} action space kind`);
        assert.deepEqual(space.size, record.n, `${name} Discrete n`);
      } else {
        assert.deepEqual(space.kind, "box", `${name} action space kind`);
        assert.deepEqual([space.size], record.shape, `${name} Box shape`);
      }
      assert.deepEqual([...env.observationSpaces[i].shape], header.observation_shapes[name]);
    });
    assert.deepEqual(env.maxSteps, header.env_kwargs.max_cycles);

    // Static world.
    const world = env.world, spec = header.world_spec;
    assert.deepEqual(world.dimC, spec.dim_c, "dim_c");
    assert.deepEqual(
      [world.dt, world.damping, world.contactForce, world.contactMargin],
      [spec.dt, spec.damping, spec.contact_force, spec.contact_margin],
    );
    assert.deepEqual(world.entities.length, spec.entities.length, "entity count");
    spec.entities.forEach((s, i) => {
      const e = world.entities[i];
      assert.deepEqual(
        {
          name: e.name,
          kind: i < world.agents.length ? "agent" : "landmark",
          size: e.size,
          mass: e.mass,
          movable: e.movable,
          collide: e.collide,
          max_speed: e.maxSpeed,
          accel: e.accel,
        },
        {
          name: s.name,
          kind: s.kind,
          size: s.size,
          mass: s.mass,
          movable: s.movable,
          collide: s.collide,
          max_speed: s.max_speed,
          accel: s.accel,
        },
        `entity ${i}`,
      );
      if (s.silent !== undefined) {
        assert.deepEqual((e as Agent).silent, s.silent, `${s.name} silent`);
      }
      if (s.adversary !== undefined) {
        assert.deepEqual((e as Agent).adversary, s.adversary, `${s.name} adversary`);
      }
      if (s.leader !== undefined) {
        assert.deepEqual((e as Agent).leader, s.leader, `${s.name} leader`);
      }
    });

    // Reset.
    const { observations } = env.reset({ seed: header.seed });
    checkWorld(env, trace.initial.world, "reset", stats, true);
    env.agents.forEach((name, i) => {
      checkObservation(observations[i], trace.initial.obs[name], `reset ${name}`);
    });
    const rng = (env.getState().rng)!;
    const expectedRng = trace.initial.env_rng_state_after_reset;
    assert.deepEqual(rng.state, hex128(expectedRng.state), "PCG64 state after reset");
    assert.deepEqual(rng.inc, hex128(expectedRng.inc), "PCG64 inc after reset");
    assert.deepEqual(rng.hasUint32, expectedRng.has_uint32 === 1, "PCG64 has_uint32 after reset");
    if (rng.hasUint32) assert.deepEqual(rng.uinteger, expectedRng.uinteger, "buffered half");

    // Steps.
    const f32 = header.action_dtype === "float32";
    for (const step of trace.steps) {
      const actions = env.agents.map((name) => {
        const a = step.actions[name];
        return typeof a === "number" ? a : f32 ? Float32Array.from(a) : Float64Array.from(a);
      });
      const result = env.step(actions);
      const where = `step ${step.t}`;
      env.agents.forEach((name, i) => {
        checkObservation(result.observations[i], step.obs[name], `${where} ${name}`);
        checkVector([result.rewards[i]], [step.rewards[name]], `${where} ${name} reward`, stats);
        assert.deepEqual(result.terminations[i], step.terminations[name], `${where} termination`);
        assert.deepEqual(result.truncations[i], step.truncations[name], `${where} truncation`);
      });
      checkWorld(env, step.world, where, stats, false);
    }
    if (stats.inexact > 0) {
      // Within tolerance but not bit-identical: the libm-vs-V8 ulp of exp/log1p.
      // deno-lint-ignore no-console
      console.log(
        `  ${file}: ${stats.inexact} values within tolerance, not identical (max rel ${
          stats.maxRel.toExponential(2)
        })`,
      );
    }
  });
}
