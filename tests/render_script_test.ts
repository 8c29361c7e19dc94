/**
 * `scripts/render.ts` as a subprocess: random-policy and trained-run episodes become
 * animations with one frame per state; bad input exits 2 with one line and writes nothing.
 */
import assert from "node:assert/strict";
import { parseGif } from "./_gif.ts";
import { assertUsageError, runScript, snapshot } from "./_run.ts";
import { episodeTitle, frameEpisode } from "../scripts/render.ts";

/** Runs `body` in a fresh temp directory that is removed afterwards, whatever happens. */
async function inTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "maddpg-render-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Renders a random-policy episode of `env` and returns the GIF's frame count and width. */
async function renderRandom(dir: string, env: string, extra: string[] = []) {
  const out = `${dir}/${env}.gif`;
  const result = await runScript("render", ["--env", env, "--steps", "5", ...extra], dir);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.trim(), `Wrote ${env}.gif (6 frames)`);
  const gif = parseGif(await Deno.readFile(out));
  return { frames: gif.frames.length, width: gif.width, loops: gif.loops };
}

Deno.test("render --env simple_spread_v3 --steps 5 writes a 6-frame GIF (reset + 5 steps)", () =>
  inTempDir(async (dir) => {
    const gif = await renderRandom(dir, "simple_spread_v3", ["--size", "120"]);
    assert.deepEqual(gif, { frames: 6, width: 120, loops: 0 });
    assert.deepEqual([...(await snapshot(dir)).keys()], [`${dir}/simple_spread_v3.gif`]);
  }));

Deno.test("render --env grid_world --steps 5 writes a 6-frame GIF", () =>
  inTempDir(async (dir) => {
    const gif = await renderRandom(dir, "grid_world", ["--seed", "1"]);
    assert.deepEqual(gif, { frames: 6, width: 400, loops: 0 });
  }));

Deno.test("render --env is reproducible: the same seed gives the same bytes", () =>
  inTempDir(async (dir) => {
    const args = ["--env", "simple_tag_v3", "--steps", "3", "--size", "64", "--seed", "7"];
    for (const out of ["a.gif", "b.gif"]) {
      const result = await runScript("render", [...args, "--out", out], dir);
      assert.equal(result.code, 0, result.stderr);
    }
    assert.deepEqual(await Deno.readFile(`${dir}/a.gif`), await Deno.readFile(`${dir}/b.gif`));
  }));

Deno.test("render --run writes <run>/episode.gif with episode length + 1 frames, no eval.json", () =>
  inTempDir(async (dir) => {
    const train = await runScript("train", [
      ...["--episodes", "2", "--max-steps", "10", "--batch-size", "16"],
      ...["--buffer-size", "100", "--test-episodes", "1", "--out", `${dir}/run`],
    ], dir);
    assert.equal(train.code, 0, train.stderr);
    const result = await runScript("render", ["--run", "run", "--size", "80", "--seed", "3"], dir);
    assert.equal(result.code, 0, result.stderr);
    const frames = parseGif(await Deno.readFile(`${dir}/run/episode.gif`)).frames.length;
    assert.equal(result.stdout.trim(), `Wrote run/episode.gif (${frames} frames)`);
    await assert.rejects(Deno.stat(`${dir}/run/eval.json`), Deno.errors.NotFound);
    // evaluate's first episode with the same seed and policy has the rendered length.
    const evaluated = await runScript("evaluate", [
      "--run",
      "run",
      "--episodes",
      "1",
      "--seed",
      "3",
    ], dir);
    assert.equal(evaluated.code, 0, evaluated.stderr);
    const record = JSON.parse(await Deno.readTextFile(`${dir}/run/eval.json`));
    assert.equal(frames, record.episodes[0].length + 1);
  }));

Deno.test("render: bad input exits 2 with one line naming the value and writes nothing", () =>
  inTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/keep.txt`, "unchanged");
    await Deno.mkdir(`${dir}/d.gif`);
    const before = await snapshot(dir);
    const cases: [string[], RegExp][] = [
      [["--env", "simple_nope_v9"], /Unknown environment "simple_nope_v9"/],
      [["--env", "simple_v3", "--env-option", "colour=3"], /no option "colour"/],
      [["--env", "grid_world", "--env-option", "size=1"], /size must be an integer/],
      [["--run", "missing"], /missing\/config\.json/],
      [["--run", "missing", "--env", "simple_v3"], /exactly one of --run DIR and --env ID/],
      [[], /exactly one of --run DIR and --env ID/],
      [["--env", "simple_v3", "--policy", "greedy"], /--policy must be random, got "greedy"/],
      [["--env", "simple_v3", "--steps", "0"], /--steps must be a positive integer, got "0"/],
      [["--env", "simple_v3", "--out", "x.jpg"], /--out must end in .gif, .png or .apng/],
      [["--env", "simple_v3", "--colour"], /colour/],
      [["--env", "simple_tag_v3", "--adversaries-from", "x"], /--adversaries-from goes with --run/],
      [["--env", "simple_v3", "--out", "d.gif"], /--out d\.gif is a directory, not a file/],
      [["--env", "simple_v3", "--size", "4097"], /--size must be at most 4096 pixels, got 4097/],
      [
        ["--env", "simple_v3", "--out", "keep.txt/a.gif"],
        /--out keep\.txt\/a\.gif: keep\.txt is not a/,
      ],
    ];
    for (const [args, pattern] of cases) {
      assertUsageError(await runScript("render", args, dir), pattern);
    }
    assert.deepEqual(await snapshot(dir), before);
  }));

Deno.test("render --help lists the flags and the environments", () =>
  inTempDir(async (dir) => {
    const result = await runScript("render", ["--help"], dir);
    assert.equal(result.code, 0, result.stderr);
    for (const word of ["--run DIR", "--env ID", "--steps N", "--size PX", "simple_crypto_v3"]) {
      assert.ok(result.stdout.includes(word), word);
    }
  }));

Deno.test("frameEpisode() splits a title too wide for the picture before '· seed'", () => {
  const episode = {
    scenes: [{ view: [-1, -1, 1, 1] as const, shapes: [], messages: ["speaker_0 sends C"] }],
    envId: "simple_speaker_listener_v4",
    who: "random",
    seed: 0,
    reward: -52.3456,
  };
  assert.equal(
    episodeTitle(episode),
    "simple_speaker_listener_v4 · random · seed 0 · return -52.35",
  );
  const small = frameEpisode(episode, 240);
  assert.equal(small.title, "simple_speaker_listener_v4 · random");
  assert.equal(small.fontSize, 9);
  assert.deepEqual(small.scenes[0].messages, ["seed 0 · return -52.35", "speaker_0 sends C"]);
  assert.deepEqual(episode.scenes[0].messages, ["speaker_0 sends C"], "input unchanged");
  const large = frameEpisode(episode, 800);
  assert.equal(large.title, episodeTitle(episode));
  assert.equal(large.fontSize, 13);
  assert.equal(large.scenes, episode.scenes);
});
