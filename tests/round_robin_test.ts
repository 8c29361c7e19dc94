/**
 * Round robin: every run's adversaries against every run's good agents, and teams compared on
 * common opponents. The runs are the PyTorch fixture's actors (`_torch_fixture.ts`), with one
 * agent's weights negated to make another team.
 */
import assert from "node:assert/strict";
import type { Pairing } from "../scripts/crossplay.ts";
import { evaluate } from "../scripts/evaluate.ts";
import { groupsOf, label, roundRobin, roundRobinTable, Scores } from "../scripts/round_robin.ts";
import { assertUsageError, runScript, snapshot } from "./_run.ts";
import { fixtureRun } from "./_torch_fixture.ts";

/** A pairing whose only measures are the two team returns. */
function game(adversaries: string, good: string, adversary: number, goodReturn: number): Pairing {
  return {
    adversaries,
    good,
    measures: { team_adversaries_return: adversary, team_good_return: goodReturn },
  };
}

// Three runs; the row's adversaries against the column's good agents, as roundRobin orders them.
const RUNS = ["a", "b", "c"];
const ADVERSARY = [[1, 2, 3], [4, 5, 6], [7, 8, 10]];
const GOOD = [[-1, -2, -3], [-4, -5, -6], [-7, -8, -9]];
const PAIRINGS = RUNS.flatMap((adv, r) =>
  RUNS.map((good, c) => game(adv, good, ADVERSARY[r][c], GOOD[r][c]))
);

Deno.test("Scores reads each team's returns, its mean against the others, and margins on common opponents", () => {
  const scores = new Scores(RUNS, PAIRINGS);
  // a's adversaries against b's good agents; a's good agents against b's adversaries.
  assert.equal(scores.score("adversaries", 0, 1), 2);
  assert.equal(scores.score("good", 0, 1), -4);
  assert.equal(scores.againstOthers("adversaries", 2), (7 + 8) / 2);
  assert.equal(scores.againstOthers("good", 0), (-4 + -7) / 2);
  // On c, the only run other than a and b: a's adversaries score 3, b's 6.
  assert.equal(scores.margin("adversaries", 0, 1), 3 - 6);
  // On b: a's good agents score -4 against b's adversaries, c's score -6.
  assert.equal(scores.margin("good", 0, 2), -4 - -6);
  assert.ok(Number.isNaN(scores.margin("good", 1, 1)));
  assert.deepEqual([0, 1, 2].map((a) => scores.wins("adversaries", a)), [0, 1, 2]);
  assert.deepEqual([0, 1, 2].map((a) => scores.wins("good", a)), [2, 1, 0]);
  assert.ok(Number.isNaN(new Scores(["a", "b"], PAIRINGS.slice(0, 4)).margin("good", 0, 1)));
  assert.throws(() => new Scores(RUNS, PAIRINGS.slice(1)), /8 pairings do not make a round robin/);
  assert.deepEqual([0, 25, 26].map(label), ["A", "Z", "R27"]);
});

Deno.test("roundRobinTable lists the runs, the standings and four labelled matrices", () => {
  const lines = roundRobinTable(RUNS, PAIRINGS).split("\n");
  assert.deepEqual(lines.slice(0, 3), ["- A: a", "- B: b", "- C: c"]);
  assert.equal(lines[6], "| A | 1.00 | -1.00 | 2.50 | -5.50 | 0 of 2 | 2 of 2 |");
  assert.equal(lines[8], "| C | 10.00 | -9.00 | 7.50 | -4.50 | 2 of 2 | 0 of 2 |");
  assert.equal(
    lines[10],
    "The adversaries' return: the row's adversaries against the column's good agents.",
  );
  assert.equal(lines[14], "| A | 1.00 | 2.00 | 3.00 |");
  assert.equal(
    lines[18],
    "The good agents' return: the row's good agents against the column's adversaries.",
  );
  assert.equal(lines[22], "| A | -1.00 | -4.00 | -7.00 |");
  assert.equal(
    lines[34],
    "Margin of the row's good agents over the column's, on the runs other than both.",
  );
  assert.equal(lines[38], "| A | – | 1.00 | 2.00 |");
  assert.equal(lines.length, 41);
});

Deno.test("roundRobinTable compares the groups of runs that share a folder", () => {
  assert.deepEqual(groupsOf(["x/a", "y/c", "x/b"]), new Map([["x", [0, 2]], ["y", [1]]]));
  const lines = roundRobinTable(["x/a", "x/b", "y/c"], PAIRINGS).split("\n");
  assert.equal(lines.length, 41 + 7);
  assert.match(lines[42], /^Groups \(the runs of one folder\)/);
  // On common opponents: a over c on b (2 - 8), b over c on a (4 - 7); y has no run but c.
  assert.equal(lines.at(-2), "| adversaries | x | y | -4.50 (0 of 2) | – | -4.50 (0 of 2) |");
  // a over c on b's adversaries (-4 - -6), b over c on a's (-2 - -3).
  assert.equal(lines.at(-1), "| good agents | x | y | 1.50 (2 of 2) | – | 1.50 (2 of 2) |");
});

Deno.test("round-robin plays every pairing as evaluate does, and writes its record and tables", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // b has a's adversaries and another prey; c has a's prey and another adversary_0.
    await fixtureRun(`${dir}/a`);
    await fixtureRun(`${dir}/b`, 3);
    await fixtureRun(`${dir}/c`, 0);
    const runs = ["a", "b", "c"].map((r) => `${dir}/${r}`);
    const options = { episodes: 10, seed: 3 };
    const pairings = await roundRobin({ runs, ...options });
    assert.deepEqual(
      pairings.map((p) => `${p.adversaries.at(-1)}${p.good.at(-1)}`),
      ["aa", "ab", "ac", "ba", "bb", "bc", "ca", "cb", "cc"],
    );
    const mixed = await evaluate(runs[1], {
      ...options,
      policy: "greedy",
      adversariesFrom: runs[2],
    });
    assert.deepEqual(pairings[7].measures, mixed.measures);
    assert.notDeepEqual(pairings[0].measures, pairings[1].measures, "b's prey is another");
    assert.notDeepEqual(pairings[0].measures, pairings[6].measures, "c's adversary is another");
    // Equal adversaries (a, b) and equal prey (a, c) make equal games.
    for (const good of [0, 1, 2]) {
      assert.deepEqual(pairings[good].measures, pairings[3 + good].measures);
    }
    for (const adv of [0, 1, 2]) {
      assert.deepEqual(pairings[3 * adv].measures, pairings[3 * adv + 2].measures);
    }
    const scores = new Scores(runs, pairings);
    assert.equal(scores.margin("adversaries", 0, 1), 0);
    assert.equal(scores.margin("good", 0, 2), 0);
    const args = ["--runs", runs.join(","), "--episodes", "10", "--seed", "3"];
    const written = await runScript("round_robin", [...args, "--out", `${dir}/new/rr.json`], dir);
    assert.equal(written.code, 0, written.stderr);
    const record = JSON.parse(await Deno.readTextFile(`${dir}/new/rr.json`));
    assert.deepEqual(record.pairings, pairings);
    assert.equal(
      await Deno.readTextFile(`${dir}/new/rr.md`),
      roundRobinTable(runs, pairings) + "\n",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("round-robin refuses bad input with one line, exit code 2, nothing written", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await fixtureRun(`${dir}/a`);
    const before = await snapshot(dir);
    const cases: [string[], RegExp][] = [
      [[], /--runs is required/],
      [["--runs", `${dir}/a`], /names fewer than two runs/],
      [["--runs", `${dir}/a,${dir}/a/`], /--runs names .*\/a twice/],
      [["--runs", `${dir}/a,${dir}/none`], /none/],
      [["--runs", `${dir}/a,${dir}/b`, "--episodes", "0"], /--episodes/],
      [
        ["--runs", `${dir}/a,${dir}/b`, "--episodes", "1000001"],
        /--episodes must be at most 1000000/,
      ],
      [["--runs", `${dir}/a,${dir}/b`, "--out", `${dir}/t.md`], /must name a \.json file/],
      [["--runs", `${dir}/a,,${dir}/b`], /has an empty run name/],
      [
        ["--runs", `${dir}/a,${dir}/b`, "--out", `${dir}/a/config.json/rr.json`],
        /config\.json is not a directory/,
      ],
    ];
    for (const [args, pattern] of cases) {
      assertUsageError(await runScript("round_robin", args, dir), pattern);
    }
    assert.deepEqual(await snapshot(dir), before);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
