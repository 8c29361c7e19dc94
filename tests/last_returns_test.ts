/**
 * `scripts/last_returns.py` (python3 with numpy): each team's mean return over the last 100 and
 * 1 000 episodes of a metrics.csv or the peer's agent_rewards.npy, and its one-line errors.
 */
import assert from "node:assert/strict";
import { assertUsageError, ROOT, type Run } from "./_run.ts";

const EPISODES = 1000;
/** Agent 0's return is the episode's index, agent 1's is 1, agent 2's is 3. */
const returnOf = (agent: number, episode: number) => [episode, 1, 3][agent];

async function lastReturns(args: string[]): Promise<Run> {
  const command = new Deno.Command("python3", {
    args: [`${ROOT}scripts/last_returns.py`, ...args],
    stdout: "piped",
    stderr: "piped",
  });
  const { code, stdout, stderr } = await command.output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code, stdout: decode(stdout), stderr: decode(stderr) };
}

function metricsCsv(): string {
  const rows = Array.from(
    { length: EPISODES },
    (_, e) => `${e},${[0, 1, 2].map((a) => returnOf(a, e))}`,
  );
  return ["episode,return_0,return_1,return_2", ...rows].join("\n") + "\n";
}

/** The peer's layout, agents × episodes of float64, as numpy's `np.save` writes it (format 1.0). */
function agentRewardsNpy(): Uint8Array {
  let header = `{'descr': '<f8', 'fortran_order': False, 'shape': (3, ${EPISODES}), }`;
  header = header.padEnd(Math.ceil((10 + header.length + 1) / 64) * 64 - 10 - 1) + "\n";
  const data = new Float64Array(3 * EPISODES).map((_, i) =>
    returnOf(Math.floor(i / EPISODES), i % EPISODES)
  );
  const bytes = new Uint8Array(10 + header.length + data.byteLength);
  bytes.set([0x93, ..."NUMPY"].map((c) => typeof c === "number" ? c : c.charCodeAt(0)));
  bytes.set([1, 0, header.length & 0xff, header.length >> 8], 6);
  bytes.set(new TextEncoder().encode(header), 10);
  bytes.set(new Uint8Array(data.buffer), 10 + header.length);
  return bytes;
}

Deno.test("last_returns.py gives each team's mean over the last 100 / 1 000 episodes of either file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/metrics.csv`, metricsCsv());
    await Deno.writeFile(`${dir}/agent_rewards.npy`, agentRewardsNpy());
    for (const file of ["metrics.csv", "agent_rewards.npy"]) {
      const run = await lastReturns([`${dir}/${file}`, "0", "1,2"]);
      assert.equal(run.code, 0, run.stderr);
      // Agent 0 over episodes 900–999 and 0–999; the good team's (1 + 3) / 2.
      assert.equal(run.stdout, "949.50/2.00 499.50/2.00\n");
    }
    const swapped = await lastReturns([`${dir}/metrics.csv`, "2", "0,1", "1000"]);
    assert.equal(swapped.stdout, "3.00/475.25 3.00/250.25\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("last_returns.py refuses bad input with one line naming it, exit code 2", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const csv = `${dir}/metrics.csv`;
    await Deno.writeTextFile(csv, metricsCsv());
    await Deno.writeFile(`${dir}/agent_rewards.npy`, agentRewardsNpy());
    const cases: [string[], RegExp][] = [
      [[csv, "0"], /^Usage: python3 scripts\/last_returns\.py FILE/],
      [[csv, "x", "1"], /agent index .* got 'x'/],
      [[csv, "0", "1,-2"], /agent index .* got '-2'/],
      [[csv, "0", "1", "-5"], /EPISODES .* got '-5'/],
      [[csv, "0", "1", "999"], /999 episodes, fewer than the last 1000/],
      [[csv, "0", "7"], /no column return_7$/],
      [[`${dir}/agent_rewards.npy`, "0", "3"], /shape \(3, 1000\) has no agent 3/],
      [[`${dir}/missing.csv`, "0", "1"], /missing\.csv: .*No such file/],
    ];
    for (const [args, pattern] of cases) {
      const run = await lastReturns(args);
      assertUsageError(run, pattern);
      assert.doesNotMatch(run.stderr, /Traceback/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
