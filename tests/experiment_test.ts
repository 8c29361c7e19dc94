/** `deno task experiment`: the table builder, the definitions, and one tiny run end to end. */
import assert from "node:assert/strict";
import { configArgs, configFromRecord, parseTrainArgs } from "../lib/config.ts";
import {
  buildTable,
  EXPERIMENTS,
  formatCell,
  formatSeeds,
  MPE_NOTE,
  tableMarkdown,
  TINY_ARGS,
  TRAIN_RETURN,
  trainMeasures,
  variantArgs,
} from "../lib/experiments.ts";
import type { ExperimentDef } from "../lib/experiments.ts";
import { exists } from "../lib/files.ts";
import { assertUsageError, ROOT, runScript } from "./_run.ts";

const DEF: Pick<ExperimentDef, "title" | "measures" | "anchors"> = {
  title: "Toy",
  measures: [
    { key: TRAIN_RETURN, label: "return", digits: 2 },
    { key: "collisions", label: "collisions", digits: 3 },
    { key: "success", label: "success %", digits: 1, scale: 100 },
  ],
  anchors: ["somebody: 1.0"],
};

Deno.test("buildTable: mean ± sample std over seeds, scaled, per variant", () => {
  const table = buildTable("toy", DEF, [
    {
      variant: "a",
      seeds: [
        { seed: 0, measures: { [TRAIN_RETURN]: -10, collisions: 1, success: 0.5 } },
        { seed: 1, measures: { [TRAIN_RETURN]: -12, collisions: 2, success: 1 } },
        { seed: 2, measures: { [TRAIN_RETURN]: -14, collisions: 3, success: 0 } },
      ],
    },
    { variant: "b", seeds: [{ seed: 4, measures: { [TRAIN_RETURN]: -0.001 } }] },
  ]);
  assert.deepEqual(table.rows.map((r) => r.seeds), [[0, 1, 2], [4]]);
  const a = table.rows[0].cells;
  assert.deepEqual(a[TRAIN_RETURN], { mean: -12, std: 2, n: 3, values: [-10, -12, -14] });
  assert.deepEqual(a.collisions, { mean: 2, std: 1, n: 3, values: [1, 2, 3] });
  assert.deepEqual(a.success, { mean: 50, std: 50, n: 3, values: [50, 100, 0] });
  assert.equal(table.rows[1].cells.collisions, null);
  assert.equal(formatCell(a[TRAIN_RETURN], 2), "-12.00 ± 2.00");
  // One seed has no spread: its value alone, and no "-0.00".
  assert.equal(formatCell(table.rows[1].cells[TRAIN_RETURN], 2), "0.00");
  assert.equal(formatCell(null, 2), "—");
  const gap = { mean: 1, std: 0, n: 1, values: [1, null] };
  assert.equal(formatSeeds(gap, 1), "1.0, —"); // a seed without the measure
  assert.equal(formatSeeds(null, 1), "—");
  assert.equal(
    tableMarkdown(table),
    [
      "## Toy",
      "",
      "| variant | return | collisions | success % | seeds |",
      "|---|---|---|---|---|",
      "| a | -12.00 ± 2.00 | 2.000 ± 1.000 | 50.0 ± 50.0 | 3 |",
      "| b | 0.00 | — | — | 1 |",
      "",
      "Mean ± sample std over seeds (a row of one seed: its value); evaluation measures are " +
      "means over greedy episodes.",
      "",
      "Per seed:",
      "",
      "| variant | seeds | return | collisions | success % |",
      "|---|---|---|---|---|",
      "| a | 0, 1, 2 | -10.00, -12.00, -14.00 | 1.000, 2.000, 3.000 | 50.0, 100.0, 0.0 |",
      "| b | 4 | 0.00 | — | — |",
      "",
      "Anchors:",
      "- somebody: 1.0",
      "",
      `Note: ${MPE_NOTE}`,
      "",
    ].join("\n"),
  );
});

Deno.test("buildTable: anchored measures against their anchors, scaled, per variant", () => {
  const def = {
    ...DEF,
    anchorValues: [
      { key: TRAIN_RETURN, value: -13, source: "somebody" },
      { key: "success", value: 0.2, source: "else" },
    ],
  };
  const table = buildTable("toy", def, [
    {
      variant: "a",
      seeds: [
        { seed: 0, measures: { [TRAIN_RETURN]: -10, success: 0.5 } },
        { seed: 1, measures: { [TRAIN_RETURN]: -12, success: 1 } },
        { seed: 2, measures: { [TRAIN_RETURN]: -14 } }, // a seed without success
      ],
    },
    { variant: "b", seeds: [{ seed: 4, measures: { [TRAIN_RETURN]: -20 } }] },
  ]);
  // -12 ± 2 over 3 seeds: t(0.975, 2) = 4.3027, so -12 ± 4.9683; t = 0.866 for p (scipy agrees).
  const [returnA, successA, returnB] = table.checks;
  assert.equal(table.checks.length, 3); // b has no success at all
  assert.deepEqual(
    [returnA.variant, returnA.anchor, returnA.n, returnA.atOrAbove, returnA.mean],
    ["a", -13, 3, 2, -12],
  );
  assert.deepEqual(
    [returnA.low!.toFixed(4), returnA.high!.toFixed(4), returnA.p!.toFixed(4), returnA.verdict],
    ["-16.9683", "-7.0317", "0.4778", "within"],
  );
  // success in %: anchor 20, seeds 50 and 100; t(0.975, 1) = 12.706 makes it wide.
  assert.deepEqual(
    [successA.anchor, successA.n, successA.atOrAbove, successA.verdict],
    [20, 2, 2, "within"],
  );
  assert.deepEqual(
    [returnB.n, returnB.atOrAbove, returnB.low, returnB.p, returnB.verdict],
    [1, 0, null, null, "one seed"],
  );
  const markdown = tableMarkdown(table);
  const section = markdown.slice(markdown.indexOf("Against the anchors:"));
  assert.deepEqual(section.split("\n").slice(0, 7), [
    "Against the anchors:",
    "",
    "| variant | measure | anchor | mean [95% interval] | seeds at or above | p | verdict |",
    "|---|---|---|---|---|---|---|",
    "| a | return | -13.00 (somebody) | -12.00 [-16.97, -7.03] | 2 of 3 | 0.478 | within |",
    "| a | success % | 20.0 (else) | 75.0 [-242.7, 392.7] | 2 of 2 | 0.272 | within |",
    "| b | return | -13.00 (somebody) | -20.00 | 0 of 1 | — | one seed |",
  ]);
  // A table without anchor values has no such section.
  assert.doesNotMatch(tableMarkdown(buildTable("toy", DEF, [])), /Against the anchors/);
});

Deno.test("buildTable: measures against the peer's runs of the same budget (Welch)", () => {
  const def = {
    ...DEF,
    peerRuns: [
      { key: TRAIN_RETURN, episodes: 40, values: [-11, -13, -15], runs: "three" },
      { key: TRAIN_RETURN, episodes: 60, values: [-1, -2], runs: "longer" },
      { key: "success", episodes: 40, values: [0.1], runs: "one" },
    ],
  };
  const results = [{
    variant: "a",
    seeds: [
      { seed: 0, measures: { [TRAIN_RETURN]: -10, success: 0.5 } },
      { seed: 1, measures: { [TRAIN_RETURN]: -12, success: 1 } },
    ],
  }];
  const table = buildTable("toy", def, results, 40);
  // a: -11 ± 1.414 (2 seeds); the peer: -13 ± 2 (3 runs); SciPy's ttest_ind(equal_var=False)
  // gives p = 0.2850 and the interval [-2.9755, 6.9755] on 2.88 degrees of freedom.
  const [returns, success] = table.comparisons;
  assert.equal(table.comparisons.length, 2); // the 60-episode runs are another budget
  assert.deepEqual(
    [returns.peer, returns.ours, returns.difference, returns.verdict],
    [{ n: 3, mean: -13 }, { n: 2, mean: -11 }, 2, "within"],
  );
  assert.deepEqual(
    [returns.low!.toFixed(4), returns.high!.toFixed(4), returns.p!.toFixed(4)],
    ["-2.9755", "6.9755", "0.2850"],
  );
  // One run of the peer: no spread on its side, so no test; scaled as the measure (%).
  assert.deepEqual([success.peer, success.difference, success.p], [{ n: 1, mean: 10 }, 65, null]);
  const markdown = tableMarkdown(table);
  const section = markdown.slice(markdown.indexOf("Against the peer's runs:"));
  assert.deepEqual(section.split("\n").slice(2, 6), [
    "| variant | measure | the peer's runs | peer (runs) | ours (seeds) | " +
    "difference [95% interval] | p | verdict |",
    "|---|---|---|---|---|---|---|---|",
    "| a | return | three | -13.00 (3) | -11.00 (2) | 2.00 [-2.98, 6.98] | 0.285 | within |",
    "| a | success % | one | 10.0 (1) | 75.0 (2) | 65.0 | — | one run |",
  ]);
  // Without the budget, or at one the peer did not run, there is nothing to compare.
  assert.deepEqual(buildTable("toy", def, results).comparisons, []);
  assert.doesNotMatch(tableMarkdown(buildTable("toy", def, results, 50)), /peer's runs/);
});

Deno.test("every experiment's variants parse as train flags over its checked preset", async () => {
  assert.deepEqual(Object.keys(EXPERIMENTS), [
    "spread",
    "adversary",
    "tag",
    "speaker_listener",
    "spread_peer",
    "adversary_peer",
    "tag_peer",
  ]);
  const counts = Object.values(EXPERIMENTS).map((d) => Object.keys(d.variants).length);
  assert.deepEqual(counts, [6, 4, 4, 2, 2, 2, 2]);
  for (const def of Object.values(EXPERIMENTS)) {
    const path = `${ROOT}configs/mpe/${def.preset}.json`;
    const preset = configArgs(configFromRecord(JSON.parse(await Deno.readTextFile(path)), path));
    for (const [name, flags] of Object.entries(def.variants)) {
      const full = parseTrainArgs(variantArgs({ preset, variant: flags })).config;
      assert.equal(full.episodes, 40000, name);
      const tiny = parseTrainArgs(variantArgs({ preset, variant: flags, episodes: 2, tiny: true }));
      assert.equal(tiny.config.episodes, 2);
      assert.equal(tiny.config.batchSize, 8);
      assert.equal(tiny.config.envOptions.max_cycles, "5");
      assert.equal(full.algo, flags[flags.indexOf("--algo") + 1], name);
    }
  }
  assert.ok(TINY_ARGS.includes("--warmup-steps"));
  const spread = EXPERIMENTS.spread.variants.matd3_continuous;
  assert.ok(spread.includes("continuous_actions=true"));
  assert.deepEqual(EXPERIMENTS.adversary.variants.ddpg_vs_maddpg, [
    "--algo",
    "iddpg",
    "--adversary-algo",
    "maddpg",
  ]);
  const preset = async (name: string) => {
    const path = `${ROOT}configs/mpe/${name}.json`;
    return configFromRecord(JSON.parse(await Deno.readTextFile(path)), path);
  };
  const shared = parseTrainArgs(
    variantArgs({
      preset: configArgs(await preset("simple_spread_continuous_peer")),
      variant: EXPERIMENTS.spread_peer.variants.maddpg_shared,
    }),
  ).config;
  assert.equal(shared.shareActors, true);
  assert.equal(shared.batchSize, 256, "the peer's preset under it");
  // The shared preset is that variant's config: `train --config` reruns its seeds.
  assert.deepEqual(await preset("simple_spread_continuous_shared"), shared);
});

Deno.test("every preset in configs/ loads as a config", async () => {
  let count = 0;
  for (const dir of ["configs", "configs/mpe"]) {
    for await (const entry of Deno.readDir(`${ROOT}${dir}`)) {
      if (!entry.isFile || !entry.name.endsWith(".json")) continue;
      const path = `${ROOT}${dir}/${entry.name}`;
      const config = configFromRecord(JSON.parse(await Deno.readTextFile(path)), path);
      assert.equal(parseTrainArgs(configArgs(config)).config.algo, config.algo, path);
      count++;
    }
  }
  assert.ok(count >= 14, `${count} presets`);
});

Deno.test("experiment: an unknown name or a bad flag is one line, exit 2", async () => {
  assertUsageError(await runScript("experiment", ["nope"], ROOT), /unknown experiment "nope"/);
  assertUsageError(
    await runScript("experiment", ["spread", "--eval-episodes", "0"], ROOT),
    /--eval-episodes/,
  );
  assertUsageError(
    await runScript("experiment", ["spread", "--variants", "maddpg,ppo"], ROOT),
    /--variants: unknown variant "ppo": one of maddpg, iddpg, matd3, maddpg_continuous/,
  );
  assertUsageError(
    await runScript("experiment", ["spread", "--out", "deno.json/x"], ROOT),
    /--out deno\.json\/x\/spread: deno\.json is not a directory/,
  );
});

Deno.test("experiment speaker_listener, tiny: runs, table, skip on re-run, continue a stopped run", async () => {
  const out = await Deno.makeTempDir({ prefix: "experiment_test_" });
  try {
    const args = [
      "speaker_listener",
      ...["--seeds", "0", "--episodes", "2", "--eval-episodes", "2", "--workers", "1"],
      ...["--tiny", "--out", out],
    ];
    const first = await runScript("experiment", args, ROOT);
    assert.equal(first.code, 0, first.stderr);
    const dir = `${out}/speaker_listener`;
    const markdown = await Deno.readTextFile(`${dir}/table.md`);
    assert.match(markdown, /^\| maddpg \| [-\d.]+ \| [-\d.]+ \| [-\d.]+ \| 1 \|$/m); // one seed: values alone
    assert.match(markdown, /^\| iddpg \| .* \| 1 \|$/m);
    assert.match(first.stdout, /random policy on MPE2: −42\.0/);
    const table = JSON.parse(await Deno.readTextFile(`${dir}/table.json`));
    assert.deepEqual(table.rows.map((r: { variant: string }) => r.variant), ["maddpg", "iddpg"]);
    const evalFile = JSON.parse(await Deno.readTextFile(`${dir}/maddpg/eval_seed_0.json`));
    assert.equal(evalFile.evalSeed, 1000);
    assert.equal(typeof evalFile.measures.final_distance, "number");
    await Deno.stat(`${dir}/maddpg/charts/reward_band.svg`);
    const again = await runScript("experiment", args, ROOT);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /2 already trained, training 0 \(0 from a saved state\)/);
    // A fresh clone has the kept records (eval_seed_<n>.json), not the runs: same table.
    const table1 = await Deno.readTextFile(`${dir}/table.json`);
    await Deno.rename(`${dir}/iddpg/seed_0`, `${out}/iddpg_seed_0`);
    // A record written before a field existed lacks it: the field's default stands in.
    const keptPath = `${dir}/iddpg/eval_seed_0.json`;
    const kept = JSON.parse(await Deno.readTextFile(keptPath));
    assert.equal(kept.settings.shareActors, false);
    delete kept.settings.shareActors;
    await Deno.writeTextFile(keptPath, JSON.stringify(kept));
    const record = JSON.parse(await Deno.readTextFile(`${dir}/maddpg/eval_seed_0.json`));
    assert.equal(record.settings.episodes, 2);
    assert.equal(record.settings.algo, "maddpg");
    delete record.settings; // as written before records kept their settings
    await Deno.writeTextFile(`${dir}/maddpg/eval_seed_0.json`, JSON.stringify(record));
    const fromKept = await runScript("experiment", args, ROOT);
    assert.equal(fromKept.code, 0, fromKept.stderr);
    assert.match(fromKept.stdout, /2 already trained, training 0/);
    assert.match(fromKept.stdout, /iddpg: evaluated 0 seeds, 1 more from their kept records/);
    assert.equal(await Deno.readTextFile(`${dir}/table.json`), table1);
    const restored = JSON.parse(await Deno.readTextFile(`${dir}/maddpg/eval_seed_0.json`));
    assert.equal(restored.settings.episodes, 2, "an older record gets its settings");
    const otherEval = args.map((arg, i) => (args[i - 1] === "--eval-episodes" ? "3" : arg));
    assertUsageError(
      await runScript("experiment", otherEval, ROOT),
      /iddpg\/eval_seed_0\.json has 2 evaluation episodes and its run is gone: pass --eval-episodes 2/,
    );
    const keptText = await Deno.readTextFile(keptPath);
    await Deno.writeTextFile(keptPath, keptText.slice(0, 20));
    assertUsageError(
      await runScript("experiment", args, ROOT),
      /iddpg\/eval_seed_0\.json is not valid JSON/,
    );
    await Deno.writeTextFile(keptPath, "[]");
    assertUsageError(
      await runScript("experiment", args, ROOT),
      /iddpg\/eval_seed_0\.json is not an evaluation record/,
    );
    await Deno.writeTextFile(keptPath, keptText);
    await Deno.rename(`${out}/iddpg_seed_0`, `${dir}/iddpg/seed_0`);
    // A run stopped after its save at episode 2 (no summary.json) continues to 4 episodes.
    const run = `${dir}/maddpg/seed_0`;
    const before = await Deno.readTextFile(`${run}/metrics.csv`);
    await Deno.remove(`${run}/summary.json`);
    await Deno.remove(`${dir}/iddpg/seed_0`, { recursive: true });
    const longer = args.map((arg, i) => (args[i - 1] === "--episodes" ? "4" : arg));
    assertUsageError(
      await runScript("experiment", longer, ROOT),
      /iddpg\/eval_seed_0\.json was made with other settings \(episodes or config\)/,
    );
    await Deno.remove(`${dir}/iddpg/eval_seed_0.json`); // now never begun
    const third = await runScript("experiment", longer, ROOT);
    assert.equal(third.code, 0, third.stderr);
    assert.match(third.stdout, /0 already trained, training 2 \(1 from a saved state\)/);
    assert.match(third.stdout, /maddpg seed 0: continued from its saved state and trained in/);
    assert.match(third.stdout, /iddpg seed 0: trained in/);
    const after = await Deno.readTextFile(`${run}/metrics.csv`);
    assert.ok(after.startsWith(before), "the first two episodes are kept");
    assert.equal(after.trim().split("\n").length, 1 + 4);
    const summary = JSON.parse(await Deno.readTextFile(`${run}/summary.json`));
    assert.equal(summary.episodes, 4);
    // --variants trains only those; the table keeps every variant, with its finished seeds.
    await Deno.remove(`${dir}/iddpg/seed_0`, { recursive: true });
    await Deno.remove(`${dir}/iddpg/eval_seed_0.json`);
    const fourth = await runScript("experiment", [...longer, "--variants", "maddpg"], ROOT);
    assert.equal(fourth.code, 0, fourth.stderr);
    assert.match(fourth.stdout, /1 variant × 1 seed; 1 already trained, training 0/);
    const partial = JSON.parse(await Deno.readTextFile(`${dir}/table.json`));
    assert.deepEqual(
      partial.rows.map((r: { variant: string; seeds: number[] }) => [r.variant, r.seeds]),
      [["maddpg", [0]], ["iddpg", []]],
    );
    assert.equal(await exists(`${dir}/iddpg/seed_0`), false, "iddpg was not trained");
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("trainMeasures: team returns from the return_<i> columns, none without them", () => {
  const reward = Array.from({ length: 150 }, (_, k) => k);
  const adversary = [true, false, false]; // simple_adversary_v3: adversary_0, agent_0, agent_1
  const own = (i: number) => reward.map((r) => r * (i + 1));
  const values = { reward, return_0: own(0), return_1: own(1), return_2: own(2) };
  // The last 100 episodes: k = 50..149, mean 99.5.
  assert.deepEqual(trainMeasures(values, adversary), {
    [TRAIN_RETURN]: 99.5,
    train_team_adversaries_return: 99.5,
    train_team_good_return: (2 * 99.5 + 3 * 99.5) / 2,
    train_team_margin: (2 * 99.5 + 3 * 99.5) / 2 - 99.5,
  });
  assert.deepEqual(trainMeasures({ reward }, adversary), { [TRAIN_RETURN]: 99.5 });
  assert.deepEqual(trainMeasures(values, [false, false, false]), { [TRAIN_RETURN]: 99.5 });
});
