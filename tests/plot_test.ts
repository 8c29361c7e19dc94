import assert from "node:assert/strict";
import { parseMetricsCsv } from "../lib/plot/metrics_csv.ts";
import { readReference } from "../lib/plot/reference.ts";
import { compileSpec, renderSvg, svgToPng } from "../lib/plot/render.ts";
import { band, movingAverage } from "../lib/plot/series.ts";
import { metricsTeams, runCharts, teamComparisons, teamReturns } from "../lib/plot/run_charts.ts";
import {
  bandChart,
  dashboard,
  lineChart,
  movingAverageCurve,
  panelChart,
  stableStringify,
} from "../lib/plot/specs.ts";
import type { Spec } from "../lib/plot/specs.ts";
import { UsageError } from "../lib/errors.ts";
import { exists } from "../lib/files.ts";
import { summaryCsv } from "../scripts/plot.ts";
import { assertUsageError, ROOT, runScript } from "./_run.ts";
import type { Run } from "./_run.ts";

const FIXTURES = `${ROOT}tests/fixtures`;
const fixtureCsv = await Deno.readTextFile(`${FIXTURES}/metrics_small.csv`);
const metrics = parseMetricsCsv(fixtureCsv, "metrics_small.csv");
// 60 episodes of simple_tag_v3: `deno task train --config
// configs/mpe/simple_tag_continuous_peer.json --episodes 60 --warmup-steps 500 --seed 0`.
const tagCsv = await Deno.readTextFile(`${FIXTURES}/metrics_tag_small.csv`);
const tagMetrics = parseMetricsCsv(tagCsv, "metrics_tag_small.csv");
const tagTeams = metricsTeams(tagMetrics);
const reference = await readReference(`${FIXTURES}/reference_small.json`);

Deno.test("movingAverage() matches np.convolve(x, ones(w)/w, 'valid')", () => {
  assert.deepEqual(movingAverage([1, 2, 3, 4, 5], 3), [2, 3, 4]);
  assert.deepEqual(movingAverage([1, 2], 3), []);
  const ramp = Array.from({ length: 60 }, (_, k) => k + 1);
  const average = movingAverage(ramp);
  // Windows 1..50, 2..51, …, 11..60: means 25.5 … 35.5, plotted from episode 50.
  assert.equal(average.length, 11);
  assert.ok(Math.abs(average[0] - 25.5) < 1e-12 && Math.abs(average[10] - 35.5) < 1e-12);
  const curve = movingAverageCurve("ma", ramp);
  assert.equal(curve.firstEpisode, 50);
});

Deno.test("band() gives mean, sample std, min and max across seeds", () => {
  const stats = band([[1, 4, 0], [2, 6, 0], [6, 2, 0]]);
  assert.deepEqual(stats.mean, [3, 4, 0]);
  // index 0: deviations −2, −1, 3 → (4 + 1 + 9) / 2 = 7
  assert.ok(Math.abs(stats.std[0] - Math.sqrt(7)) < 1e-12);
  assert.ok(Math.abs(stats.std[1] - 2) < 1e-12);
  assert.deepEqual(stats.std[2], 0);
  assert.deepEqual(stats.min, [1, 2, 0]);
  assert.deepEqual(stats.max, [6, 6, 0]);
});

Deno.test("summaryCsv() lists each seed, then mean and sample std", () => {
  const row = (final50: number) => ({ final50, sampled: 1, greedy: 2, greedySuccess: 1, wall: 10 });
  const csv = summaryCsv([{ seed: 0, summary: row(-10) }, { seed: 1, summary: row(-20) }, {
    seed: 2,
    summary: row(-30),
  }]);
  const lines = csv.trim().split("\n");
  assert.equal(
    lines[0],
    "seed,final50_reward,sampled_test_reward,greedy_test_reward,greedy_success_rate,wall_s",
  );
  assert.equal(lines[1], "0,-10,1,2,1,10");
  assert.equal(lines[4], "mean,-20,1,2,1,10");
  assert.equal(lines[5], "std,10,0,0,0,0");
});

/** Every spec the plot task writes, for the fixture. */
function fixtureSpecs(): Record<string, Spec> {
  const panels = {
    reward: panelChart("reward", { name: "fixture", values: metrics.values.reward }),
    critic_loss: panelChart("critic_loss", { name: "fixture", values: metrics.values.critic_loss }),
    actor_loss: panelChart("actor_loss", { name: "fixture", values: metrics.values.actor_loss }),
  };
  const shifted = (delta: number) => metrics.values.reward.map((r, k) => r + delta * Math.cos(k));
  return {
    ...panels,
    dashboard: dashboard("fixture", Object.values(panels)),
    reward_reference: panelChart("reward", {
      name: "fixture",
      values: metrics.values.reward,
      extra: [movingAverageCurve("PyTorch notebook (seed 42), 50-episode MA", reference.reward)],
    }),
    compare_reward: lineChart({
      title: "Episode reward, 50-episode moving average",
      yTitle: "Total reward per episode",
      curves: [movingAverageCurve("a", metrics.values.reward), movingAverageCurve("b", shifted(5))],
    }),
    reward_band: bandChart({
      title: "fixture over 3 seeds",
      seedCurves: [metrics.values.reward, shifted(5), shifted(-8)],
      reference: movingAverageCurve("PyTorch notebook, 50-episode MA", reference.reward),
    }),
    ...Object.fromEntries(
      runCharts({ name: "tag", metrics: tagMetrics }).flatMap((c) =>
        c.name === "reward" || c.name === "measures" ? [[`tag_${c.name}`, c.spec]] : []
      ),
    ),
    tag_return_band_good_agents: bandChart({
      title: "tag: good agents' return per agent over 2 seeds",
      seedCurves: [teamReturns(tagMetrics, tagTeams[1]), shifted(3).slice(0, tagMetrics.length)],
      yTitle: "Mean return per agent",
    }),
  };
}

Deno.test("runCharts() draws the grid world's notebook panels, a particle world's teams and measures", () => {
  const grid = runCharts({ name: "fixture", metrics });
  assert.deepEqual(grid.map((c) => c.name), ["reward", "critic_loss", "actor_loss", "dashboard"]);
  assert.deepEqual(
    grid[0].spec,
    panelChart("reward", { name: "fixture", values: metrics.values.reward }),
  );
  assert.deepEqual(tagTeams, [
    { label: "adversaries", agents: [0, 1, 2] },
    { label: "good agents", agents: [3] },
  ]);
  const tag = runCharts({ name: "tag", metrics: tagMetrics });
  assert.deepEqual(tag.map((c) => c.name), [
    "reward",
    "critic_loss",
    "actor_loss",
    "measures",
    "dashboard",
  ]);
  const points =
    (tag[0].spec.data as { values: { episode: number; series: string; value: number }[] })
      .values;
  const at = (series: string, episode: number) =>
    points.find((p) => p.series === series && p.episode === episode)?.value;
  const row = (k: number) => [0, 1, 2, 3].map((i) => tagMetrics.values[`return_${i}`][k]);
  const [a0, a1, a2, good] = row(9);
  assert.equal(at("adversaries, per episode", 10), (a0 + a1 + a2) / 3);
  assert.equal(at("good agents, per episode", 10), good);
  assert.ok(at("good agents, 50-episode average", 50) !== undefined);
  assert.equal(at("all agents, per episode", 10), undefined, "no mean over both teams");
  const measures = tag[3].spec.hconcat as Spec[];
  assert.deepEqual(measures.map((m) => m.title), ["touches"]);
});

Deno.test("teamComparisons() overlays each team of runs of one competitive world, no others", () => {
  const short = parseMetricsCsv(
    tagCsv.split("\n").slice(0, 21).join("\n") + "\n",
    "short.csv",
  );
  const charts = teamComparisons([
    { label: "a", metrics: tagMetrics },
    { label: "b", metrics: short },
  ]);
  assert.deepEqual(charts.map((c) => c.name), [
    "compare_return_adversaries",
    "compare_return_good_agents",
  ]);
  assert.deepEqual(
    (charts[1].spec.encoding as { color: { scale: { domain: string[] } } }).color.scale.domain,
    ["a", "b (per episode: fewer than 50 episodes)"],
  );
  assert.equal(
    charts[0].spec.title,
    "The adversaries' return per agent, 50-episode moving average where a run is long enough",
  );
  assert.equal(
    teamComparisons([{ label: "a", metrics: tagMetrics }])[0].spec.title,
    "The adversaries' return per agent, 50-episode moving average",
  );
  assert.deepEqual(
    teamComparisons([{ label: "a", metrics: tagMetrics }, { label: "g", metrics }]),
    [],
  );
  assert.deepEqual(teamComparisons([{ label: "g", metrics }]), []);
});

Deno.test("lineChart() leaves out a curve without points, from the data and the legend", () => {
  const spec = lineChart({
    title: "t",
    yTitle: "y",
    curves: [{ name: "Per episode", values: [1, 2] }, {
      name: "50-episode moving average",
      values: [],
    }],
  });
  const color = (spec.encoding as { color: { scale: { domain: string[] } } }).color;
  assert.deepEqual(color.scale.domain, ["Per episode"]);
  assert.deepEqual((spec.data as { values: unknown[] }).values.length, 2);
});

Deno.test("lineChart() of a constant gives its y scale a range around it", () => {
  const y = (values: number[]) =>
    (lineChart({ title: "t", yTitle: "y", curves: [{ name: "c", values }] }).encoding as {
      y: { scale: unknown };
    }).y.scale;
  assert.deepEqual(y([0, 0, 0]), { zero: false, domain: [-0.5, 0.5] });
  assert.deepEqual(y([0, 1]), { zero: false });
});

Deno.test("parseMetricsCsv() reads a repeated column as pandas does (name.1)", () => {
  const table = parseMetricsCsv(
    "episode,steps,total_steps,reward,critic_loss,actor_loss,epsilon,success,greedy_success," +
      "greedy_success\n1,25,25,-3,0,0,0,0,0,1\n",
    "m.csv",
  );
  assert.deepEqual(table.values.greedy_success, [0]);
  assert.deepEqual(table.values["greedy_success.1"], [1]);
});

Deno.test("specs match their snapshots (UPDATE_SNAPSHOTS=1 rewrites them)", async () => {
  for (const [name, spec] of Object.entries(fixtureSpecs())) {
    const path = `${FIXTURES}/snapshots/${name}.vl.json`;
    if (Deno.env.get("UPDATE_SNAPSHOTS")) await Deno.writeTextFile(path, stableStringify(spec));
    assert.equal(stableStringify(spec), await Deno.readTextFile(path), `snapshot ${name}`);
  }
});

Deno.test("every spec compiles with vega-lite without warnings, renders to SVG and PNG", async () => {
  for (const [name, spec] of Object.entries(fixtureSpecs())) {
    assert.equal(spec.$schema, "https://vega.github.io/schema/vega-lite/v6.json");
    assert.doesNotThrow(() => compileSpec(spec), name);
    const svg = await renderSvg(spec);
    assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/, name);
    assert.match(svg, /Episode/, `${name}: axis title`);
    const png = svgToPng(svg, 1);
    assert.deepEqual(Array.from(png.subarray(0, 8)), [
      0x89,
      0x50,
      0x4e,
      0x47,
      0x0d,
      0x0a,
      0x1a,
      0x0a,
    ], name);
  }
});

Deno.test("compileSpec() refuses a spec vega-lite warns about", () => {
  const bad = { ...lineChart({ title: "t", yTitle: "y", curves: [] }), mark: "nonsense" };
  assert.throws(() => compileSpec(bad));
});

Deno.test("parseMetricsCsv() names the file and line of a malformed row", () => {
  const lines = fixtureCsv.trim().split("\n");
  const truncated = [...lines.slice(0, 5), lines[5].split(",").slice(0, 6).join(",")].join("\n");
  assert.throws(
    () => parseMetricsCsv(truncated, "m.csv"),
    (e) => e instanceof UsageError && /^m.csv:6: expected 14 fields, got 6/.test(e.message),
  );
  const nonNumber = [...lines.slice(0, 3), lines[3].replace(/^3,\d+,/, "3,abc,")].join("\n");
  assert.throws(
    () => parseMetricsCsv(nonNumber, "m.csv"),
    /m.csv:4: "steps" is not a number: "abc"/,
  );
  assert.throws(() => parseMetricsCsv(lines[0] + "\n", "m.csv"), /m.csv: no episodes/);
  assert.throws(
    () => parseMetricsCsv("a,b\n1,2\n", "m.csv"),
    /m.csv:1: header lacks the column "episode"/,
  );
  assert.throws(() => parseMetricsCsv("", "m.csv"), /empty file/);
  assert.equal(parseMetricsCsv(fixtureCsv, "m.csv").length, 60);
});

function plot(args: string[], cwd: string): Promise<Run> {
  return runScript("plot", args, cwd);
}

async function makeRun(dir: string, csv = fixtureCsv, summary?: unknown): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(`${dir}/metrics.csv`, csv);
  if (summary) await Deno.writeTextFile(`${dir}/summary.json`, JSON.stringify(summary));
}

Deno.test("plot writes every chart of a run, an experiment's band and summary, and a comparison", async () => {
  const work = await Deno.makeTempDir();
  await makeRun(`${work}/results/single`);
  const summary = (wall: number) => ({
    wallSeconds: wall,
    test: { sample: { averageReward: -50 }, greedy: { averageReward: 8.65, successRate: 1 } },
  });
  for (const seed of [0, 1, 2]) {
    await makeRun(`${work}/results/exp/seed_${seed}`, fixtureCsv, summary(10 + seed));
  }
  await makeRun(`${work}/results/exp/seed_3`); // still training: no summary.json
  const result = await plot(["--reference", `${FIXTURES}/reference_small.json`], work);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /exp: seed 3 has not finished; the band is over the others/);
  assert.equal(await exists(`${work}/results/exp/seed_3/charts`), false);
  for (const dir of ["single", "exp/seed_0", "exp/seed_2"]) {
    for (const chart of ["reward", "critic_loss", "actor_loss", "dashboard"]) {
      for (const ext of ["vl.json", "svg", "png"]) {
        assert.ok((await Deno.stat(`${work}/results/${dir}/charts/${chart}.${ext}`)).size > 0);
      }
    }
  }
  const band = JSON.parse(
    await Deno.readTextFile(`${work}/results/exp/charts/reward_band.vl.json`),
  );
  assert.equal(band.layer.length, 4, "min-max, std, mean, reference");
  assert.match(JSON.stringify(band.title), /over 3 seeds \(0, 1, 2\)/);
  const csv = (await Deno.readTextFile(`${work}/results/exp/summary.csv`)).trim().split("\n");
  assert.equal(csv.length, 6);
  assert.match(csv[4], /^mean,.*,11$/);
  const compare = await plot([
    "--compare",
    `${work}/results/single`,
    `${work}/results/exp/seed_1`,
    "--out",
    `${work}/cmp`,
  ], work);
  assert.equal(compare.code, 0, compare.stderr);
  const spec = JSON.parse(await Deno.readTextFile(`${work}/cmp/compare_reward.vl.json`));
  assert.deepEqual(spec.encoding.color.scale.domain, ["single", "exp/seed_1"]);
  await Deno.remove(work, { recursive: true });
});

Deno.test("plot draws a competitive world's teams: each run's measures, each team's band", async () => {
  const work = await Deno.makeTempDir();
  const summary = {
    wallSeconds: 1,
    test: { sample: { averageReward: 0 }, greedy: { averageReward: 0, successRate: 0 } },
  };
  for (const seed of [0, 1]) await makeRun(`${work}/results/tag/seed_${seed}`, tagCsv, summary);
  const result = await plot(["--run", `${work}/results/tag`], work);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /return_band_adversaries\.\*, return_band_good_agents\.\*/);
  for (const chart of ["measures", "reward", "dashboard"]) {
    assert.ok(await exists(`${work}/results/tag/seed_1/charts/${chart}.png`), chart);
  }
  for (const team of ["adversaries", "good_agents"]) {
    const band = JSON.parse(
      await Deno.readTextFile(`${work}/results/tag/charts/return_band_${team}.vl.json`),
    );
    assert.match(band.title, /return per agent over 2 seeds \(0, 1\)/);
    const mean = band.layer[2].data.values[0].mean;
    const which = team === "adversaries" ? tagTeams[0] : tagTeams[1];
    assert.equal(mean, movingAverage(teamReturns(tagMetrics, which))[0], team);
  }
  const compare = await plot([
    "--compare",
    `${work}/results/tag/seed_0`,
    `${work}/results/tag/seed_1`,
    "--out",
    `${work}/cmp`,
  ], work);
  assert.equal(compare.code, 0, compare.stderr);
  const good = JSON.parse(
    await Deno.readTextFile(`${work}/cmp/compare_return_good_agents.vl.json`),
  );
  assert.deepEqual(good.encoding.color.scale.domain, ["tag/seed_0", "tag/seed_1"]);
  assert.equal(good.data.values[0].value, movingAverage(teamReturns(tagMetrics, tagTeams[1]))[0]);
  assert.ok(await exists(`${work}/cmp/compare_return_adversaries.png`));
  await Deno.remove(work, { recursive: true });
});

Deno.test("plot refuses bad input with one line, exit code 2, and writes no chart", async () => {
  const work = await Deno.makeTempDir();
  const lines = fixtureCsv.trim().split("\n");
  await makeRun(`${work}/truncated`, [...lines.slice(0, 10), "10,100,1000,-5"].join("\n") + "\n");
  await makeRun(
    `${work}/nan`,
    [...lines.slice(0, 4), lines[4].replace(/,-?[\d.]+,/, ",NaN,")].join("\n") + "\n",
  );
  await makeRun(`${work}/empty`, lines[0] + "\n");
  await Deno.mkdir(`${work}/nometrics`);
  await makeRun(`${work}/good`);
  await Deno.writeTextFile(
    `${work}/bad_ref.json`,
    JSON.stringify({ episode_rewards: [1, 2], critic_loss: [1], actor_loss: "x" }),
  );
  assertUsageError(
    await plot(["--run", `${work}/truncated`], work),
    /truncated\/metrics.csv:11: expected 14 fields, got 4/,
  );
  assertUsageError(
    await plot(["--run", `${work}/nan`], work),
    /nan\/metrics.csv:5: .* is not a number/,
  );
  assertUsageError(await plot(["--run", `${work}/empty`], work), /empty\/metrics.csv: no episodes/);
  assertUsageError(
    await plot(["--run", `${work}/nometrics`], work),
    /nometrics\/metrics.csv does not exist/,
  );
  assertUsageError(
    await plot(["--run", `${work}/missing`], work),
    /--run .*missing does not exist/,
  );
  assertUsageError(
    await plot(["--compare", `${work}/good`, `${work}/missing`], work),
    /--compare .*missing does not exist/,
  );
  assertUsageError(
    await plot(["--compare", `${work}/good`], work),
    /--compare needs two or more runs \(or one with --reference\), got only .*good$/,
  );
  assertUsageError(
    await plot(["--compare", `${work}/good`, `${work}/nan`, `${work}/good/`], work),
    /--compare names .*good\/ twice$/,
  );
  await makeRun(`${work}/training/seed_0`);
  assertUsageError(
    await plot(["--run", `${work}/training`], work),
    /--run .*training: none of its seeds \(0\) has finished/,
  );
  assertUsageError(
    await plot(["--run", `${work}/good`, "--reference", `${work}/bad_ref.json`], work),
    /bad_ref.json: field "critic_loss"|bad_ref.json: field "actor_loss"/,
  );
  assertUsageError(await plot(["--run", `${work}/good`, "--bogus"], work), /bogus/);
  assertUsageError(
    await plot(
      ["--compare", `${work}/good`, `${work}/nan`, "--out", `${work}/bad_ref.json`],
      work,
    ),
    /--out .*bad_ref\.json exists and is not a directory/,
  );
  // A bad run among good ones: nothing is written for any of them.
  assertUsageError(
    await plot(["--run", `${work}/good`, "--run", `${work}/nan`], work),
    /nan\/metrics.csv/,
  );
  for (const dir of ["truncated", "nan", "empty", "nometrics", "good"]) {
    await assert.rejects(() => Deno.stat(`${work}/${dir}/charts`), Deno.errors.NotFound, dir);
  }
  await Deno.remove(work, { recursive: true });
});
