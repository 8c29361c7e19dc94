/**
 * Episode animations: scenes → SVG (`svg.ts`) → RGBA pixels (`@resvg/resvg-js`) → an
 * animated GIF (`gifenc`) or APNG (written here, deflated with `node:zlib`), looping
 * forever.
 *
 * @module
 */
import { deflateSync } from "node:zlib";
import gifencModule from "gifenc";
import { Resvg } from "@resvg/resvg-js";
import type { Scene } from "../env/scene.ts";
import { writeFileAtomic } from "../files.ts";
import { svgToPng } from "../plot/render.ts";
import { DEFAULT_SIZE, sceneToSvg } from "./svg.ts";
import type { SvgOptions } from "./svg.ts";

/** The part of gifenc 1.0.3 used here (the package ships no types). */
interface Gifenc {
  quantize(rgba: Uint8Array, maxColors: number): number[][];
  applyPalette(rgba: Uint8Array, palette: number[][]): Uint8Array;
  GIFEncoder(): {
    writeFrame(
      index: Uint8Array,
      width: number,
      height: number,
      options: { palette?: number[][]; delay?: number; repeat?: number },
    ): void;
    finish(): void;
    bytes(): Uint8Array;
  };
}
// gifenc's entry point is CommonJS; its default import is the exports object.
const gifenc = gifencModule as Gifenc;

/** ~6 frames a second: a 25-step MPE episode plays in about 4 s. GIF delays are in 1/100 s. */
export const DEFAULT_DELAY_MS = 160;

/** Animation file formats. */
export type AnimationFormat = "gif" | "apng";

/** How {@linkcode encodeAnimation} encodes frames. */
export interface AnimationOptions {
  /** Frame width in pixels. */
  width: number;
  /** Frame height in pixels. */
  height: number;
  /** Time each frame is shown, ms (GIF rounds it to 1/100 s). */
  delayMs: number;
  /** `"gif"`: 256 colours, small; `"apng"`: exact RGBA colours, larger. @default "gif" */
  format?: AnimationFormat;
}

function checkSize(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new RangeError(`${name} must be an integer in [1, 65535], got ${value}`);
  }
}

/**
 * Encodes RGBA frames (`width * height * 4` bytes each, row-major, top row first) as an
 * animation that loops forever. GIF ignores alpha (composite onto a background first, as
 * {@linkcode renderFrames} does); it uses one 256-colour palette for all frames, so colours
 * do not flicker from frame to frame.
 *
 * Throws a `RangeError` for no frames, a frame of the wrong length, a size or delay out of
 * range, or an unknown format.
 */
export function encodeAnimation(frames: Uint8Array[], options: AnimationOptions): Uint8Array {
  const { width, height, delayMs } = options;
  const format = options.format ?? "gif";
  checkSize("width", width);
  checkSize("height", height);
  if (frames.length === 0) throw new RangeError("an animation needs at least one frame");
  const length = width * height * 4;
  frames.forEach((frame, index) => {
    if (frame.length !== length) {
      throw new RangeError(
        `frame ${index} has ${frame.length} bytes; ${width}x${height} RGBA needs ${length}`,
      );
    }
  });
  if (!Number.isFinite(delayMs) || delayMs < 0 || delayMs > 65535) {
    throw new RangeError(`delayMs must be in [0, 65535], got ${delayMs}`);
  }
  if (format === "gif") return encodeGif(frames, { width, height, delayMs });
  if (format === "apng") return encodeApng(frames, { width, height, delayMs });
  throw new RangeError(`unknown animation format ${JSON.stringify(format)}; use gif or apng`);
}

function encodeGif(
  frames: Uint8Array[],
  { width, height, delayMs }: { width: number; height: number; delayMs: number },
): Uint8Array {
  const all = new Uint8Array(frames.length * frames[0].length);
  frames.forEach((frame, index) => all.set(frame, index * frame.length));
  const palette = gifenc.quantize(all, 256);
  const gif = gifenc.GIFEncoder();
  frames.forEach((frame, index) => {
    const indexed = gifenc.applyPalette(frame, palette);
    // The first frame's palette becomes the global one; `repeat: 0` loops forever.
    gif.writeFrame(indexed, width, height, {
      delay: delayMs,
      repeat: 0,
      ...(index === 0 ? { palette } : {}),
    });
  });
  gif.finish();
  return gif.bytes();
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** A PNG chunk: length, type, data, CRC over type and data. */
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

function bytesOf(size: number, fill: (view: DataView) => void): Uint8Array {
  const out = new Uint8Array(size);
  fill(new DataView(out.buffer));
  return out;
}

/** APNG (RGBA, 8 bits a channel): every frame full size, replacing the previous one. */
function encodeApng(
  frames: Uint8Array[],
  { width, height, delayMs }: { width: number; height: number; delayMs: number },
): Uint8Array {
  const parts: Uint8Array[] = [new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])];
  parts.push(chunk(
    "IHDR",
    bytesOf(13, (v) => {
      v.setUint32(0, width);
      v.setUint32(4, height);
      v.setUint8(8, 8); // bit depth
      v.setUint8(9, 6); // colour type: RGBA
    }),
  ));
  parts.push(chunk(
    "acTL",
    bytesOf(8, (v) => {
      v.setUint32(0, frames.length);
      v.setUint32(4, 0); // plays: 0 = forever
    }),
  ));
  const stride = width * 4;
  let sequence = 0;
  frames.forEach((frame, index) => {
    parts.push(chunk(
      "fcTL",
      bytesOf(26, (v) => {
        v.setUint32(0, sequence++);
        v.setUint32(4, width);
        v.setUint32(8, height);
        // x and y offsets 0; delay delayMs / 1000 s; dispose none, blend source.
        v.setUint16(20, Math.round(delayMs));
        v.setUint16(22, 1000);
      }),
    ));
    // Each scanline: filter type 2 ("Up": minus the row above), which compresses flat pictures.
    const raw = new Uint8Array(height * (stride + 1));
    for (let y = 0; y < height; y++) {
      const row = y * (stride + 1);
      raw[row] = 2;
      for (let x = 0; x < stride; x++) {
        const above = y === 0 ? 0 : frame[(y - 1) * stride + x];
        raw[row + 1 + x] = (frame[y * stride + x] - above) & 0xff;
      }
    }
    const data = new Uint8Array(deflateSync(raw));
    if (index === 0) {
      parts.push(chunk("IDAT", data));
    } else {
      const fdat = new Uint8Array(4 + data.length);
      new DataView(fdat.buffer).setUint32(0, sequence++);
      fdat.set(data, 4);
      parts.push(chunk("fdAT", fdat));
    }
  });
  parts.push(chunk("IEND", new Uint8Array(0)));
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** How scenes become frames: {@linkcode SvgOptions} (size, title, shade). */
export type FrameOptions = SvgOptions;

/**
 * Rasterizes one scene to RGBA pixels (`width * height * 4` bytes, on white), at the size
 * given in `options` (400 × 400 by default). Text uses system fonts (DejaVu Sans), and is
 * left out where none are found.
 */
export function sceneToRgba(scene: Scene, options: FrameOptions = {}): Uint8Array {
  const width = Math.round(options.width ?? DEFAULT_SIZE);
  const height = Math.round(options.height ?? DEFAULT_SIZE);
  checkSize("width", width);
  checkSize("height", height);
  const svg = sceneToSvg(scene, { ...options, width, height });
  const image = new Resvg(svg, {
    fitTo: { mode: "width", value: width },
    font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" },
    background: "white",
  }).render();
  if (image.width !== width || image.height !== height) {
    throw new Error(`resvg drew ${image.width}x${image.height}, expected ${width}x${height}`);
  }
  return new Uint8Array(image.pixels);
}

/** Rasterizes scenes to RGBA frames for {@linkcode encodeAnimation}. */
export function renderFrames(scenes: readonly Scene[], options: FrameOptions = {}): Uint8Array[] {
  return scenes.map((scene) => sceneToRgba(scene, options));
}

/** One scene as PNG bytes, at its pixel size (a still of an episode). */
export function scenePng(scene: Scene, options: FrameOptions = {}): Uint8Array {
  return svgToPng(sceneToSvg(scene, options), 1);
}

/** Options of {@linkcode writeAnimation}. */
export interface WriteAnimationOptions extends FrameOptions {
  /** @default DEFAULT_DELAY_MS (160 ms, ~6 fps) */
  delayMs?: number;
  /** @default from the file name: `.png` or `.apng` → `"apng"`, else `"gif"` */
  format?: AnimationFormat;
}

/**
 * Renders scenes (one per step of an episode, say) and writes them as an animation that
 * loops forever, atomically: a reader sees no file or the whole one.
 */
export async function writeAnimation(
  path: string,
  scenes: readonly Scene[],
  options: WriteAnimationOptions = {},
): Promise<void> {
  const width = Math.round(options.width ?? DEFAULT_SIZE);
  const height = Math.round(options.height ?? DEFAULT_SIZE);
  const format = options.format ?? (/\.a?png$/i.test(path) ? "apng" : "gif");
  const frames = renderFrames(scenes, { ...options, width, height });
  const bytes = encodeAnimation(frames, {
    width,
    height,
    delayMs: options.delayMs ?? DEFAULT_DELAY_MS,
    format,
  });
  await writeFileAtomic(path, bytes);
}
