/**
 * The experiment tables git keeps are what `deno task experiment` rebuilds from the evaluation
 * records git keeps beside them, as on a fresh clone: same seeds, same budget, byte for byte.
 */
import assert from "node:assert/strict";
import { crossplayTable } from "../scripts/crossplay.ts";
import { roundRobinTable } from "../scripts/round_robin.ts";
import { ROOT, runScript } from "./_run.ts";

/** A kept table: where it is, and the records of its variants. */
interface KeptTable {
  dir: string;
  name: string;
  records: {
    variant: string;
    seed: number;
    episodes: number;
    evalEpisodes: number;
  }[];
}

/** Every `results/experiments*\/<name>/` and the `eval_seed_<n>.json` records of its variants. */
async function keptTables(): Promise<KeptTable[]> {
  const tables: KeptTable[] = [];
  for await (const top of Deno.readDir(`${ROOT}results`)) {
    if (!top.isDirectory || !top.name.startsWith("experiments")) continue;
    for await (const entry of Deno.readDir(`${ROOT}results/${top.name}`)) {
      const dir = `${ROOT}results/${top.name}/${entry.name}`;
      if (!entry.isDirectory) continue;
      const table: KeptTable = { dir, name: entry.name, records: [] };
      for await (const variant of Deno.readDir(dir)) {
        if (!variant.isDirectory) continue;
        for await (const file of Deno.readDir(`${dir}/${variant.name}`)) {
          if (!/^eval_seed_\d+\.json$/.test(file.name)) continue;
          const path = `${dir}/${variant.name}/${file.name}`;
          const record = JSON.parse(await Deno.readTextFile(path));
          table.records.push({
            variant: variant.name,
            seed: record.seed,
            episodes: record.settings.episodes,
            evalEpisodes: record.evalEpisodes,
          });
        }
      }
      tables.push(table);
    }
  }
  return tables;
}

/** The flags that rebuild `table` from its records alone (no variant is missing a seed). */
function rebuildArgs(table: KeptTable, out: string): string[] {
  const seeds = [...new Set(table.records.map((r) => r.seed))].sort((a, b) => a - b);
  const variants = [...new Set(table.records.map((r) => r.variant))].filter((variant) =>
    seeds.every((seed) => table.records.some((r) => r.variant === variant && r.seed === seed))
  );
  assert.ok(variants.length > 0, `${table.dir}: no variant has a record of every seed`);
  const one = (key: "episodes" | "evalEpisodes") => {
    const values = new Set(table.records.map((r) => r[key]));
    assert.equal(values.size, 1, `${table.dir}: records of several ${key}`);
    return String([...values][0]);
  };
  return [
    table.name,
    ...["--seeds", seeds.join(","), "--variants", variants.join(",")],
    ...["--episodes", one("episodes"), "--eval-episodes", one("evalEpisodes"), "--out", out],
  ];
}

Deno.test("kept experiment tables: rebuilt from their kept records alone, byte for byte", async () => {
  const tables = (await keptTables()).filter((table) => table.records.length > 0);
  assert.ok(tables.some((table) => table.name === "adversary_peer"));
  for (const table of tables) {
    const out = await Deno.makeTempDir();
    try {
      for (const { variant, seed } of table.records) {
        await Deno.mkdir(`${out}/${table.name}/${variant}`, { recursive: true });
        const file = `${variant}/eval_seed_${seed}.json`;
        await Deno.copyFile(`${table.dir}/${file}`, `${out}/${table.name}/${file}`);
      }
      const run = await runScript("experiment", rebuildArgs(table, out), ROOT);
      assert.equal(run.code, 0, `${table.dir}: ${run.stderr}`);
      assert.doesNotMatch(run.stdout, /training [1-9]/, `${table.dir} trained: ${run.stdout}`);
      for (const file of ["table.md", "table.json"]) {
        assert.equal(
          await Deno.readTextFile(`${out}/${table.name}/${file}`),
          await Deno.readTextFile(`${table.dir}/${file}`),
          `${table.dir}/${file} is not what its records rebuild`,
        );
      }
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  }
});

/** Each kept record of `folder` (`<name>.json`), with the table kept beside it (`<name>.md`). */
async function* keptRecords(folder: string) {
  const dir = `${ROOT}results/${folder}`;
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.name.endsWith(".json")) continue;
    const record = JSON.parse(await Deno.readTextFile(`${dir}/${entry.name}`));
    const table = await Deno.readTextFile(`${dir}/${entry.name.replace(/\.json$/, ".md")}`);
    yield { name: entry.name, record, table };
  }
}

Deno.test("every kept cross-play table is its kept record's pairings, formatted", async () => {
  let checked = 0;
  for await (const { name, record, table } of keptRecords("crossplay")) {
    assert.equal(record.pairings.length, 1 + 3 * record.runs.length, name);
    assert.equal(table, crossplayTable(record.pairings, record.against) + "\n", name);
    checked++;
  }
  assert.ok(checked >= 4, `${checked} cross-play records`);
});

Deno.test("every kept round-robin table is its kept record's pairings, formatted", async () => {
  let checked = 0;
  for await (const { name, record, table } of keptRecords("round_robin")) {
    assert.equal(record.pairings.length, record.runs.length ** 2, name);
    assert.equal(table, roundRobinTable(record.runs, record.pairings) + "\n", name);
    checked++;
  }
  assert.ok(checked >= 3, `${checked} round-robin records`);
});
