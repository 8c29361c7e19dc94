/**
 * PyTorch checkpoints: reading a `torch.save` file of state dicts, importing its actors into a
 * run directory, and cross-play between runs, on the fixture of `_torch_fixture.ts`.
 */
import assert from "node:assert/strict";
import { makeEnv } from "../lib/env/registry.ts";
import { UsageError } from "../lib/errors.ts";
import {
  isTorchTensor,
  mlpFromStateDict,
  readTorchCheckpoint,
  stateDictAt,
} from "../lib/nn/torch_state_dict.ts";
import { crossplay, crossplayTable } from "../scripts/crossplay.ts";
import { evaluate, loadRun, takeAdversaries } from "../scripts/evaluate.ts";
import { importTorch } from "../scripts/import_torch.ts";
import { runEpisode } from "../scripts/render.ts";
import { assertUsageError, ROOT, runScript, snapshot } from "./_run.ts";
import { FIXTURE, fixtureRun, TAG } from "./_torch_fixture.ts";

const PROBES: {
  probes: { observations: number[][]; actions: number[][] }[];
  seed: number;
  episodes: number[][];
} = JSON.parse(
  await Deno.readTextFile(`${ROOT}tests/fixtures/torch/actors_tag.json`),
);

/** Asserts `actual` within `tolerance` of `expected`, element by element. */
function assertClose(
  actual: ArrayLike<number>,
  expected: readonly number[],
  what: string,
  tolerance = 1e-6,
) {
  assert.equal(actual.length, expected.length, what);
  for (let k = 0; k < expected.length; k++) {
    assert.ok(
      Math.abs(actual[k] - expected[k]) < tolerance,
      `${what}[${k}]: ${actual[k]} vs ${expected[k]}`,
    );
  }
}

Deno.test("a torch.save dict of state dicts reads back with its names, shapes and values", async () => {
  const root = readTorchCheckpoint(await Deno.readFile(FIXTURE), "actors_tag.pt") as Map<
    string,
    unknown
  >;
  assert.deepEqual(
    [...root.keys()],
    [0, 1, 2, 3].flatMap((i) => [`agent_${i}_actor`, `agent_${i}_critic`]),
  );
  const actor = stateDictAt(root, "agent_3_actor", "fixture");
  assert.deepEqual(
    [...actor].map(([name, t]) => [name, t.shape]),
    [["fc1.weight", [8, 14]], ["fc1.bias", [8]], ["fc2.weight", [8, 8]], ["fc2.bias", [8]], [
      "fc3.weight",
      [5, 8],
    ], ["fc3.bias", [5]]],
  );
  assert.ok([...actor.values()].every(isTorchTensor));
  // An nn.Sequential's layers are named 0 and 2 (the ReLU between them holds no parameters).
  const critic = mlpFromStateDict(stateDictAt(root, "agent_0_critic", "fixture"), [
    "relu",
    "linear",
  ], "c");
  assert.deepEqual(critic.sizes, [82, 8, 1]);
});

Deno.test("each imported actor gives torch's actions on the probe observations", async () => {
  const root = readTorchCheckpoint(await Deno.readFile(FIXTURE), "fixture");
  PROBES.probes.forEach(({ observations, actions }, i) => {
    const net = mlpFromStateDict(stateDictAt(root, `agent_${i}_actor`, "f"), [
      "relu",
      "relu",
      "tanh",
    ], "f");
    observations.forEach((obs, k) => {
      // maddpg-zoo-torch scales tanh to the box [0, 1] as 0.5 · y + 0.5, as this project does.
      const box = Array.from(net.forward(obs), (y) => 0.5 * y + 0.5);
      assertClose(box, actions[k], `agent ${i} probe ${k}`);
    });
  });
});

Deno.test("unreadable or unsuitable checkpoints are one-line errors that name the file", async () => {
  const bytes = await Deno.readFile(FIXTURE);
  assert.throws(
    () => readTorchCheckpoint(new Uint8Array([1, 2, 3]), "x.pt"),
    /^UsageError: x\.pt is not a torch\.save zip/,
  );
  const root = readTorchCheckpoint(bytes, "f.pt");
  assert.throws(
    () => stateDictAt(root, "agent_9_actor", "f.pt"),
    /f\.pt holds no state dict "agent_9_actor" \(it holds: agent_0_actor, /,
  );
  assert.throws(
    () => mlpFromStateDict(stateDictAt(root, "agent_0_actor", "f.pt"), ["relu", "linear"], "f.pt"),
    (e) => e instanceof UsageError && /holds 3 linear layers .*expected 2/.test(e.message),
  );
});

Deno.test("import-torch writes a run that evaluate reads; crossplay mixes the teams of two runs", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assert.equal(await importTorch({ from: FIXTURE, config: TAG, out: `${dir}/a` }), 4);
    const run = await loadRun(`${dir}/a`);
    assert.equal(run.config.seed, 7);
    PROBES.probes.forEach(({ observations, actions }, i) => {
      assertClose(
        Array.from(run.actors[i].forward(observations[0]), (y) => 0.5 * y + 0.5),
        actions[0],
        `a ${i}`,
      );
    });
    // The imported actors play our simple_tag_v3 as they play MPE2's own in Python: the same
    // touches, and the prey's boundary penalties to float32 rounding of the actions (~1e-6).
    const played = await evaluate(`${dir}/a`, {
      episodes: PROBES.episodes.length,
      policy: "greedy",
      seed: PROBES.seed,
    });
    played.episodes.forEach((e, k) =>
      assertClose(e.returns, PROBES.episodes[k], `episode ${k}`, 1e-4)
    );
    // Run b: the same adversaries, another prey (its actor's weights negated).
    await fixtureRun(`${dir}/b`, 3);
    const options = { episodes: 20, seed: 3 };
    const pairings = await crossplay({ runs: [`${dir}/a`], against: `${dir}/b`, ...options });
    const own = async (r: string) => (await evaluate(r, { ...options, policy: "greedy" })).measures;
    const [ownA, ownB] = [await own(`${dir}/a`), await own(`${dir}/b`)];
    assert.notDeepEqual(ownA, ownB, "the prey differ");
    assert.deepEqual(
      pairings.map((p) => [p.adversaries.slice(dir.length), p.good.slice(dir.length)]),
      [
        ["/b", "/b"],
        ["/a", "/a"],
        ["/a", "/b"],
        ["/b", "/a"],
      ],
    );
    // Equal adversaries: a's adversaries with b's prey is b's own game, and the other way round.
    assert.deepEqual(pairings.map((p) => p.measures), [ownB, ownA, ownB, ownA]);
    // render shows a mixed game: a's prey against run c's adversaries (another adversary_0).
    await fixtureRun(`${dir}/c`, 0);
    const mixed = { episodes: 1, seed: 3, policy: "greedy" as const, adversariesFrom: `${dir}/c` };
    const shown = await runEpisode(`${dir}/a`, { ...mixed, steps: undefined });
    assert.equal(shown.who, "maddpg (torch) vs adversaries of c");
    assert.equal(shown.scenes.length, 26);
    const [withC, alone] = [
      await evaluate(`${dir}/a`, mixed),
      await evaluate(`${dir}/a`, { ...mixed, adversariesFrom: undefined }),
    ];
    assert.equal(shown.reward, withC.averageReward);
    assert.notEqual(withC.averageReward, alone.averageReward);
    const table = crossplayTable(pairings, `${dir}/b`).split("\n");
    assert.equal(
      table[0],
      "| adversaries | good agents | team_adversaries_return | team_good_return | touches |",
    );
    assert.equal(table.length, 2 + 4 + 3);
    assert.match(table[6], /^\| each run's own game \(mean ± std of 1\) \| \| /);
    const args = ["--runs", `${dir}/a`, "--against", `${dir}/b`, "--episodes", "20", "--seed", "3"];
    const written = await runScript("crossplay", [...args, "--out", `${dir}/new/x.json`], dir);
    assert.equal(written.code, 0, written.stderr);
    const record = JSON.parse(await Deno.readTextFile(`${dir}/new/x.json`));
    assert.deepEqual(record.pairings.map((p: { measures: unknown }) => p.measures), [
      ownB,
      ownA,
      ownB,
      ownA,
    ]);
    assert.equal(await Deno.readTextFile(`${dir}/new/x.md`), table.join("\n") + "\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("import-torch and crossplay refuse bad input with one line, exit code 2, nothing written", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const config = `${dir}/tag.json`;
    const { seed: _, ...fields } = TAG;
    await Deno.writeTextFile(config, JSON.stringify(fields));
    await Deno.writeTextFile(
      `${dir}/wide.json`,
      JSON.stringify({ ...fields, actorHidden: [64, 64] }),
    );
    const before = await snapshot(dir);
    const cases: [string, string[], RegExp][] = [
      ["import-torch", ["--config", config, "--out", `${dir}/o`], /^error: --from is required/],
      [
        "import-torch",
        ["--from", `${dir}/none.pt`, "--config", config, "--out", `${dir}/o`],
        /Cannot read .*none\.pt/,
      ],
      [
        "import-torch",
        ["--from", config, "--config", config, "--out", `${dir}/o`],
        /tag\.json is not a torch\.save zip archive/,
      ],
      [
        "import-torch",
        ["--from", FIXTURE, "--config", `${dir}/wide.json`, "--out", `${dir}/o`],
        /"agent_0_actor" has layers \[16,8,8,5\], but adversary_0 of simple_tag_v3 with --actor-hidden 64,64 needs \[16,64,64,5\]/,
      ],
      ["import-torch", [
        "--from",
        FIXTURE,
        "--config",
        config,
        "--out",
        `${dir}/o`,
        "--actor-key",
        "actor_{i}",
      ], /holds no state dict "actor_0"/],
      [
        "import-torch",
        ["--from", FIXTURE, "--config", config, "--out", dir],
        /already holds files/,
      ],
      [
        "import-torch",
        ["--from", FIXTURE, "--config", config, "--out", config],
        /--out .*tag\.json exists and is not a directory/,
      ],
      [
        "import-torch",
        ["--from", FIXTURE, "--config", config, "--out", `${config}/o`],
        /--out .*: .*tag\.json is not a directory/,
      ],
      ["crossplay", ["--runs", `${dir}/o`], /--runs and --against are required/],
      ["crossplay", ["--runs", ",", "--against", dir], /--runs "," has an empty run name/],
      ["crossplay", ["--runs", `${dir}/o,${dir}/o/`, "--against", dir], /--runs names .*\/o twice/],
      [
        "crossplay",
        ["--runs", `${dir}/o`, "--against", `${dir}/o/`],
        /--against .*\/o is also in --runs/,
      ],
      [
        "crossplay",
        ["--runs", `${dir}/o`, "--against", dir, "--out", `${dir}/wide.json/t.json`],
        /--out .*: .*\/wide\.json is not a directory/,
      ],
      ["crossplay", ["--runs", `${dir}/o`, "--against", dir, "--episodes", "0"], /--episodes/],
      [
        "crossplay",
        ["--runs", `${dir}/o`, "--against", dir, "--out", `${dir}/t.md`],
        /must name a \.json file/,
      ],
    ];
    for (const [script, args, pattern] of cases) {
      assertUsageError(await runScript(script.replace("-", "_"), args, dir), pattern);
    }
    assert.deepEqual(await snapshot(dir), before);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("takeAdversaries() refuses a run of another world, naming both", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await fixtureRun(`${dir}/tag`);
    const tag = await loadRun(`${dir}/tag`);
    const adversary = { ...tag, env: makeEnv("simple_adversary_v3") };
    await assert.rejects(
      takeAdversaries(adversary, `${dir}/tag`),
      (e) =>
        e instanceof UsageError &&
        e.message === `${dir}/tag trained simple_tag_v3 (adversary_0, adversary_1, adversary_2, ` +
            "agent_0): its adversaries cannot play simple_adversary_v3 (adversary_0, agent_0, agent_1)",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
