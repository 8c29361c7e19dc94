/**
 * The page's views as location hashes (see `web/CONTRACT.md`): `#runs`, `#charts/<run path>`,
 * `#compare/<path>,<path>`, `#replay/<run path>`, `#train`.
 *
 * @module
 */

/** One view and what it shows. */
export type Route =
  | { view: "runs" }
  | { view: "charts"; path: string }
  | { view: "compare"; paths: string[] }
  | { view: "replay"; path: string }
  | { view: "train" };

/**
 * The route of a location hash; anything unknown is the runs view.
 *
 * @example
 * ```ts
 * import { parseRoute } from "./route.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseRoute("#charts/exp/seed_1"), { view: "charts", path: "exp/seed_1" });
 * assert.deepEqual(parseRoute("#compare/a,b"), { view: "compare", paths: ["a", "b"] });
 * assert.deepEqual(parseRoute(""), { view: "runs" });
 * ```
 */
export function parseRoute(hash: string): Route {
  const text = hash.replace(/^#/, "");
  const slash = text.indexOf("/");
  const view = slash < 0 ? text : text.slice(0, slash);
  const rest = slash < 0 ? "" : text.slice(slash + 1);
  try {
    switch (view) {
      case "charts":
      case "replay":
        return rest ? { view, path: decodeURIComponent(rest) } : { view: "runs" };
      case "compare": {
        // Split before decoding: a comma inside a run's name is encoded (%2C).
        const paths = rest.split(",").filter((p) => p !== "").map(decodeURIComponent);
        return paths.length > 0 ? { view, paths } : { view: "runs" };
      }
      case "train":
        return { view };
      default:
        return { view: "runs" };
    }
  } catch {
    return { view: "runs" }; // a malformed escape (%zz)
  }
}

/**
 * A run path for a URL: each segment encoded (`#`, `?`, `,`, spaces…), the slashes kept.
 *
 * @example
 * ```ts
 * import { encodePath } from "./route.ts";
 * import assert from "node:assert/strict";
 * assert.equal(encodePath("exp/run #1,a?"), "exp/run%20%231%2Ca%3F");
 * ```
 */
export function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

/**
 * The hash of a route (run paths keep their slashes).
 *
 * @example
 * ```ts
 * import { parseRoute, routeHash } from "./route.ts";
 * import assert from "node:assert/strict";
 * const route = { view: "compare" as const, paths: ["a,b", "exp/run #1"] };
 * assert.equal(routeHash(route), "#compare/a%2Cb,exp/run%20%231");
 * assert.deepEqual(parseRoute(routeHash(route)), route);
 * ```
 */
export function routeHash(route: Route): string {
  switch (route.view) {
    case "charts":
    case "replay":
      return `#${route.view}/${encodePath(route.path)}`;
    case "compare":
      return `#compare/${route.paths.map(encodePath).join(",")}`;
    default:
      return `#${route.view}`;
  }
}
