/**
 * Draws a {@linkcode Scene} as a standalone SVG string. Pure string code: it runs in Deno
 * and in a browser alike (no Deno APIs, no node modules).
 *
 * The look follows MPE2's pygame renderer: fills are the scene colour × 200 (so MPE's
 * colours come out a little darker, as they do there) with a 1 px outline, on white.
 *
 * @module
 */
import type { CircleShape, RectShape, Rgb, Scene, Shape } from "../env/scene.ts";

/** MPE2 draws `colour * 200` (of 255): the default {@linkcode SvgOptions.shade}. */
export const MPE_SHADE = 200 / 255;

/** Default picture size in pixels (MPE2's window is 700 × 700; this keeps GIFs small). */
export const DEFAULT_SIZE = 400;

/** How {@linkcode sceneToSvg} draws. */
export interface SvgOptions {
  /** Width in pixels. @default 400 */
  width?: number;
  /** Height in pixels. @default 400 */
  height?: number;
  /** A line of text above the messages (e.g. `"episode 3, step 12"`). */
  title?: string;
  /**
   * Fill colours are drawn as `colour × shade × 255`; outlines are drawn as given.
   * Pass 1 for the colours exactly as the scene gives them.
   * @default MPE_SHADE (MPE2's look)
   */
  shade?: number;
  /** Font size of the title and messages, pixels. @default 13 */
  fontSize?: number;
}

/**
 * Escapes text for XML content and attribute values; characters XML 1.0 cannot hold at all
 * (most control characters, lone surrogates) become U+FFFD.
 */
export function escapeXml(text: string): string {
  let out = "";
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (char === "&") out += "&amp;";
    else if (char === "<") out += "&lt;";
    else if (char === ">") out += "&gt;";
    else if (char === '"') out += "&quot;";
    else if (char === "'") out += "&apos;";
    else if (
      (code < 0x20 && code !== 0x9 && code !== 0xa && code !== 0xd) ||
      (code >= 0xd800 && code <= 0xdfff) || code === 0xfffe || code === 0xffff
    ) out += "\ufffd";
    else out += char;
  }
  return out;
}

/** A number for an attribute: at most 2 decimals, no `-0`. */
function num(value: number): string {
  const rounded = Math.round(value * 100) / 100;
  return String(rounded === 0 ? 0 : rounded);
}

function channel(value: number, scale: number): number {
  return Math.round(Math.min(1, Math.max(0, value)) * scale * 255);
}

function rgb(color: Rgb, scale: number): string {
  return `rgb(${channel(color[0], scale)},${channel(color[1], scale)},${channel(color[2], scale)})`;
}

function checkFinite(
  shape: Shape,
  index: number,
  values: Record<string, number>,
): void {
  for (const [name, value] of Object.entries(values)) {
    if (!Number.isFinite(value)) {
      throw new RangeError(
        `scene shape ${index} (${shape.kind}): ${name} is ${value}`,
      );
    }
  }
}

function positiveSize(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(
      `${name} must be a positive number of pixels, got ${value}`,
    );
  }
  return value;
}

/** Paint shared by circles and rects: fill, opacity, outline. */
function paint(shape: Shape, shade: number): string {
  let attrs = ` fill="${rgb(shape.color, shade)}"`;
  const opacity = shape.opacity ?? 1;
  if (opacity < 1) attrs += ` fill-opacity="${num(Math.max(0, opacity))}"`;
  if (shape.stroke !== undefined) {
    attrs += ` stroke="${rgb(shape.stroke, 1)}" stroke-width="1"`;
  }
  return attrs;
}

/**
 * Draws a scene as SVG: the world rectangle `scene.view` fills the picture (same scale on
 * both axes, centred; y up in the world, down in the picture), shapes in order, a
 * circle's `label` centred on it, then the title and `messages` as lines of text at the
 * top left. The background is one white `<rect>` before the scene's shapes.
 *
 * Throws a `RangeError` for an empty or non-finite view, a non-positive size or a shape
 * with a non-finite coordinate.
 *
 * @example One `<circle>` per circle shape; one `<text>` per label, title and message
 * ```ts
 * import assert from "node:assert/strict";
 * import { sceneToSvg } from "./svg.ts";
 *
 * const svg = sceneToSvg({
 *   view: [-1, -1, 1, 1],
 *   shapes: [
 *     { kind: "circle", x: 0, y: 0, radius: 0.15, color: [0.35, 0.35, 0.85], stroke: [0, 0, 0] },
 *     { kind: "circle", x: 0.5, y: 0.5, radius: 0.05, color: [0.25, 0.25, 0.25], label: "0" },
 *   ],
 *   messages: ["alice_0 sends B"],
 * }, { width: 200, height: 200 });
 * assert.equal(svg.split("<circle").length - 1, 2);
 * assert.equal(svg.split("<text").length - 1, 2);
 * // (0.5, 0.5) is up and right of the centre: x grows, y shrinks in pixels.
 * assert.ok(svg.includes('cx="150" cy="50"'));
 * ```
 */
export function sceneToSvg(scene: Scene, options: SvgOptions = {}): string {
  const width = positiveSize("width", options.width ?? DEFAULT_SIZE);
  const height = positiveSize("height", options.height ?? DEFAULT_SIZE);
  const shade = options.shade ?? MPE_SHADE;
  const fontSize = positiveSize("fontSize", options.fontSize ?? 13);
  const place = worldToPixels(scene.view, width, height);
  const lines: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${num(width)}" height="${
      num(height)
    }" viewBox="0 0 ${num(width)} ${num(height)}" font-family="DejaVu Sans, sans-serif">`,
    `<rect x="0" y="0" width="${num(width)}" height="${num(height)}" fill="white"/>`,
  ];
  scene.shapes.forEach((shape, index) => {
    lines.push(
      ...(shape.kind === "circle"
        ? circleSvg(shape, index, place, shade)
        : rectSvg(shape, index, place, shade)),
    );
  });
  const text = options.title === undefined ? [] : [options.title];
  text.push(...scene.messages);
  text.forEach((line, index) => {
    const bold = index === 0 && options.title !== undefined ? ' font-weight="bold"' : "";
    // A white halo keeps the text legible over shapes.
    lines.push(
      `<text x="6" y="${num(6 + fontSize * (1.25 * index + 1))}" font-size="${
        num(fontSize)
      }"${bold} fill="black" stroke="white" stroke-width="3" paint-order="stroke">${
        escapeXml(line)
      }</text>`,
    );
  });
  lines.push("</svg>");
  return lines.join("\n") + "\n";
}

/** Where world points land in the picture, and how many pixels a world unit spans. */
interface Placement {
  px(x: number): number;
  py(y: number): number;
  scale: number;
}

/** The placement that fits `view` in `width` × `height` pixels, centred, y flipped. */
function worldToPixels(
  view: Scene["view"],
  width: number,
  height: number,
): Placement {
  const [xMin, yMin, xMax, yMax] = view;
  if (
    ![xMin, yMin, xMax, yMax].every(Number.isFinite) || !(xMax > xMin) ||
    !(yMax > yMin)
  ) {
    throw new RangeError(
      `scene view must be [xMin, yMin, xMax, yMax] with max > min, got [${view.join(", ")}]`,
    );
  }
  const scale = Math.min(width / (xMax - xMin), height / (yMax - yMin));
  const offsetX = (width - (xMax - xMin) * scale) / 2;
  const offsetY = (height - (yMax - yMin) * scale) / 2;
  return {
    px: (x) => offsetX + (x - xMin) * scale,
    py: (y) => offsetY + (yMax - y) * scale,
    scale,
  };
}

/** A circle, and its label centred on it. */
function circleSvg(
  shape: CircleShape,
  index: number,
  place: Placement,
  shade: number,
): string[] {
  checkFinite(shape, index, { x: shape.x, y: shape.y, radius: shape.radius });
  const cx = place.px(shape.x);
  const cy = place.py(shape.y);
  const r = Math.max(0, shape.radius * place.scale);
  const circle = `<circle cx="${num(cx)}" cy="${num(cy)}" r="${num(r)}"${paint(shape, shade)}/>`;
  if (shape.label === undefined || shape.label === "") return [circle];
  // Black on light fills, white on dark ones (relative luminance of the drawn fill).
  const [red, green, blue] = shape.color.map((c) => Math.min(1, Math.max(0, c)) * shade);
  const light = 0.2126 * red + 0.7152 * green + 0.0722 * blue > 0.45;
  const size = Math.min(16, Math.max(8, r));
  return [
    circle,
    `<text x="${num(cx)}" y="${num(cy)}" dy="0.35em" text-anchor="middle" font-size="${
      num(size)
    }" fill="${light ? "black" : "white"}">${escapeXml(shape.label)}</text>`,
  ];
}

/** A rectangle; `(x, y)` is its bottom-left corner in the world. */
function rectSvg(
  shape: RectShape,
  index: number,
  place: Placement,
  shade: number,
): string[] {
  checkFinite(shape, index, {
    x: shape.x,
    y: shape.y,
    width: shape.width,
    height: shape.height,
  });
  return [
    `<rect x="${num(place.px(shape.x))}" y="${num(place.py(shape.y + shape.height))}" width="${
      num(Math.max(0, shape.width * place.scale))
    }" height="${num(Math.max(0, shape.height * place.scale))}"${paint(shape, shade)}/>`,
  ];
}
