/**
 * The web page's server and static site, without a browser: the run index, the read-only
 * handler (and its refusals of every way out of its roots), `scripts/serve.ts` and
 * `scripts/site.ts` as subprocesses. Everything listens on 127.0.0.1 only, in temp dirs
 * removed when each test ends.
 */
import assert from "node:assert/strict";
import { listRuns } from "../lib/serve/run_index.ts";
import { contentType, createHandler, safeSegments } from "../lib/serve/static_server.ts";
import { assertUsageError, runScript, scriptCommand } from "./_run.ts";

const SECRET = "TOP-SECRET-a8f3c1";
const WASM = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);

/** A temp dir holding `results/` (runs), `web/` (a fake built page) and secrets beside them. */
interface Fixture {
  root: string;
  results: string;
  web: string;
}

async function write(path: string, data: string | Uint8Array): Promise<void> {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  if (typeof data === "string") await Deno.writeTextFile(path, data);
  else await Deno.writeFile(path, data);
}

function record(algo: string, seed: number, episodes: number): string {
  return JSON.stringify({
    config: { algo, env: "grid_world", seed, episodes },
    runtime: { deno: "2.9.6" },
  });
}

const METRICS = "episode,steps,reward\n1,10,-3\n2,10,-2\n";

async function makeFixture(): Promise<Fixture> {
  const root = await Deno.makeTempDir({ prefix: "serve_test_" });
  const results = `${root}/results`, web = `${root}/web`;
  // A whole run.
  const run = `${results}/run-a`;
  await write(`${run}/config.json`, record("maddpg", 7, 3));
  await write(`${run}/metrics.csv`, METRICS);
  await write(
    `${run}/summary.json`,
    JSON.stringify({ final50: { reward: -1.5 }, test: { greedy: { successRate: 0.4 } } }),
  );
  await write(`${run}/charts/reward.vl.json`, '{"mark":"line"}');
  await write(`${run}/charts/reward.svg`, "<svg/>");
  await write(`${run}/checkpoint/agent_0/actor/model.json`, '{"modelTopology":{}}');
  await write(`${run}/checkpoint/agent_0/actor/weights.bin`, new Uint8Array([1, 2, 3, 4]));
  await write(`${run}/checkpoint/agent_0/critic/model.json`, "{}");
  await write(`${run}/checkpoint/state/buffer.bin`, new Uint8Array([9]));
  // An experiment: a sound seed and a damaged one.
  await write(`${results}/exp/seed_0/config.json`, record("matd3", 0, 5));
  await write(`${results}/exp/seed_0/metrics.csv`, METRICS);
  await write(`${results}/exp/seed_1/config.json`, record("matd3", 1, 5));
  await write(`${results}/exp/seed_1/summary.json`, "{ not json");
  // Not runs: too deep, or no run files.
  await write(`${results}/a/b/c/d/config.json`, record("maddpg", 1, 1));
  await write(`${results}/notes/readme.txt`, "not a run");
  // The page.
  await write(`${web}/index.html`, "<!doctype html><title>runs</title>");
  await write(`${web}/tfjs-backend-wasm-simd.wasm`, WASM);
  await write(`${web}/app.js`, "console.log(1)");
  // Secrets beside the roots, and symlinks pointing at them from inside.
  await write(`${root}/secret`, SECRET);
  await write(`${root}/outside/secret.txt`, SECRET);
  await Deno.symlink(`${root}/secret`, `${results}/leak`);
  await Deno.symlink(`${root}/outside`, `${results}/leakdir`);
  await Deno.symlink(`${root}/outside`, `${web}/leakdir`);
  await Deno.symlink(`${run}/metrics.csv`, `${results}/inside-link.csv`);
  return { root, results, web };
}

/** Every entry under `dir` (symlinks as their targets, not followed), for "unchanged" checks. */
async function tree(dir: string): Promise<Map<string, string>> {
  const entries = new Map<string, string>();
  const walk = async (path: string) => {
    for await (const entry of Deno.readDir(path)) {
      const full = `${path}/${entry.name}`;
      if (entry.isSymlink) entries.set(full, `-> ${await Deno.readLink(full)}`);
      else if (entry.isDirectory) await walk(full);
      else entries.set(full, Array.from(await Deno.readFile(full)).join(","));
    }
  };
  await walk(dir);
  return entries;
}

/** Runs `body` against the handler listening on 127.0.0.1, a free port; always shuts down. */
async function withServer(
  fixture: Fixture,
  body: (origin: string, port: number) => Promise<void>,
): Promise<void> {
  const handler = createHandler({ webRoot: fixture.web, resultsRoot: fixture.results });
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, handler);
  try {
    await body(`http://127.0.0.1:${server.addr.port}`, server.addr.port);
  } finally {
    await server.shutdown();
  }
}

/**
 * A request sent byte for byte (no client-side normalization of `..`, `%2e`, `\`), with
 * `Connection: close`; reads at most 1 MB.
 */
async function rawGet(port: number, target: string): Promise<{ status: number; text: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const request = `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`;
    await conn.write(new TextEncoder().encode(request));
    const chunks: Uint8Array[] = [];
    const buffer = new Uint8Array(64 * 1024);
    for (let total = 0; total < 1 << 20;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      chunks.push(buffer.slice(0, n));
      total += n;
    }
    const text = new TextDecoder().decode(
      new Uint8Array(chunks.flatMap((chunk) => Array.from(chunk))),
    );
    return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text };
  } finally {
    conn.close();
  }
}

Deno.test("listRuns() lists every run with its fields, problems instead of errors", async () => {
  const fixture = await makeFixture();
  try {
    const runs = await listRuns(fixture.results);
    assert.deepEqual(runs.map((run) => run.path), ["exp/seed_0", "exp/seed_1", "run-a"]);
    assert.deepEqual(runs[2], {
      path: "run-a",
      name: "run-a",
      experiment: null,
      algo: "maddpg",
      env: "grid_world",
      seed: 7,
      episodes: 3,
      finalReward: -1.5,
      finalTeamReturns: null,
      greedySuccessRate: 0.4,
      hasActors: true,
      charts: ["charts/reward.vl.json"],
      problems: [],
    });
    assert.equal(runs[0].name, "exp/seed_0");
    assert.equal(runs[0].experiment, "exp");
    assert.equal(runs[0].algo, "matd3");
    assert.equal(runs[0].finalReward, null);
    assert.equal(runs[0].hasActors, false);
    assert.deepEqual(runs[0].problems, []);
    assert.deepEqual(runs[1].problems, ["metrics.csv missing", "summary.json is not valid JSON"]);
    assert.equal(runs[1].seed, 1);
    // A competitive world's run: each team's final return.
    await write(`${fixture.results}/tag/config.json`, record("maddpg", 0, 3));
    await write(
      `${fixture.results}/tag/summary.json`,
      JSON.stringify({ final50: { reward: -2, teamReturns: { adversaries: 12.5, good: -31 } } }),
    );
    const tag = (await listRuns(fixture.results)).find((run) => run.path === "tag");
    assert.deepEqual(tag?.finalTeamReturns, { adversaries: 12.5, good: -31 });
  } finally {
    await Deno.remove(fixture.root, { recursive: true });
  }
});

Deno.test("listRuns() reports a bad config.json and finds nothing in a missing dir", async () => {
  const root = await Deno.makeTempDir({ prefix: "serve_test_" });
  try {
    await write(`${root}/bad/config.json`, "[1,");
    await write(`${root}/bad/metrics.csv`, METRICS);
    await write(`${root}/flat/config.json`, JSON.stringify({ algo: "notebook", seed: 42 }));
    await write(`${root}/flat/metrics.csv`, METRICS);
    const [bad, flat] = await listRuns(root);
    assert.deepEqual(bad.problems, ["config.json is not valid JSON"]);
    assert.equal(bad.algo, null);
    // The committed baselines' config.json is the bare config.
    assert.equal(flat.algo, "notebook");
    assert.equal(flat.env, null);
    assert.deepEqual(flat.problems, ["config.json lacks a number episodes"]);
    assert.deepEqual(await listRuns(`${root}/missing`), []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("safeSegments() and contentType() refuse ways out and name types", () => {
  assert.deepEqual(safeSegments("/"), []);
  assert.deepEqual(safeSegments("/results//run-a/x%20y.json"), ["results", "run-a", "x y.json"]);
  for (
    const path of [
      "/results/../secret",
      "/results/%2e%2e/secret",
      "/results/%2E%2e/secret",
      "/results/..%2fsecret",
      "/results/..%2Fsecret",
      "/results/a%5c..%5cb",
      "/results/a\\..\\b",
      "/results/%00",
      "/%2fetc/passwd",
      "/C:/Windows",
      "/results/%zz",
    ]
  ) {
    assert.equal(safeSegments(path), null, path);
  }
  assert.equal(contentType("a/b.wasm"), "application/wasm");
  assert.equal(contentType("metrics.csv"), "text/csv; charset=utf-8");
  assert.equal(contentType("weights.bin"), "application/octet-stream");
  assert.equal(contentType("README"), "application/octet-stream");
});

Deno.test("createHandler() serves the page, the runs' files and runs.json", async () => {
  const fixture = await makeFixture();
  try {
    await withServer(fixture, async (origin) => {
      for (const path of ["/", "/index.html"]) {
        const page = await fetch(`${origin}${path}`);
        assert.equal(page.status, 200, path);
        assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
        assert.equal(page.headers.get("cache-control"), "no-store");
        assert.equal(await page.text(), "<!doctype html><title>runs</title>");
      }
      const wasm = await fetch(`${origin}/tfjs-backend-wasm-simd.wasm`);
      assert.equal(wasm.headers.get("content-type"), "application/wasm");
      assert.deepEqual(new Uint8Array(await wasm.arrayBuffer()), WASM);

      const csv = await fetch(`${origin}/results/run-a/metrics.csv`);
      assert.equal(csv.headers.get("content-type"), "text/csv; charset=utf-8");
      assert.equal(await csv.text(), METRICS);
      const weights = await fetch(`${origin}/results/run-a/checkpoint/agent_0/actor/weights.bin`);
      assert.equal(weights.headers.get("content-type"), "application/octet-stream");
      assert.deepEqual(new Uint8Array(await weights.arrayBuffer()), new Uint8Array([1, 2, 3, 4]));
      // A symlink that stays inside its root is followed.
      const linked = await fetch(`${origin}/results/inside-link.csv`);
      assert.equal(await linked.text(), METRICS);

      const head = await fetch(`${origin}/results/run-a/config.json`, { method: "HEAD" });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get("content-length"), String(record("maddpg", 7, 3).length));
      assert.equal(await head.text(), "");

      const index = await fetch(`${origin}/runs.json`);
      assert.equal(index.headers.get("content-type"), "application/json; charset=utf-8");
      assert.deepEqual(await index.json(), await listRuns(fixture.results));

      for (const path of ["/missing.js", "/results", "/results/", "/results/run-a", "/web/"]) {
        const response = await fetch(`${origin}${path}`);
        assert.equal(response.status, 404, path);
        await response.body?.cancel();
      }
    });
  } finally {
    await Deno.remove(fixture.root, { recursive: true });
  }
});

Deno.test("createHandler() never serves a file outside its roots", async () => {
  const fixture = await makeFixture();
  const attempts = [
    "/results/../secret",
    "/results/%2e%2e/secret",
    "/results/..%2fsecret",
    "/results/%2e%2e%2fsecret",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/results/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/results/a\\..\\b",
    "/results/..\\secret",
    "/results/..%5csecret",
    "/results/%00",
    "/results/leak",
    "/results/leakdir/secret.txt",
    "/leakdir/secret.txt",
    "/..%2fsecret",
    "//etc/passwd",
    "/results/" + "%2e%2e/".repeat(8) + "etc/passwd",
  ];
  try {
    await withServer(fixture, async (origin, port) => {
      for (const path of attempts) {
        // fetch normalizes `..` and `%2e%2e` first; the raw request does not.
        const response = await fetch(`${origin}${path}`);
        const text = await response.text();
        assert.ok([403, 404].includes(response.status), `${path}: ${response.status}`);
        assert.ok(!text.includes(SECRET) && !text.includes("root:"), path);

        // Sent as is, every one is refused outright (`//etc/passwd` is `etc/passwd` of the
        // page, which does not exist).
        const raw = await rawGet(port, path);
        assert.equal(raw.status, path === "//etc/passwd" ? 404 : 403, `raw ${path}`);
        assert.ok(!raw.text.includes(SECRET) && !raw.text.includes("root:"), `raw ${path}`);
      }
    });
  } finally {
    await Deno.remove(fixture.root, { recursive: true });
  }
});

Deno.test("createHandler() refuses POST, PUT, DELETE and PATCH and changes nothing", async () => {
  const fixture = await makeFixture();
  try {
    const before = await tree(fixture.root);
    await withServer(fixture, async (origin) => {
      for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
        for (const path of ["/", "/results/run-a/config.json", "/runs.json", "/results/new.txt"]) {
          const response = await fetch(`${origin}${path}`, {
            method,
            body: method === "DELETE" ? undefined : "overwritten",
          });
          assert.equal(response.status, 405, `${method} ${path}`);
          assert.equal(response.headers.get("allow"), "GET, HEAD");
          await response.body?.cancel();
        }
      }
    });
    assert.deepEqual(await tree(fixture.root), before);
  } finally {
    await Deno.remove(fixture.root, { recursive: true });
  }
});

Deno.test("scripts/serve.ts serves on a free port and stops on SIGTERM", async () => {
  const fixture = await makeFixture();
  const child = scriptCommand("serve", [
    "--port",
    "0",
    "--results",
    fixture.results,
    "--web",
    fixture.web,
  ], fixture.root).spawn();
  // A hung server fails the test instead of hanging it.
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const stdout = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const stderr = new Response(child.stderr).text();
  try {
    let printed = "";
    while (!printed.includes("\n")) {
      const { value, done } = await stdout.read();
      if (done) break;
      printed += value;
    }
    const origin = /at (http:\/\/127\.0\.0\.1:\d+)\//.exec(printed)?.[1];
    assert.ok(origin, `printed: ${printed}`);
    assert.equal(printed, `Serving ${fixture.results} at ${origin}/\n`);
    const runs = await (await fetch(`${origin}/runs.json`)).json();
    assert.equal(runs.length, 3);
    child.kill("SIGTERM");
    let rest = "";
    for (let chunk = await stdout.read(); !chunk.done; chunk = await stdout.read()) {
      rest += chunk.value;
    }
    const { code } = await child.status;
    assert.equal(code, 0, await stderr);
    assert.equal(rest, "Stopped\n");
  } finally {
    clearTimeout(timer);
    await child.status;
    await stderr;
    await Deno.remove(fixture.root, { recursive: true });
  }
});

Deno.test("scripts/serve.ts refuses bad flags and paths with one line", async () => {
  const fixture = await makeFixture();
  try {
    const web = ["--web", fixture.web];
    assertUsageError(await runScript("serve", ["--port", "99999", ...web], fixture.root), /port/);
    assertUsageError(await runScript("serve", ["--port", "x", ...web], fixture.root), /--port/);
    assertUsageError(await runScript("serve", ["--bogus"], fixture.root), /bogus/);
    assertUsageError(
      await runScript("serve", ["--host", "bad host!", "--port", "0", ...web], fixture.root),
      /cannot listen on --host bad host! --port 0: invalid host/,
    );
    assertUsageError(
      await runScript("serve", ["--results", `${fixture.root}/missing`, ...web], fixture.root),
      /--results .*missing does not exist/,
    );
    assertUsageError(
      await runScript("serve", ["--web", fixture.results, "--port", "0"], fixture.root),
      /--web .* has no index\.html/,
    );
  } finally {
    await Deno.remove(fixture.root, { recursive: true });
  }
});

Deno.test("scripts/site.ts writes a static copy whose runs.json lists the copied runs", async () => {
  const fixture = await makeFixture();
  const out = `${fixture.root}/site`;
  try {
    const result = await runScript("site", [
      "--out",
      out,
      "--results",
      fixture.results,
      "--web",
      fixture.web,
      "--run",
      `${fixture.results}/run-a`,
      "--run",
      `${fixture.results}/exp`,
    ], fixture.root);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Wrote .*\/: 2 runs, \d+ files; serve it with any static host$/m);

    assert.equal(
      await Deno.readTextFile(`${out}/index.html`),
      "<!doctype html><title>runs</title>",
    );
    assert.deepEqual(await Deno.readFile(`${out}/tfjs-backend-wasm-simd.wasm`), WASM);
    const copied = [...(await tree(`${out}/results`)).keys()]
      .map((path) => path.slice(`${out}/results/`.length)).sort();
    assert.deepEqual(copied, [
      "exp/seed_0/config.json",
      "exp/seed_0/metrics.csv",
      "run-a/charts/reward.vl.json",
      "run-a/checkpoint/agent_0/actor/model.json",
      "run-a/checkpoint/agent_0/actor/weights.bin",
      "run-a/config.json",
      "run-a/metrics.csv",
      "run-a/summary.json",
    ]);
    const index = JSON.parse(await Deno.readTextFile(`${out}/runs.json`));
    assert.deepEqual(index.map((run: { path: string }) => run.path), ["exp/seed_0", "run-a"]);
    const original = (await listRuns(fixture.results)).find((run) => run.path === "run-a");
    assert.deepEqual(index[1], original);
    // A second run into the same --out is refused: it holds files.
    const again = await runScript("site", [
      "--out",
      out,
      "--results",
      fixture.results,
      "--web",
      fixture.web,
    ], fixture.root);
    assertUsageError(again, /--out .* is not empty/);
    const forced = await runScript("site", [
      "--out",
      out,
      "--results",
      fixture.results,
      "--web",
      fixture.web,
      "--force",
    ], fixture.root);
    assert.equal(forced.code, 0, forced.stderr);
  } finally {
    await Deno.remove(fixture.root, { recursive: true });
  }
});

Deno.test("scripts/site.ts refuses a --run that is not a run and writes nothing", async () => {
  const fixture = await makeFixture();
  const out = `${fixture.root}/site`;
  const site = (...args: string[]) =>
    runScript("site", [
      "--out",
      out,
      "--results",
      fixture.results,
      "--web",
      fixture.web,
      ...args,
    ], fixture.root);
  try {
    const before = await tree(fixture.root);
    assertUsageError(
      await site("--run", `${fixture.results}/notes`),
      /--run .*notes is not a run/,
    );
    assertUsageError(await site("--run", `${fixture.root}/missing`), /--run .* does not exist/);
    assertUsageError(await site("--run", `${fixture.root}/outside`), /is not under --results/);
    assertUsageError(
      await runScript("site", ["--results", fixture.results], fixture.root),
      /--out/,
    );
    assertUsageError(
      await site("--out", `${fixture.results}/site`),
      /--out .*site overlaps --results/,
    );
    assertUsageError(
      await site("--out", `${fixture.results}/run-a/config.json/site`),
      /--out .*: .*run-a\/config\.json is not a directory/,
    );
    assert.deepEqual(await tree(fixture.root), before);
  } finally {
    await Deno.remove(fixture.root, { recursive: true });
  }
});
