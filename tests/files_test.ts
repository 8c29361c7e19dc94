/** Atomic, synced file writes: lib/files.ts. */
import assert from "node:assert/strict";
import { syncDir, writeFileAtomic, writeFileSynced } from "../lib/files.ts";

/** Names in `dir` that look like temporary files. */
function temporaries(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((name) => name.includes(".tmp-"));
}

/**
 * Records every `FsFile.sync()` and `Deno.rename()` made while `body` runs, in order.
 * The real calls still happen.
 */
async function recordSyncs(body: () => Promise<void>): Promise<string[]> {
  const events: string[] = [];
  const sync = Deno.FsFile.prototype.sync;
  const rename = Deno.rename;
  Deno.FsFile.prototype.sync = function (this: Deno.FsFile) {
    events.push("sync");
    return sync.call(this);
  };
  Deno.rename = (from, to) => {
    events.push("rename");
    return rename(from, to);
  };
  try {
    await body();
  } finally {
    Deno.FsFile.prototype.sync = sync;
    Deno.rename = rename;
  }
  return events;
}

Deno.test("writeFileAtomic() writes strings and bytes, replaces the old file, and leaves no temporary file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/out.json`;
    await writeFileAtomic(path, "a much longer first version\n");
    assert.equal(await Deno.readTextFile(path), "a much longer first version\n");
    await writeFileAtomic(path, "second\n");
    assert.equal(await Deno.readTextFile(path), "second\n", "the old, longer file is replaced");
    const bytes = new Uint8Array(1 << 20).map((_, k) => k * 7);
    await writeFileAtomic(`${dir}/out.bin`, bytes);
    assert.deepEqual(await Deno.readFile(`${dir}/out.bin`), bytes);
    await writeFileAtomic(`${dir}/empty`, new Uint8Array(0));
    assert.equal((await Deno.stat(`${dir}/empty`)).size, 0);
    assert.deepEqual(temporaries(dir), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeFileAtomic() syncs the new file before the rename and the directory after it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const events = await recordSyncs(() => writeFileAtomic(`${dir}/out.txt`, "synced\n"));
    const expected = Deno.build.os === "windows" ? ["sync", "rename"] : ["sync", "rename", "sync"];
    assert.deepEqual(events, expected);
    assert.equal(await Deno.readTextFile(`${dir}/out.txt`), "synced\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeFileAtomic() into a missing directory fails and creates nothing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      () => writeFileAtomic(`${dir}/missing/out.txt`, "x"),
      Deno.errors.NotFound,
    );
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeFileAtomic() that fails to rename leaves the old entry intact and no temporary file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // A non-empty directory cannot be replaced by a file.
    const path = `${dir}/taken`;
    await Deno.mkdir(path);
    await Deno.writeTextFile(`${path}/old.txt`, "old\n");
    await assert.rejects(() => writeFileAtomic(path, "new\n"));
    assert.equal(await Deno.readTextFile(`${path}/old.txt`), "old\n");
    assert.deepEqual(temporaries(dir), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "writeFileAtomic() on a full disk leaves the old file intact and no temporary file",
  // The temporary file is made a link to /dev/full, where every write fails with ENOSPC.
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const path = `${dir}/metrics.csv`;
      await Deno.writeTextFile(path, "old,complete\n");
      await Deno.symlink("/dev/full", `${path}.tmp-${Deno.pid}`);
      await assert.rejects(
        () => writeFileAtomic(path, "new,".repeat(10_000)),
        /No space left on device/,
      );
      assert.equal(await Deno.readTextFile(path), "old,complete\n");
      assert.deepEqual(temporaries(dir), []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("writeFileAtomic() keeps concurrent writes to one path apart", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/out.txt`;
    const versions = ["a".repeat(300_000), "b".repeat(200_000), "c".repeat(100_000)];
    await Promise.all(versions.map((text) => writeFileAtomic(path, text)));
    assert.ok(versions.includes(await Deno.readTextFile(path)), "one whole version");
    assert.deepEqual(temporaries(dir), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeFileSynced() writes every byte in place, syncs, and truncates a longer old file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/arrays.bin`;
    await Deno.writeFile(path, new Uint8Array(4096).fill(9));
    const bytes = new Uint8Array(100_000).map((_, k) => k % 251);
    const events = await recordSyncs(() => writeFileSynced(path, bytes));
    assert.deepEqual(events, ["sync"]);
    assert.deepEqual(await Deno.readFile(path), bytes);
    await writeFileSynced(path, "text");
    assert.equal(await Deno.readTextFile(path), "text");
    assert.deepEqual(temporaries(dir), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("syncDir() syncs a directory and reports a missing one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await syncDir(dir);
    if (Deno.build.os !== "windows") {
      await assert.rejects(() => syncDir(`${dir}/missing`), Deno.errors.NotFound);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
