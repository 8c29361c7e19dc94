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
  const rest = slash < 0 ? "" : decodeURIComponent(text.slice(slash + 1));
  switch (view) {
    case "charts":
    case "replay":
      return rest ? { view, path: rest } : { view: "runs" };
    case "compare": {
      const paths = rest.split(",").filter((p) => p !== "");
      return paths.length > 0 ? { view, paths } : { view: "runs" };
    }
    case "train":
      return { view };
    default:
      return { view: "runs" };
  }
}

/** The hash of a route (run paths keep their slashes). */
export function routeHash(route: Route): string {
  switch (route.view) {
    case "charts":
    case "replay":
      return `#${route.view}/${encodeURI(route.path)}`;
    case "compare":
      return `#compare/${route.paths.map(encodeURI).join(",")}`;
    default:
      return `#${route.view}`;
  }
}
