/** The config: one description per field, and the refusals the algorithms' declarations make. */
import assert from "node:assert/strict";
import { ALGORITHMS, algorithmsUsing } from "../lib/agent/catalogue.ts";
import {
  configArgs,
  configFromRecord,
  experimentFields,
  parseTrainArgs,
  trainHelp,
} from "../lib/config.ts";
import { CONFIG_FIELDS, DEFAULT_TRAIN_CONFIG, FIELD_NAMES, flagOf } from "../lib/config_fields.ts";
import { UsageError } from "../lib/errors.ts";
import { agentShapes, makeTrainingEnv, TrainingRun } from "../lib/train/run.ts";

Deno.test("parseTrainArgs() refuses every flag the algorithm does not use", () => {
  for (
    const [flag, value] of [
      ["--policy-delay", "2"],
      ["--temperature", "1"],
      ["--hard", "false"],
      ["--batch-per-agent", "true"],
      ["--action-noise-after-warmup", "true"],
      ["--lr-decay-updates", "1000"],
    ]
  ) {
    assert.throws(
      () => parseTrainArgs([flag, value]),
      (error: Error) =>
        error instanceof UsageError &&
        error.message.startsWith(`${flag} applies to`) &&
        error.message.endsWith("not to --algo notebook"),
    );
  }
  assert.throws(
    () => parseTrainArgs(["--algo", "maddpg", "--policy-delay", "3"]),
    /applies to matd3/,
  );
  assert.equal(parseTrainArgs(["--algo", "matd3", "--policy-delay", "3"]).config.policyDelay, 3);
});

Deno.test("parseTrainArgs() takes a true/false field as a switch or with its value", () => {
  const parse = (...args: string[]) => parseTrainArgs(["--algo", "maddpg", ...args]).config;
  assert.equal(parse("--batch-per-agent").batchPerAgent, true);
  assert.equal(parse("--batch-per-agent", "--seed", "3").batchPerAgent, true);
  assert.equal(parse("--batch-per-agent", "--seed", "3").seed, 3);
  assert.equal(parse("--batch-per-agent", "true").batchPerAgent, true);
  assert.equal(parse("--batch-per-agent", "false").batchPerAgent, false);
  assert.equal(parse("--batch-per-agent=false").batchPerAgent, false);
  assert.equal(parse("--hard", "--action-noise-after-warmup").hard, true);
  assert.equal(parse("--hard", "--action-noise-after-warmup").actionNoiseAfterWarmup, true);
  assert.equal(parse().batchPerAgent, false);
  assert.throws(
    () => parse("--batch-per-agent", "yes"),
    (error: Error) =>
      error instanceof UsageError &&
      error.message === '--batch-per-agent must be true or false, got "yes"',
  );
});

Deno.test("the declarations say which fields each algorithm uses", () => {
  assert.deepEqual(algorithmsUsing("policyDelay"), ["matd3"]);
  assert.deepEqual(algorithmsUsing("temperature"), ["maddpg", "matd3", "iddpg"]);
  assert.deepEqual(algorithmsUsing("gamma"), ["notebook", "maddpg", "matd3", "iddpg"]);
  assert.match(
    trainHelp(),
    /--policy-delay +critic updates per actor and target update \(matd3\) \[2\]/,
  );
});

Deno.test("an action space an algorithm does not support is refused with the reason", async () => {
  const config = {
    ...DEFAULT_TRAIN_CONFIG,
    env: "simple_spread_v3",
    envOptions: { continuous_actions: "true" },
  };
  const outDir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      () => TrainingRun.open(config, { outDir }),
      /--algo notebook does not support continuous actions \(simple_spread_v3: agent_0\)/,
    );
    assert.deepEqual([...Deno.readDirSync(outDir)], [], "nothing written");
  } finally {
    await Deno.remove(outDir, { recursive: true });
  }
  const supported = Object.values(ALGORITHMS).filter((spec) => spec.supports.continuous);
  assert.deepEqual(supported.map((spec) => spec.name), ["maddpg", "matd3", "iddpg"]);
});

Deno.test("--env and --env-option build the environment; bad ones are one-line errors", () => {
  const flags = parseTrainArgs([
    "--env",
    "simple_spread_v3",
    "--env-option",
    "N=4",
    "--env-option",
    "local_ratio=0.2",
  ]);
  assert.deepEqual(flags.config.envOptions, { N: "4", local_ratio: "0.2" });
  const env = makeTrainingEnv(flags.config);
  assert.equal(env.agents.length, 4);
  assert.deepEqual(agentShapes(env)[0], {
    observationSize: 24,
    actionKind: "discrete",
    actionSize: 5,
    adversary: false,
  });
  assert.throws(
    () => parseTrainArgs(["--env", "nope"]),
    /Unknown environment "nope"; registered: grid_world, /,
  );
  assert.throws(
    () => parseTrainArgs(["--env", "simple_spread_v3", "--env-option", "M=4"]),
    /simple_spread_v3 has no option "M"/,
  );
  assert.throws(() => parseTrainArgs(["--env-option", "size"]), /--env-option must be KEY=VALUE/);
  assert.throws(
    () => parseTrainArgs(["--env", "simple_v3", "--grid-size", "6"]),
    /--grid-size applies to --env grid_world/,
  );
});

Deno.test("every field has one description: a kind, a default, help, and a resume rule", () => {
  for (const name of FIELD_NAMES) {
    const spec = CONFIG_FIELDS[name];
    assert.ok(spec.help.length > 5, name);
    assert.equal(typeof spec.experiment, "boolean", name);
    assert.deepEqual(DEFAULT_TRAIN_CONFIG[name], spec.default, name);
    assert.ok(trainHelp().includes(flagOf(name)), `${name} in --help`);
  }
  assert.deepEqual(
    FIELD_NAMES.filter((name) => !CONFIG_FIELDS[name].experiment),
    ["episodes", "checkpointEvery"],
  );
  assert.equal("threads" in experimentFields(DEFAULT_TRAIN_CONFIG), false);
});

Deno.test("configFromRecord() reads today's and older config.json (threads is ignored)", () => {
  const old = { ...DEFAULT_TRAIN_CONFIG, threads: "auto", actorHidden: undefined };
  delete (old as Record<string, unknown>).actorHidden;
  delete (old as Record<string, unknown>).env;
  const config = configFromRecord(old, "config.json");
  assert.deepEqual(config, DEFAULT_TRAIN_CONFIG);
  assert.throws(() => configFromRecord({ foo: 1 }, "c.json"), /c.json: unknown config field "foo"/);
  assert.throws(
    () => configFromRecord({ actorHidden: "64,x" }, "c.json"),
    /c.json: field "actorHidden" must be comma-separated layer widths/,
  );
});

Deno.test("configArgs() gives flags that parse back to the same config", () => {
  const config = {
    ...DEFAULT_TRAIN_CONFIG,
    algo: "matd3" as const,
    policyDelay: 3,
    actorHidden: [64, 32],
    env: "simple_spread_v3",
    envOptions: { N: "2" },
  };
  assert.deepEqual(parseTrainArgs(configArgs(config)).config, config);
});
