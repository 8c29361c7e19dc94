/**
 * The complete state of a training run, saved so that a resumed run continues exactly as
 * an uninterrupted one: written into a temporary directory, synced, then renamed into
 * place, with a manifest of sizes and SHA-256 checksums checked on load.
 *
 * @module
 */
import type { LearnerState } from "./agent/algorithm.ts";
import type { AdamState } from "./nn/adam.ts";
import { BUFFER_BLOCK_ROWS } from "./replay_buffer.ts";
import type { ReplayBufferState } from "./replay_buffer.ts";
import type { RngState } from "./rng.ts";
import type { LossSums } from "./train/episode_log.ts";
import { createHash } from "node:crypto";
import { blockChunks, blockCount, blockName, blockRows, bufferArrays } from "./buffer_blocks.ts";
import type { SavedBlock, SavedBlocks } from "./buffer_blocks.ts";
import { UsageError } from "./errors.ts";
import { exists, syncDir, writeFileSynced } from "./files.ts";

/**
 * Version of the state format: 3 keeps the replay buffer in block files (`buffer_blocks.ts`).
 * Format 2 (the buffer in `arrays.bin`) and format 1 (the grid world's joint replay arrays)
 * are still read, format 1 converted on load.
 */
export const STATE_FORMAT = 3;

/** An episode stopped after some steps: what its continuation needs. */
export interface PartialEpisode {
  /** Each agent's current observation. */
  observations: number[][];
  /** Each agent's return so far. */
  returns: number[];
  /** Steps taken. */
  steps: number;
  /** Loss sums of the update rounds run in it. */
  losses: LossSums;
}

/** Everything a resumed run needs. */
export interface TrainingState {
  /** The run's config when the state was saved (as recorded: check it before use). */
  config: Record<string, unknown>;
  /** tfjs-core version the state was made with. */
  tfjs: string;
  /** Episodes completed. */
  episode: number;
  /** Environment steps taken. */
  totalSteps: number;
  /** Update rounds run. */
  updateRounds: number;
  /** Exploration rate after the last step. */
  epsilon: number;
  /** Training wall time so far, seconds. */
  elapsedSeconds: number;
  /** The run's generator. */
  rng: RngState;
  /** One record per completed episode (the rows of metrics.csv). */
  history: Record<string, unknown>[];
  /** Networks, optimizers, counters. */
  learner: LearnerState;
  /** Replay buffer contents. */
  buffer: ReplayBufferState;
  /** The training environment's state (its generator, and the episode when `partial`). */
  env: unknown;
  /** When stopped inside an episode: that episode so far. */
  partial?: PartialEpisode;
}

type Typed = Float32Array | Int32Array;

interface ArrayEntry {
  name: string;
  type: "f32" | "i32";
  offset: number;
  length: number;
}

interface Manifest {
  format: number;
  files: Record<string, { size: number; sha256: string }>;
}

/** SHA-256 of the chunks one after the other, without joining them. */
function sha256Chunks(chunks: readonly Uint8Array[]): string {
  const hash = createHash("sha256");
  for (const chunk of chunks) hash.update(chunk);
  return hash.digest("hex");
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Test-only pause between the steps of a checkpoint write (MADDPG_TEST_CHECKPOINT_PAUSE_MS). */
async function testPause(): Promise<void> {
  const ms = Number(Deno.env.get("MADDPG_TEST_CHECKPOINT_PAUSE_MS") ?? 0);
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Splits a state into JSON and one binary file of the learner's typed arrays (the buffer's
 * go into block files).
 */
function serialise(
  state: TrainingState,
): { json: Iterable<string>; chunks: Uint8Array[]; size: number } {
  const arrays: [string, Typed][] = [];
  for (const [name, params] of Object.entries(state.learner.nets)) {
    arrays.push([`net/${name}`, params]);
  }
  const optimizers: Record<string, { step: number }> = {};
  for (const [name, adam] of Object.entries(state.learner.optimizers)) {
    optimizers[name] = { step: adam.step };
    arrays.push([`adam/${name}/m`, adam.m], [`adam/${name}/v`, adam.v]);
  }
  const { buffer } = state;
  const entries: ArrayEntry[] = [];
  let offset = 0;
  for (const [name, array] of arrays) {
    entries.push({
      name,
      type: array instanceof Int32Array ? "i32" : "f32",
      offset,
      length: array.length,
    });
    offset += array.length * 4;
  }
  const chunks = arrays.map(([, array]) =>
    new Uint8Array(array.buffer, array.byteOffset, array.byteLength)
  );
  const json = JSON.stringify({
    format: STATE_FORMAT,
    config: state.config,
    tfjs: state.tfjs,
    episode: state.episode,
    totalSteps: state.totalSteps,
    updateRounds: state.updateRounds,
    epsilon: state.epsilon,
    elapsedSeconds: state.elapsedSeconds,
    rng: state.rng,
    history: HISTORY_MARK,
    env: state.env,
    partial: state.partial,
    optimizers,
    counters: state.learner.counters,
    buffer: {
      length: buffer.length,
      position: buffer.position,
      agents: buffer.actions.length,
      blockRows: BUFFER_BLOCK_ROWS,
      arrays: bufferArrays(buffer).map(({ name, width }) => ({ name, width })),
    },
    arrays: entries,
  });
  return { json: jsonWithHistory(json, state.history), chunks, size: offset };
}

/** Stands for the history in the state's JSON until {@linkcode jsonWithHistory} splices it in. */
const HISTORY_MARK = "\u0000history\u0000";

/**
 * The text of `json` with the history in place of its mark, in pieces: the history (tens of MB
 * after a long run) is stringified a thousand episodes at a time, never as one string. The
 * pieces join to exactly `JSON.stringify` of the whole.
 */
function* jsonWithHistory(
  json: string,
  history: readonly Record<string, unknown>[],
): Generator<string> {
  const mark = JSON.stringify(HISTORY_MARK);
  const at = json.indexOf(mark);
  yield json.slice(0, at) + "[";
  for (let start = 0; start < history.length; start += 1000) {
    const piece = JSON.stringify(history.slice(start, start + 1000));
    yield (start > 0 ? "," : "") + piece.slice(1, -1);
  }
  yield "]" + json.slice(at + mark.length);
}

/** Where a run keeps its state. */
export function stateDir(runDir: string): string {
  return `${runDir}/checkpoint/state`;
}

/**
 * Saves `state` as `<runDir>/checkpoint/state/` so that a kill at any instant leaves the
 * previous complete state or the new one: temporary directory, fsync, renames. With `blocks`
 * (the run's record of its last save), the buffer's unchanged blocks are hard links to the
 * previous state's files, not written again.
 */
export async function saveState(
  runDir: string,
  state: TrainingState,
  blocks?: SavedBlocks,
): Promise<void> {
  const parent = `${runDir}/checkpoint`;
  const final = stateDir(runDir);
  const temp = `${final}.tmp-${Deno.pid}`;
  const old = `${final}.old-${Deno.pid}`;
  await Deno.mkdir(parent, { recursive: true });
  await Deno.remove(temp, { recursive: true }).catch(() => {});
  await Deno.mkdir(temp);
  let saved: Map<number, SavedBlock>;
  try {
    saved = await writeStateFiles(temp, state, { previous: final, blocks });
  } catch (error) {
    // A full disk, say: leave the previous state as it was, and no half-written copy.
    await Deno.remove(temp, { recursive: true }).catch(() => {});
    throw error;
  }
  await testPause();
  const hadState = await exists(final);
  if (hadState) await Deno.rename(final, old);
  await testPause();
  await Deno.rename(temp, final);
  await syncDir(parent);
  blocks?.commit(saved);
  if (hadState) await Deno.remove(old, { recursive: true });
}

async function writeStateFiles(
  temp: string,
  state: TrainingState,
  { previous, blocks }: { previous: string; blocks?: SavedBlocks },
): Promise<Map<number, SavedBlock>> {
  const { json, chunks, size } = serialise(state);
  await writeFileSynced(`${temp}/arrays.bin`, chunks);
  const files: Manifest["files"] = { "arrays.bin": { size, sha256: sha256Chunks(chunks) } };
  const saved = await writeBlocks(temp, state.buffer, { previous, blocks, files });
  await testPause();
  // state.json (tens of MB with a long run's history) is made, encoded and hashed a piece at a
  // time as it is written: never one string, nor one byte array.
  const jsonFile = { size: 0, hash: createHash("sha256") };
  await writeFileSynced(
    `${temp}/state.json`,
    (function* () {
      const encoder = new TextEncoder();
      for (const piece of json) {
        const bytes = encoder.encode(piece);
        jsonFile.size += bytes.length;
        jsonFile.hash.update(bytes);
        yield bytes;
      }
    })(),
  );
  files["state.json"] = { size: jsonFile.size, sha256: jsonFile.hash.digest("hex") };
  const manifest: Manifest = { format: STATE_FORMAT, files };
  await writeFileSynced(
    `${temp}/manifest.json`,
    new TextEncoder().encode(JSON.stringify(manifest, null, 1)),
  );
  await syncDir(temp);
  return saved;
}

/**
 * The buffer's block files in `temp`: a hard link to `previous`'s file for a block unchanged
 * since the last save (when the file system allows), else written and hashed. Adds each to
 * `files`; returns what was saved of each block.
 */
async function writeBlocks(
  temp: string,
  buffer: ReplayBufferState,
  target: { previous: string; blocks?: SavedBlocks; files: Manifest["files"] },
): Promise<Map<number, SavedBlock>> {
  const { previous, blocks, files } = target;
  const arrays = bufferArrays(buffer);
  const saved = new Map<number, SavedBlock>();
  for (let block = 0; block < blockCount(buffer.length); block++) {
    const name = blockName(block), rows = blockRows(block, buffer.length);
    let record = blocks?.unchanged(block, rows);
    if (!record || !(await linked(`${previous}/${name}`, `${temp}/${name}`))) {
      const chunks = blockChunks(arrays, { first: block * BUFFER_BLOCK_ROWS, rows });
      await writeFileSynced(`${temp}/${name}`, chunks);
      const size = chunks.reduce((total, chunk) => total + chunk.length, 0);
      record = { stamp: blocks?.stampOf(block) ?? 0, rows, size, sha256: sha256Chunks(chunks) };
    }
    saved.set(block, record);
    files[name] = { size: record.size, sha256: record.sha256 };
  }
  return saved;
}

/** Hard-links `from` as `to`; false where that fails (no such file, or no links there). */
async function linked(from: string, to: string): Promise<boolean> {
  try {
    await Deno.link(from, to);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds the newest complete state of a run: `checkpoint/state`, or a `state.old-*` left by
 * a kill between the two renames of {@linkcode saveState}. Incomplete `state.tmp-*`
 * directories are ignored. Returns undefined when the run has no state.
 */
export async function findState(runDir: string): Promise<string | undefined> {
  const final = stateDir(runDir);
  // saveState renames only complete directories into place: a `state` without its manifest
  // is damage, which loadState reports.
  if (await exists(final)) return final;
  const parent = `${runDir}/checkpoint`;
  if (!(await exists(parent))) return undefined;
  for await (const entry of Deno.readDir(parent)) {
    if (entry.isDirectory && entry.name.startsWith("state.old-")) return `${parent}/${entry.name}`;
  }
  return undefined;
}

/** Removes what a killed {@linkcode saveState} left, and restores a `state.old-*` as `state`. */
export async function tidyState(runDir: string): Promise<void> {
  const parent = `${runDir}/checkpoint`;
  if (!(await exists(parent))) return;
  const final = stateDir(runDir);
  for await (const entry of Deno.readDir(parent)) {
    const path = `${parent}/${entry.name}`;
    if (entry.name.startsWith("state.tmp-")) await Deno.remove(path, { recursive: true });
    else if (entry.name.startsWith("state.old-")) {
      if (await exists(final)) await Deno.remove(path, { recursive: true });
      else await Deno.rename(path, final);
    }
  }
}

function typed(binary: Uint8Array, entry: ArrayEntry, path: string): Typed {
  if (entry.offset + entry.length * 4 > binary.length || entry.offset % 4 !== 0) {
    throw new UsageError(`${path}: array "${entry.name}" lies outside the file`);
  }
  const bytes = binary.slice(entry.offset, entry.offset + entry.length * 4);
  return entry.type === "i32" ? new Int32Array(bytes.buffer) : new Float32Array(bytes.buffer);
}

/** Loads and checks a state directory; every problem is a {@linkcode UsageError} naming the file. */
export async function loadState(dir: string): Promise<TrainingState> {
  const manifest = await readManifest(dir);
  const files = await readCheckedFiles(dir, manifest);
  // The checksums matched, so the JSON is what saveState wrote.
  const json = JSON.parse(new TextDecoder().decode(files["state.json"]));
  const binary = files["arrays.bin"];
  const arrays = new Map<string, Typed>();
  for (const entry of json.arrays as ArrayEntry[]) {
    arrays.set(entry.name, typed(binary, entry, `${dir}/arrays.bin`));
  }
  const get = <T extends Typed>(name: string): T => {
    const array = arrays.get(name);
    if (!array) throw new UsageError(`${dir}/state.json: array "${name}" is missing`);
    return array as T;
  };
  const learner = learnerFrom(json, [...arrays.keys()], get);
  if (manifest.format === 1) return fromFormat1(json, learner, get);
  const buffered = manifest.format === 2 ? get : await readBlocks(dir, manifest, json.buffer);
  const agents: number = json.buffer.agents;
  const perAgent = (name: string) =>
    Array.from({ length: agents }, (_, i) => buffered<Float32Array>(`buffer/${name}/${i}`));
  return {
    ...pickCounters(json),
    env: json.env,
    partial: json.partial,
    learner,
    buffer: {
      length: json.buffer.length,
      position: json.buffer.position,
      observations: perAgent("observations"),
      nextObservations: perAgent("nextObservations"),
      actions: perAgent("actions"),
      rewards: buffered("buffer/rewards"),
      terminations: buffered("buffer/terminations"),
      truncations: buffered("buffer/truncations"),
    },
  };
}

/**
 * The buffer's arrays from a format-3 state's block files, each file checked against its
 * size and checksum in the manifest; returns the arrays by their format-2 names.
 */
async function readBlocks(
  dir: string,
  manifest: Manifest,
  saved: { length: number; blockRows: number; arrays: { name: string; width: number }[] },
): Promise<<T extends Typed>(name: string) => T> {
  if (saved.blockRows !== BUFFER_BLOCK_ROWS) {
    throw new UsageError(
      `${dir}/state.json: blocks of ${saved.blockRows} rows, this version uses ${BUFFER_BLOCK_ROWS}`,
    );
  }
  const arrays = saved.arrays.map(({ name, width }) => ({
    name,
    width,
    array: new Float32Array(saved.length * width),
  }));
  for (let block = 0; block < blockCount(saved.length); block++) {
    const bytes = await readCheckedFile(dir, blockName(block), manifest);
    const rows = blockRows(block, saved.length);
    const expected = arrays.reduce((total, { width }) => total + rows * width * 4, 0);
    if (bytes.length !== expected) {
      throw new UsageError(
        `${dir}/${blockName(block)} holds ${bytes.length} bytes, not ${expected}`,
      );
    }
    const values = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
    let at = 0;
    for (const { array, width } of arrays) {
      array.set(values.subarray(at, at + rows * width), block * BUFFER_BLOCK_ROWS * width);
      at += rows * width;
    }
  }
  const byName = new Map(arrays.map(({ name, array }) => [`buffer/${name}`, array]));
  return <T extends Typed>(name: string): T => {
    const array = byName.get(name);
    if (!array) throw new UsageError(`${dir}/state.json: buffer array "${name}" is missing`);
    return array as T;
  };
}

async function readStateFile(dir: string, name: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(`${dir}/${name}`);
  } catch {
    throw new UsageError(`Cannot read ${dir}/${name}: the checkpoint is incomplete`);
  }
}

/** `manifest.json`, parsed, of a format this version reads. */
async function readManifest(dir: string): Promise<Manifest> {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(new TextDecoder().decode(await readStateFile(dir, "manifest.json")));
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`${dir}/manifest.json is not valid JSON`);
  }
  if (![1, 2, STATE_FORMAT].includes(manifest.format)) {
    throw new UsageError(
      `${dir}/manifest.json: format ${manifest.format}, this version reads 1 to ${STATE_FORMAT}`,
    );
  }
  return manifest;
}

/** `state.json` and `arrays.bin`, each checked against its size and checksum in the manifest. */
async function readCheckedFiles(
  dir: string,
  manifest: Manifest,
): Promise<Record<string, Uint8Array>> {
  const files: Record<string, Uint8Array> = {};
  for (const name of ["state.json", "arrays.bin"]) {
    files[name] = await readCheckedFile(dir, name, manifest);
  }
  return files;
}

/** File `name` of a state, checked against its size and checksum in the manifest. */
async function readCheckedFile(dir: string, name: string, manifest: Manifest): Promise<Uint8Array> {
  const expected = manifest.files?.[name];
  if (!expected) throw new UsageError(`${dir}/manifest.json does not list ${name}`);
  const bytes = await readStateFile(dir, name);
  if (bytes.length !== expected.size) {
    throw new UsageError(
      `${dir}/${name} holds ${bytes.length} bytes, the manifest says ${expected.size}`,
    );
  }
  if (await sha256(bytes) !== expected.sha256) {
    throw new UsageError(`${dir}/${name} does not match its checksum in manifest.json`);
  }
  return bytes;
}

/** The learner's networks (`net/…` arrays), optimizers' moments and counters. */
function learnerFrom(
  // deno-lint-ignore no-explicit-any -- the JSON was checked against its checksum
  json: any,
  names: readonly string[],
  get: <T extends Typed>(name: string) => T,
): LearnerState {
  const nets: Record<string, Float32Array> = {};
  for (const name of names) if (name.startsWith("net/")) nets[name.slice(4)] = get(name);
  const optimizers: Record<string, AdamState> = {};
  const steps = json.optimizers as Record<string, { step: number }>;
  for (const [name, { step }] of Object.entries(steps)) {
    optimizers[name] = { step, m: get(`adam/${name}/m`), v: get(`adam/${name}/v`) };
  }
  return { nets, optimizers, counters: json.counters };
}

type StateCounters = Pick<
  TrainingState,
  | "config"
  | "tfjs"
  | "episode"
  | "totalSteps"
  | "updateRounds"
  | "epsilon"
  | "elapsedSeconds"
  | "rng"
  | "history"
>;

// deno-lint-ignore no-explicit-any -- the JSON was checked against its checksum
function pickCounters(json: any): StateCounters {
  const { config, tfjs, episode, totalSteps, updateRounds, epsilon, elapsedSeconds, rng } = json;
  return {
    config,
    tfjs,
    episode,
    totalSteps,
    updateRounds,
    epsilon,
    elapsedSeconds,
    rng,
    history: json.history,
  };
}

/**
 * A format-1 state (the grid world's two agents, joint replay arrays, `dones`) in today's
 * layout: per-agent arrays, terminations from `dones`, no truncations.
 */
function fromFormat1(
  // deno-lint-ignore no-explicit-any -- the JSON was checked against its checksum
  json: any,
  learner: LearnerState,
  get: <T extends Float32Array | Int32Array>(name: string) => T,
): TrainingState {
  const agents = 2, observationSize = 6, rows: number = json.buffer.length;
  const split = (joint: Float32Array) =>
    Array.from({ length: agents }, (_, i) => {
      const out = new Float32Array(rows * observationSize);
      for (let b = 0; b < rows; b++) {
        const start = (b * agents + i) * observationSize;
        out.set(joint.subarray(start, start + observationSize), b * observationSize);
      }
      return out;
    });
  const jointActions = get<Int32Array>("buffer/actions");
  const dones = get<Float32Array>("buffer/dones");
  const terminations = new Float32Array(rows * agents);
  for (let b = 0; b < rows; b++) terminations.fill(dones[b], b * agents, (b + 1) * agents);
  const gridSize: number = json.config?.gridSize ?? 5;
  const start: [number, number][] = [[0, 0], [gridSize - 1, gridSize - 1]];
  const old = json.partial;
  return {
    ...pickCounters(json),
    env: { positions: old?.positions ?? start, steps: old?.steps ?? 0 },
    partial: old && {
      observations: gridObservations(old.positions, gridSize),
      returns: [old.reward, old.reward],
      steps: old.steps,
      losses: {
        critic: old.criticSums,
        actor: old.actorSums,
        criticRounds: old.criticSums.map(() => old.updates),
        actorRounds: old.actorSums.map(() => old.updates),
      },
    },
    learner,
    buffer: {
      length: rows,
      position: json.buffer.position,
      observations: split(get("buffer/observations")),
      nextObservations: split(get("buffer/nextObservations")),
      actions: Array.from(
        { length: agents },
        (_, i) => Float32Array.from({ length: rows }, (_, b) => jointActions[b * agents + i]),
      ),
      rewards: get("buffer/rewards"),
      terminations,
      truncations: new Float32Array(rows * agents),
    },
  };
}

/** The grid world's observations of two agents on `positions` (format-1 partial episodes). */
function gridObservations(positions: [number, number][], size: number): number[][] {
  const scale = size - 1;
  const goals = [[size - 1, 0], [0, size - 1]];
  return positions.map((own, i) => {
    const other = positions[1 - i];
    return [own[0], own[1], other[0], other[1], goals[i][0], goals[i][1]].map((v) =>
      Math.fround(v / scale)
    );
  });
}
