/**
 * The names `--algo` accepts, in a leaf module so that the config can list them without
 * importing the algorithms (which import the config's types).
 *
 * @module
 */

/** Every algorithm's name; `lib/agent/catalogue.ts` maps each to its module. */
export const ALGORITHM_NAMES = ["notebook", "maddpg", "matd3", "iddpg"] as const;
