// deno-lint-ignore-file no-console
/**
 * `deno task import-torch --from model.pt --config configs/mpe/<preset>.json --out DIR`:
 * brings the actors of a PyTorch checkpoint into a run directory that `evaluate`, `render`
 * and `evaluate --adversaries-from` read like one written by `train`, so a PyTorch MADDPG's
 * agents can play against this project's (see `scripts/crossplay.ts`).
 *
 * @module
 */
import { initBackend } from "../lib/backend.ts";
import { integerFlag, parseFlags } from "../lib/cli.ts";
import { saveMlp } from "../lib/checkpoint.ts";
import { configFromRecord, readJson, validateConfig } from "../lib/config.ts";
import type { TrainConfig } from "../lib/config.ts";
import { runMain, UsageError } from "../lib/errors.ts";
import { checkOutputPath, isNonEmptyDir, writeFileAtomic } from "../lib/files.ts";
import { layerActivations } from "../lib/nn/activation.ts";
import type { Mlp } from "../lib/nn/mlp.ts";
import { mlpFromStateDict, readTorchCheckpoint, stateDictAt } from "../lib/nn/torch_state_dict.ts";
import { agentShapes, makeTrainingEnv } from "../lib/train/run.ts";

const HELP = `Usage: deno task import-torch --from FILE.pt --config FILE.json --out DIR [flags]

Reads the actors of a PyTorch checkpoint (a torch.save dict of state dicts, as
legalaspro/maddpg-zoo-torch's MADDPG.save writes) and writes them as a run directory
(config.json, checkpoint/agent_<i>/actor/) that evaluate, render and
evaluate --adversaries-from read like a run of train.

  --from FILE        the .pt file (required)
  --config FILE      the config the actors were trained with: environment, its options,
                     hidden layers, actor output (required), e.g.
                     configs/mpe/simple_tag_continuous_peer.json
  --out DIR          run directory to write (required; refused if it holds files)
  --actor-key KEY    key of agent i's actor state dict, {i} standing for i [agent_{i}_actor]
  --seed N           seed recorded in config.json, evaluate's default seed [the config's]
  --help             this text`;

/** What `import-torch` does: where from, with which config, into which directory. */
export interface ImportOptions {
  /** The `.pt` file. */
  from: string;
  /** The config the actors belong to (already validated). */
  config: TrainConfig;
  /** Run directory to write. */
  out: string;
  /** Key of agent i's actor state dict, `{i}` standing for i. @default "agent_{i}_actor" */
  actorKey?: string;
}

/** Agent i's actor from `root`, checked against agent i's sizes in `config`'s environment. */
export function importedActors(
  root: unknown,
  config: TrainConfig,
  from: string,
  key: string,
): Mlp[] {
  const env = makeTrainingEnv(config);
  return agentShapes(env).map((agent, i) => {
    const name = key.replaceAll("{i}", String(i));
    const output = agent.actionKind === "continuous" ? config.actorOutput : "linear";
    const activations = layerActivations(config.actorHidden.length + 1, { output });
    const net = mlpFromStateDict(stateDictAt(root, name, from), activations, `${from} "${name}"`);
    const expected = [agent.observationSize, ...config.actorHidden, agent.actionSize];
    if (net.sizes.join() !== expected.join()) {
      throw new UsageError(
        `${from} "${name}" has layers [${net.sizes}], but ${
          env.agents[i]
        } of ${env.id} with --actor-hidden ${config.actorHidden} needs [${expected}]`,
      );
    }
    return net;
  });
}

/** Writes the run directory; returns the number of actors written. */
export async function importTorch(options: ImportOptions): Promise<number> {
  const { from, config, out } = options;
  const actorKey = options.actorKey ?? "agent_{i}_actor";
  await checkOutputPath("--out", out, "dir");
  if (await isNonEmptyDir(out)) {
    throw new UsageError(`${out} already holds files; choose another --out`);
  }
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(from);
  } catch (error) {
    throw new UsageError(`Cannot read ${from}: ${(error as Error).message.split(":")[0]}`);
  }
  const actors = importedActors(readTorchCheckpoint(bytes, from), config, from, actorKey);
  await initBackend("cpu"); // saveMlp goes through tf.LayersModel.save; nothing is computed
  for (const [i, actor] of actors.entries()) {
    await saveMlp(actor, `${out}/checkpoint/agent_${i}/actor`, `actor_${i}`);
  }
  const record = { config, importedFrom: { file: from, actorKey } };
  await writeFileAtomic(`${out}/config.json`, JSON.stringify(record, null, 2) + "\n");
  return actors.length;
}

/** Parses flags, imports, prints one line. */
export async function main(args: string[] = Deno.args): Promise<void> {
  const { values } = parseFlags(args, {
    from: { type: "string" },
    config: { type: "string" },
    out: { type: "string" },
    "actor-key": { type: "string" },
    seed: { type: "string" },
    help: { type: "boolean" },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  for (const flag of ["from", "config", "out"]) {
    if (values[flag] === undefined) throw new UsageError(`--${flag} is required (see --help)`);
  }
  const configPath = values.config as string;
  let config = configFromRecord(await readJson(configPath, ""), configPath);
  if (values.seed !== undefined) {
    config = validateConfig({ ...config, seed: integerFlag("--seed", values.seed, true) });
  }
  const from = values.from as string, out = values.out as string;
  const actorKey = values["actor-key"] as string | undefined;
  const count = await importTorch({ from, config, out, actorKey });
  console.log(`Imported ${count} actors of ${from} (${config.env}) into ${out}`);
}

if (import.meta.main) await runMain(() => main());
