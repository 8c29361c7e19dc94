/**
 * Registers every built-in environment: the grid world and the nine particle worlds. Import
 * it for its side effect before calling `makeEnv`.
 *
 * @example
 * ```ts
 * import "./builtin.ts";
 * import { envIds } from "./registry.ts";
 * import assert from "node:assert/strict";
 * assert.equal(envIds()[0], "grid_world");
 * assert.ok(envIds().includes("simple_spread_v3"));
 * ```
 *
 * @module
 */
import "./grid_world_env.ts";
import "./mpe/mod.ts";
