/**
 * The particle worlds of the MADDPG paper as maintained in Farama's MPE2, ported bit for bit:
 * importing this module registers the nine classic scenarios (`simple_v3`,
 * `simple_spread_v3`, `simple_adversary_v3`, `simple_tag_v3`, `simple_push_v3`,
 * `simple_speaker_listener_v4`, `simple_reference_v3`, `simple_crypto_v3`,
 * `simple_world_comm_v3`) with `makeEnv`.
 *
 * @module
 */
export * from "./core.ts";
export * from "./scenario.ts";
export * from "./simple_env.ts";
export * from "./options.ts";
export { NumpyGenerator } from "./numpy_random.ts";
export { SimpleScenario } from "./simple.ts";
export { SpreadScenario } from "./simple_spread.ts";
export { AdversaryScenario } from "./simple_adversary.ts";
export { TagScenario } from "./simple_tag.ts";
export { PushScenario } from "./simple_push.ts";
export { SpeakerListenerScenario } from "./simple_speaker_listener.ts";
export { ReferenceScenario } from "./simple_reference.ts";
export { CryptoScenario } from "./simple_crypto.ts";
export { WorldCommScenario } from "./simple_world_comm.ts";
