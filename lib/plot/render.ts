/**
 * Compiling Vega-Lite specs (warnings are errors) and rendering them headless to SVG with
 * `vega`, then to PNG with `@resvg/resvg-js`.
 *
 * @module
 */
import * as vega from "vega";
import * as vl from "vega-lite";
import { Resvg } from "@resvg/resvg-js";
import type { Spec } from "./specs.ts";

/** Compiles a Vega-Lite spec to Vega; throws on any warning or error of the compiler. */
export function compileSpec(spec: Spec): vega.Spec {
  const problems: string[] = [];
  const record = (...args: unknown[]) => problems.push(args.map(String).join(" "));
  const logger = {
    level(_?: number) {
      return this;
    },
    warn(...args: unknown[]) {
      record(...args);
      return this;
    },
    error(...args: unknown[]) {
      record(...args);
      return this;
    },
    info() {
      return this;
    },
    debug() {
      return this;
    },
  };
  // vega-lite's logger type is a class from vega-util; this object has its methods.
  const compiled = vl.compile(spec as unknown as vl.TopLevelSpec, {
    logger: logger as unknown as NonNullable<Parameters<typeof vl.compile>[1]>["logger"],
  });
  if (problems.length > 0) throw new Error(`Vega-Lite: ${problems[0]}`);
  return compiled.spec;
}

/** Renders a Vega-Lite spec to SVG text, headless. */
export async function renderSvg(spec: Spec): Promise<string> {
  const view = new vega.View(vega.parse(compileSpec(spec)), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Rasterizes SVG text to PNG bytes (system fonts; text is left out where none are found). */
export function svgToPng(svg: string, scale = 2): Uint8Array {
  const resvg = new Resvg(svg, {
    fitTo: { mode: "zoom", value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" },
    background: "white",
  });
  return new Uint8Array(resvg.render().asPng());
}
