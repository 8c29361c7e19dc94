/**
 * The PyTorch fixture the import and round-robin tests share: what maddpg-zoo-torch's
 * `MADDPG.save` writes for simple_tag_v3 with hidden layers of 8
 * (`tests/fixtures/torch/make_state_dict_fixture.py`), the config it is imported with, and a
 * way to make another team from it.
 */
import { saveMlp } from "../lib/checkpoint.ts";
import { DEFAULT_TRAIN_CONFIG } from "../lib/config_fields.ts";
import type { TrainConfig } from "../lib/config.ts";
import { loadRun } from "../scripts/evaluate.ts";
import { importTorch } from "../scripts/import_torch.ts";
import { ROOT } from "./_run.ts";

/** The fixture's `torch.save` file. */
export const FIXTURE = `${ROOT}tests/fixtures/torch/actors_tag.pt`;

/** The config the fixture's actors are imported with. */
export const TAG: TrainConfig = {
  ...DEFAULT_TRAIN_CONFIG,
  algo: "maddpg",
  env: "simple_tag_v3",
  envOptions: { continuous_actions: "true" },
  actorHidden: [8, 8],
  criticHidden: [8, 8],
  actorOutput: "tanh",
  seed: 7,
};

/** Imports the fixture into `dir`, with agent `negated`'s weights negated if given. */
export async function fixtureRun(dir: string, negated?: number): Promise<void> {
  await importTorch({ from: FIXTURE, config: TAG, out: dir });
  if (negated === undefined) return;
  const actor = (await loadRun(dir)).actors[negated].clone();
  actor.params.forEach((v, k) => (actor.params[k] = -v));
  actor.touch();
  await saveMlp(actor, `${dir}/checkpoint/agent_${negated}/actor`);
}
