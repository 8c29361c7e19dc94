/**
 * The web page in a real headless browser (Debian's `chromium-headless-shell`), driven over
 * the DevTools protocol: two small runs are trained and plotted into a temp results
 * directory, served by `createHandler`, and the page's views and its `window.maddpg` API
 * (see web/CONTRACT.md) are checked against the same computations done here in Deno.
 *
 * Without a browser the test is skipped, except under `CI=true`, where it fails. Screenshots
 * of every view go to `results/browser-test/`.
 */
import assert from "node:assert/strict";
import { unzipSync } from "fflate";
import { findChromium, launch } from "./_browser.ts";
import type { Browser } from "./_browser.ts";
import { ROOT, runScript } from "./_run.ts";
import { initBackend } from "../lib/backend.ts";
import { DEFAULT_TRAIN_CONFIG } from "../lib/config.ts";
import type { TrainConfig } from "../lib/config.ts";
import { selectActions } from "../lib/agent/policy.ts";
import { Pcg32 } from "../lib/rng.ts";
import { train } from "../lib/trainer.ts";
import { agentShapes } from "../lib/train/run.ts";
import { createHandler } from "../lib/serve/static_server.ts";
import { evaluate, loadRun } from "../scripts/evaluate.ts";
import { routeHash } from "../web/route.ts";

const CHROMIUM = findChromium();
const IN_CI = Deno.env.get("CI") === "true";
const WEB_ROOT = `${ROOT}dist/web`;
const SCREENSHOTS = `${ROOT}results/browser-test`;

/** Small nets and budgets: the runs only need to exist, not to learn. */
const SMALL: Partial<TrainConfig> = {
  actorHidden: [16],
  criticHidden: [32],
  batchSize: 32,
  bufferSize: 2000,
  testEpisodes: 1,
  checkpointEvery: 0,
};

/** The two runs the page is shown: their paths under results/ and their configs. */
async function runConfigs(): Promise<{ path: string; config: TrainConfig }[]> {
  const maddpg = JSON.parse(await Deno.readTextFile(`${ROOT}configs/maddpg.json`));
  const base = { ...DEFAULT_TRAIN_CONFIG, ...maddpg, ...SMALL };
  return [
    { path: "grid-maddpg", config: { ...base, env: "grid_world", episodes: 20, maxSteps: 50 } },
    {
      path: "spread-maddpg",
      config: { ...base, env: "simple_spread_v3", episodes: 5, maxSteps: 25 },
    },
  ];
}

const CONTENT_TYPES: Record<string, string> = {
  html: "text/html",
  js: "text/javascript",
  css: "text/css",
  json: "application/json",
  csv: "text/csv",
  wasm: "application/wasm",
};

/** What any static host does: the file at the URL's path under `root`, or 404. */
async function serveFile(root: string, pathname: string): Promise<Response> {
  const path = decodeURIComponent(pathname.endsWith("/") ? `${pathname}index.html` : pathname);
  try {
    const body = await Deno.readFile(`${root}${path}`);
    const type = CONTENT_TYPES[path.slice(path.lastIndexOf(".") + 1)];
    return new Response(body, { headers: type ? { "content-type": type } : {} });
  } catch {
    return new Response("not found", { status: 404 });
  }
}

/** Runs `body`, prefixing a failure with what was being checked. */
async function check<T>(what: string, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`[${what}] ${message}`, { cause: error });
  }
}

/** The text of `#error` when it is shown ("" when it is empty or hidden). */
function shownError(page: Browser): Promise<string> {
  return page.evaluate<string>(`(() => {
    const el = document.getElementById("error");
    if (!el || el.hidden || el.getClientRects().length === 0) return "";
    return el.textContent.trim();
  })()`);
}

/** Waits for `selector`; a timeout says what `#error` showed. */
async function waitForSelector(page: Browser, selector: string, timeoutMs = 15_000) {
  try {
    await page.waitFor(`document.querySelector(${JSON.stringify(selector)})`, selector, timeoutMs);
  } catch (error) {
    const shown = await shownError(page).catch(() => "");
    throw new Error(`${(error as Error).message}${shown ? `; #error shows: ${shown}` : ""}`);
  }
}

/** The view `id` is displayed and `#error` shows nothing. */
async function assertViewShown(page: Browser, id: string): Promise<void> {
  const displayed = await page.evaluate<boolean>(`(() => {
    const el = document.getElementById(${JSON.stringify(id)});
    return !!el && !el.hidden && el.getClientRects().length > 0;
  })()`);
  assert.ok(displayed, `#${id} is not displayed`);
  assert.equal(await shownError(page), "", "#error shows a message");
}

/** `count` joint observations: `size[i]` values per agent, uniform in [low, high). */
function probeObservations(sizes: number[], low: number, high: number, count = 5): number[][][] {
  const rng = new Pcg32(2024);
  return Array.from(
    { length: count },
    () =>
      sizes.map((size) =>
        // Rounded to float32: the page and Deno feed the actors identical inputs.
        Array.from({ length: size }, () => Math.fround(low + (high - low) * rng.nextFloat()))
      ),
  );
}

Deno.test({
  name: "the page shows runs, charts, replays and trains in a real browser (window.maddpg)",
  ignore: !CHROMIUM && !IN_CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    if (!CHROMIUM) {
      throw new Error(
        "CI=true but no Chromium found: install chromium-headless-shell " +
          "(apt-get install -y --no-install-recommends chromium-headless-shell)",
      );
    }
    const work = await Deno.makeTempDir({ prefix: "maddpg-browser-" });
    let server: Deno.HttpServer<Deno.NetAddr> | undefined;
    let siteServer: Deno.HttpServer<Deno.NetAddr> | undefined;
    let page: Browser | undefined;
    try {
      // The page, built every time (a few seconds) so that a stale dist/ is never tested.
      const build = await new Deno.Command(Deno.execPath(), {
        args: ["task", "build-web"],
        cwd: ROOT,
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(
        build.code,
        0,
        `deno task build-web failed: ${new TextDecoder().decode(build.stderr)}`,
      );

      // Two runs and their charts.
      await initBackend();
      const results = `${work}/results`;
      const runs = await runConfigs();
      for (const { path, config } of runs) {
        await train(config, { outDir: `${results}/${path}`, threads: 0 });
      }
      const grid = `${results}/grid-maddpg`, spread = `${results}/spread-maddpg`;
      const plot = await runScript("plot", ["--run", grid], work);
      assert.equal(plot.code, 0, `plot --run ${grid} failed: ${plot.stderr}`);
      const specs = [...Deno.readDirSync(`${grid}/charts`)]
        .filter((e) => e.name.endsWith(".vl.json")).length;
      assert.ok(specs > 0, "plot wrote chart specs");

      // Served, and opened.
      server = Deno.serve(
        { hostname: "127.0.0.1", port: 0, onListen: () => {} },
        createHandler({ webRoot: WEB_ROOT, resultsRoot: results }),
      );
      const base = `http://127.0.0.1:${server.addr.port}`;
      page = await launch({ width: 1280, height: 900 });
      const browser = page;
      await Deno.mkdir(SCREENSHOTS, { recursive: true });

      await check("#runs view", async () => {
        await browser.navigate(`${base}/#runs`);
        await browser.waitFor("window.maddpg", "window.maddpg to be defined", 10_000);
        await browser.evaluate("window.maddpg.ready.then(() => true)", 30_000);
        const rows = "#runs-table tbody tr";
        await browser.waitFor(
          `document.querySelectorAll(${JSON.stringify(rows)}).length >= 2`,
          "two rows in #runs-table",
          10_000,
        ).catch(async (error) => {
          const got = await browser.evaluate<number>(
            `document.querySelectorAll(${JSON.stringify(rows)}).length`,
          );
          throw new Error(`${error.message}; got ${got} rows`);
        });
        const paths = await browser.evaluate<(string | null)[]>(
          `[...document.querySelectorAll(${
            JSON.stringify(rows)
          })].map((tr) => tr.getAttribute("data-path"))`,
        );
        assert.deepEqual(paths.toSorted(), ["grid-maddpg", "spread-maddpg"], "rows' data-path");
        await assertViewShown(browser, "view-runs");
        await browser.screenshot(`${SCREENSHOTS}/runs.png`);
        // Ticked runs stay ticked while a filter hides some, and Compare takes them all.
        // One ticked run is not a comparison.
        assert.equal(
          await browser.evaluate<string>(`(() => {
            document.querySelector(".run-select").click();
            const button = document.getElementById("runs-compare");
            const state = button.textContent + (button.disabled ? " disabled" : "");
            document.querySelector(".run-select").click();
            return state;
          })()`),
          "Compare (1) disabled",
        );
        await browser.evaluate(`(() => {
          for (const box of document.querySelectorAll(".run-select")) box.click();
          const filter = document.getElementById("filter-env");
          filter.value = "grid_world";
          filter.dispatchEvent(new Event("change"));
          return true;
        })()`);
        assert.equal(
          await browser.evaluate<string>(`document.getElementById("runs-compare").textContent`),
          "Compare (2)",
        );
        await browser.evaluate(`(document.getElementById("runs-compare").click(), true)`);
        await browser.waitFor(
          `["#compare/grid-maddpg,spread-maddpg", "#compare/spread-maddpg,grid-maddpg"]` +
            `.includes(location.hash)`,
          "#compare of both runs",
        );
      });

      for (
        const { path, dir, low, high } of [
          { path: "grid-maddpg", dir: grid, low: 0, high: 1 },
          { path: "spread-maddpg", dir: spread, low: -1, high: 1 },
        ]
      ) {
        await check(`greedyActions(${path})`, async () => {
          const { env, actors } = await loadRun(dir);
          const sizes = agentShapes(env).map((s) => s.observationSize);
          const observations = probeObservations(sizes, low, high);
          const expected = observations.map((joint) =>
            selectActions(actors, joint.map((o) => Float32Array.from(o)), { mode: "greedy" })
          );
          const got = await browser.evaluate<number[][]>(
            `window.maddpg.greedyActions(${JSON.stringify(path)}, ${JSON.stringify(observations)})`,
          );
          assert.deepEqual(got, expected);
        });
        for (const policy of ["greedy", "sample"] as const) {
          await check(`replay(${path}, { seed: 7, policy: "${policy}" })`, async () => {
            const want = (await evaluate(dir, { episodes: 1, policy, seed: 7 })).episodes[0];
            const got = await browser.evaluate<
              { reward: number; returns: number[]; length: number }
            >(
              `window.maddpg.replay(${JSON.stringify(path)}, { seed: 7, policy: "${policy}" })`,
            );
            assert.equal(got.reward, want.reward, "reward");
            assert.equal(got.length, want.length, "length");
            assert.deepEqual(got.returns, want.returns, "returns");
          });
        }
      }

      await check("#charts view", async () => {
        await browser.navigate(`${base}/#charts/grid-maddpg`);
        const drawn = "#view-charts .chart svg, #view-charts .chart canvas";
        await waitForSelector(browser, drawn);
        await browser.waitFor(
          `document.querySelectorAll(${JSON.stringify(drawn)}).length >= ${specs}`,
          `${specs} drawn charts (one per charts/*.vl.json)`,
        );
        await assertViewShown(browser, "view-charts");
        await browser.screenshot(`${SCREENSHOTS}/charts.png`);
      });

      await check("#charts view of a particle-world run without charts/", async () => {
        await browser.navigate(`${base}/#charts/spread-maddpg`);
        const charts = "#view-charts .chart";
        await browser.waitFor(
          `[...document.querySelectorAll(${
            JSON.stringify(charts)
          })].filter((c) => c.getAttribute("data-chart")?.endsWith(" of spread-maddpg") && ` +
            `c.querySelector("svg, canvas")).length >= 4`,
          "four charts built from metrics.csv",
        );
        const labels = await browser.evaluate<(string | null)[]>(
          `[...document.querySelectorAll(${
            JSON.stringify(charts)
          })].map((c) => c.getAttribute("data-chart"))`,
        );
        assert.deepEqual(
          labels,
          ["reward", "critic_loss", "actor_loss", "measures"].map((c) => `${c} of spread-maddpg`),
        );
      });

      await check("#compare view", async () => {
        await browser.navigate(`${base}/#compare/grid-maddpg,spread-maddpg`);
        await waitForSelector(browser, "#view-compare svg, #view-compare canvas");
        await assertViewShown(browser, "view-compare");
        await browser.screenshot(`${SCREENSHOTS}/compare.png`);
        // A run named twice in the address is drawn once.
        await browser.navigate(`${base}/#compare/grid-maddpg,grid-maddpg`);
        await browser.waitFor(
          `document.getElementById("compare-title").textContent === "Comparing 1 run"`,
          "the title of a comparison of one run named twice",
        );
      });

      await check(
        "a run named with # and , in #charts and #compare; a bad run left out",
        async () => {
          const odd = "spread #1,b";
          await Deno.mkdir(`${results}/${odd}`);
          for (const file of ["config.json", "metrics.csv"]) {
            await Deno.copyFile(`${spread}/${file}`, `${results}/${odd}/${file}`);
          }
          await browser.navigate(`${base}/${routeHash({ view: "charts", path: odd })}`);
          const charts = "#view-charts .chart";
          await browser.waitFor(
            `[...document.querySelectorAll(${JSON.stringify(charts)})].filter((c) => ` +
              `c.getAttribute("data-chart")?.endsWith(${JSON.stringify(` of ${odd}`)}) && ` +
              `c.querySelector("svg, canvas")).length >= 4`,
            `four charts of ${odd}`,
          );
          const paths = [odd, "grid-maddpg", "no-such-run"];
          await browser.navigate(`${base}/${routeHash({ view: "compare", paths })}`);
          // The earlier #compare view's chart stays until this one is drawn: wait for its legend.
          await browser.waitFor(
            `document.getElementById("view-compare").innerText.includes(${JSON.stringify(odd)})`,
            `a chart whose legend names ${odd}`,
          );
          const title = await browser.evaluate<string>(
            `document.getElementById("compare-title").textContent`,
          );
          assert.equal(title, "Comparing 2 runs");
          assert.match(await shownError(browser), /no-such-run\/metrics\.csv: HTTP 404/);
        },
      );

      await check("#replay view", async () => {
        await browser.navigate(`${base}/#replay/spread-maddpg`);
        await waitForSelector(browser, "#replay-scene svg");
        await assertViewShown(browser, "view-replay");
        const cells = await browser.evaluate<string[]>(
          `[...document.querySelectorAll("#replay-agents td:first-child")].map((td) => td.textContent)`,
        );
        assert.deepEqual(cells.slice(0, 3), ["agent_0", "agent_1", "agent_2"]);
        await browser.navigate(`${base}/#replay/grid-maddpg`);
        await waitForSelector(browser, "#replay-scene svg");
        await browser.screenshot(`${SCREENSHOTS}/replay.png`);
        // A run without a checkpoint (the copied config and metrics above) has nothing to replay.
        await browser.navigate(`${base}/${routeHash({ view: "replay", path: "spread #1,b" })}`);
        await browser.waitFor(
          `document.getElementById("error").textContent.includes("no saved actors")`,
          "#error naming the missing actors",
        );
        assert.match(
          await shownError(browser),
          /^spread #1,b has no saved actors yet \(.*agent_\d\/actor\/model\.json: HTTP 404\)/,
        );
      });

      const download = await check("#train view, window.maddpg.train", async () => {
        await browser.navigate(`${base}/#train`);
        await waitForSelector(browser, "#train-start");
        const result = await browser.evaluate<{ episodes: number; greedySuccess: boolean }>(
          `window.maddpg.train({ preset: "grid-maddpg", episodes: 30, seed: 1 })`,
          120_000,
        );
        assert.equal(result.episodes, 30, "episodes trained");
        assert.equal(typeof result.greedySuccess, "boolean", "greedySuccess");
        const status = await browser.evaluate<string>(
          `document.getElementById("train-status")?.textContent ?? "(no #train-status)"`,
        );
        assert.ok(status.trim().endsWith("done"), `#train-status: ${JSON.stringify(status)}`);
        await assertViewShown(browser, "view-train");
        await browser.screenshot(`${SCREENSHOTS}/train.png`);
        const zip = await browser.evaluate<{ name: string; base64: string } | null>(
          "window.maddpg.lastDownload() ?? null",
        );
        assert.ok(zip, "lastDownload() returned nothing after train()");
        return zip;
      });

      await check(`the downloaded zip (${download.name}) evaluates`, async () => {
        const bytes = Uint8Array.from(atob(download.base64), (c) => c.charCodeAt(0));
        const files = unzipSync(bytes);
        const names = Object.keys(files);
        const config = names.find((n) => n === "config.json" || n.endsWith("/config.json"));
        assert.ok(config, `no config.json in the zip: ${names.join(", ")}`);
        const prefix = config.slice(0, -"config.json".length);
        const unzipped = `${work}/download`;
        for (const [name, data] of Object.entries(files)) {
          if (name.endsWith("/")) continue;
          const target = `${unzipped}/${name}`;
          await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), { recursive: true });
          await Deno.writeFile(target, data);
        }
        const runDir = `${unzipped}/${prefix}`.replace(/\/$/, "");
        const metrics = (await Deno.readTextFile(`${runDir}/metrics.csv`)).trim().split("\n");
        assert.equal(metrics.length, 31, "metrics.csv: a header and 30 episodes");
        const record = JSON.parse(await Deno.readTextFile(`${runDir}/config.json`));
        assert.equal(record.config.seed, 1, "config.seed");
        const result = await evaluate(runDir, { episodes: 1, policy: "greedy" });
        assert.equal(result.episodes.length, 1);
        assert.ok(Number.isFinite(result.episodes[0].reward), "a finite reward");
      });

      await check("the static copy of `deno task site`, under a plain file server", async () => {
        const site = `${work}/site`;
        const args = ["--out", site, "--results", results, "--web", WEB_ROOT];
        const written = await runScript("site", [...args, "--run", grid, "--run", spread], work);
        assert.equal(written.code, 0, written.stderr);
        siteServer = Deno.serve(
          { hostname: "127.0.0.1", port: 0, onListen: () => {} },
          (request) => serveFile(site, new URL(request.url).pathname),
        );
        const siteBase = `http://127.0.0.1:${siteServer.addr.port}`;
        await browser.navigate(`${siteBase}/#runs`);
        await browser.waitFor(
          `document.querySelectorAll("#runs-table tbody tr").length === 2`,
          "both runs listed",
        );
        await browser.navigate(`${siteBase}/#charts/grid-maddpg`);
        await waitForSelector(browser, "#view-charts .chart svg, #view-charts .chart canvas");
        await browser.navigate(`${siteBase}/#replay/spread-maddpg`);
        await waitForSelector(browser, "#replay-scene svg");
      });

      // The favicon, the run the compare check asks for and the actors the replay check asks
      // for are missing on purpose.
      const errors = page.consoleErrors().filter((e) =>
        !/favicon\.ico|no-such-run\/metrics\.csv|%231%2Cb\/checkpoint\/agent_\d\/actor\/model\.json/
          .test(`${e.url ?? ""} ${e.text}`)
      );
      assert.deepEqual(errors, [], "the page reported errors");
    } finally {
      await page?.close();
      await server?.shutdown();
      await siteServer?.shutdown();
      await Deno.remove(work, { recursive: true });
    }
  },
});
