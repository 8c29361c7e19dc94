import assert from "node:assert/strict";
import { inflateSync } from "node:zlib";
import { Resvg } from "@resvg/resvg-js";
import type { Scene } from "../lib/env/scene.ts";
import { escapeXml, MPE_SHADE, sceneToSvg } from "../lib/render/svg.ts";
import {
  DEFAULT_DELAY_MS,
  encodeAnimation,
  renderFrames,
  scenePng,
  sceneToRgba,
  writeAnimation,
} from "../lib/render/animation.ts";
import { parseGif } from "./_gif.ts";

/** An MPE-like scene: 3 agents and 2 landmarks in [-1, 1]², one message. */
function mpeScene(step = 0): Scene {
  const agent = (x: number, y: number, label: string) => ({
    kind: "circle" as const,
    x,
    y,
    radius: 0.15,
    color: [0.35, 0.35, 0.85] as const,
    stroke: [0, 0, 0] as const,
    label,
  });
  return {
    view: [-1, -1, 1, 1],
    shapes: [
      { kind: "circle", x: -0.5, y: 0.5, radius: 0.05, color: [0.25, 0.25, 0.25] },
      { kind: "circle", x: 0.5, y: -0.5, radius: 0.05, color: [0.25, 0.25, 0.25] },
      agent(-0.6 + 0.1 * step, 0, "0"),
      agent(0, 0.6 - 0.1 * step, "1"),
      agent(0.6, -0.6 + 0.05 * step, "2"),
    ],
    messages: [`alice_0 sends B (step ${step})`],
  };
}

/** A grid-world-like scene: a 5×5 board of cells and one agent. */
function gridScene(): Scene {
  const shapes: Scene["shapes"] = [];
  for (let row = 0; row < 5; row++) {
    for (let col = 0; col < 5; col++) {
      shapes.push({
        kind: "rect",
        x: col,
        y: row,
        width: 1,
        height: 1,
        color: [1, 1, 1],
        stroke: [0.5, 0.5, 0.5],
      });
    }
  }
  shapes.push({ kind: "circle", x: 0.5, y: 4.5, radius: 0.3, color: [0.9, 0.2, 0.2] });
  return { view: [0, 0, 5, 5], shapes, messages: [] };
}

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

/** Parses the SVG with resvg (an XML parser that rejects malformed documents). */
function assertParses(svg: string): void {
  assert.doesNotThrow(() => new Resvg(svg).render());
}

/** The RGBA of pixel (x, y) of a `width`-wide frame. */
function pixel(frame: Uint8Array, width: number, x: number, y: number): number[] {
  const at = (y * width + x) * 4;
  return [...frame.subarray(at, at + 4)];
}

Deno.test("sceneToSvg() draws one circle per entity, one text per label, title and message", () => {
  const svg = sceneToSvg(mpeScene(), { width: 200, height: 200, title: "episode 1" });
  assertParses(svg);
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200"'));
  assert.ok(svg.includes('viewBox="0 0 200 200"'));
  assert.equal(count(svg, "<circle"), 5);
  assert.equal(count(svg, "<rect"), 1, "only the white background");
  // 3 labels + title + 1 message.
  assert.equal(count(svg, "<text"), 5);
  assert.equal(count(svg, "</text>"), 5);
  assert.ok(svg.includes(">alice_0 sends B (step 0)</text>"));
  assert.ok(svg.includes('font-weight="bold"') && svg.includes(">episode 1</text>"));
});

Deno.test("sceneToSvg() draws one rect per grid cell, after the background", () => {
  const svg = sceneToSvg(gridScene(), { width: 100, height: 100, shade: 1 });
  assertParses(svg);
  assert.equal(count(svg, "<rect"), 26);
  assert.equal(count(svg, "<circle"), 1);
  assert.equal(count(svg, "<text"), 0);
  // The cell at (0, 4)–(1, 5) is the top-left one: y = 0 in pixels.
  assert.ok(svg.includes('<rect x="0" y="0" width="20" height="20" fill="rgb(255,255,255)"'));
  // The cell at (4, 0) is bottom-right.
  assert.ok(svg.includes('<rect x="80" y="80" width="20" height="20"'));
});

Deno.test("sceneToSvg() flips y: world up is picture up", () => {
  const scene: Scene = {
    view: [0, 0, 10, 10],
    shapes: [
      { kind: "circle", x: 2, y: 8, radius: 1, color: [1, 0, 0] },
      { kind: "circle", x: 8, y: 2, radius: 1, color: [0, 0, 1] },
    ],
    messages: [],
  };
  const svg = sceneToSvg(scene, { width: 100, height: 100, shade: 1 });
  assert.ok(svg.includes('<circle cx="20" cy="20" r="10" fill="rgb(255,0,0)"/>'));
  assert.ok(svg.includes('<circle cx="80" cy="80" r="10" fill="rgb(0,0,255)"/>'));
  // And in pixels: red at the top left, blue at the bottom right.
  const frame = sceneToRgba(scene, { width: 100, height: 100, shade: 1 });
  assert.deepEqual(pixel(frame, 100, 20, 20), [255, 0, 0, 255]);
  assert.deepEqual(pixel(frame, 100, 80, 80), [0, 0, 255, 255]);
  assert.deepEqual(pixel(frame, 100, 80, 20), [255, 255, 255, 255]);
});

Deno.test("sceneToSvg() keeps the aspect ratio and centres a non-square view", () => {
  const scene: Scene = {
    view: [0, 0, 2, 1],
    shapes: [{ kind: "rect", x: 0, y: 0, width: 2, height: 1, color: [0, 0, 0] }],
    messages: [],
  };
  const svg = sceneToSvg(scene, { width: 100, height: 100 });
  assert.ok(svg.includes('<rect x="0" y="25" width="100" height="50"'));
});

Deno.test("sceneToSvg() mimics MPE2: fill = colour × 200, 1 px black outline", () => {
  assert.equal(MPE_SHADE, 200 / 255);
  const svg = sceneToSvg(mpeScene(), { width: 200, height: 200 });
  // [0.35, 0.35, 0.85] × 200 = (70, 70, 170); [0.25, 0.25, 0.25] × 200 = 50.
  assert.equal(count(svg, 'fill="rgb(70,70,170)" stroke="rgb(0,0,0)" stroke-width="1"'), 3);
  assert.equal(count(svg, 'fill="rgb(50,50,50)"/>'), 2);
  // Opacity below 1 becomes fill-opacity.
  const faded = sceneToSvg({
    view: [0, 0, 1, 1],
    shapes: [{ kind: "circle", x: 0.5, y: 0.5, radius: 0.1, color: [1, 1, 1], opacity: 0.5 }],
    messages: [],
  }, { shade: 1 });
  assert.ok(faded.includes('fill="rgb(255,255,255)" fill-opacity="0.5"'));
});

Deno.test("sceneToSvg() escapes text for XML", () => {
  const scene: Scene = {
    view: [0, 0, 1, 1],
    shapes: [{ kind: "circle", x: 0.5, y: 0.5, radius: 0.2, color: [1, 1, 1], label: "<&>" }],
    messages: ['a < b & "c" \u0001'],
  };
  const svg = sceneToSvg(scene, { title: "</svg><script>" });
  assertParses(svg);
  assert.ok(svg.includes(">&lt;&amp;&gt;</text>"));
  assert.ok(svg.includes(">a &lt; b &amp; &quot;c&quot; \ufffd</text>"));
  assert.ok(svg.includes(">&lt;/svg&gt;&lt;script&gt;</text>"));
  assert.equal(count(svg, "</svg>"), 1);
  assert.equal(escapeXml("it's"), "it&apos;s");
  // The check is meaningful: resvg rejects the same document unescaped.
  assert.throws(() => new Resvg(svg.replace("&lt;&amp;&gt;", "<&>")));
});

Deno.test("sceneToSvg() rejects an empty view, a bad size and non-finite shapes", () => {
  const scene = mpeScene();
  assert.throws(() => sceneToSvg({ ...scene, view: [0, 0, 0, 1] }), RangeError);
  assert.throws(() => sceneToSvg({ ...scene, view: [0, 0, NaN, 1] }), RangeError);
  assert.throws(() => sceneToSvg(scene, { width: 0 }), RangeError);
  assert.throws(
    () =>
      sceneToSvg({
        ...scene,
        shapes: [{ kind: "circle", x: NaN, y: 0, radius: 1, color: [0, 0, 0] }],
      }),
    { name: "RangeError", message: /shape 0 \(circle\): x is NaN/ },
  );
});

/** A PNG's chunks, with CRCs checked. */
function parsePngChunks(bytes: Uint8Array): { type: string; data: Uint8Array }[] {
  assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks: { type: string; data: Uint8Array }[] = [];
  let at = 8;
  while (at < bytes.length) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    chunks.push({ type, data: bytes.subarray(at + 8, at + 8 + length) });
    at += 12 + length;
  }
  assert.equal(at, bytes.length);
  assert.equal(chunks.at(-1)?.type, "IEND");
  return chunks;
}

/** Decodes an APNG written by encodeAnimation (filter types 0–2 only) into RGBA frames. */
function decodeApng(bytes: Uint8Array): { width: number; height: number; frames: Uint8Array[] } {
  const chunks = parsePngChunks(bytes);
  const ihdr = new DataView(chunks[0].data.buffer, chunks[0].data.byteOffset);
  assert.equal(chunks[0].type, "IHDR");
  const width = ihdr.getUint32(0);
  const height = ihdr.getUint32(4);
  const stride = width * 4;
  const unfilter = (raw: Uint8Array) => {
    const out = new Uint8Array(stride * height);
    for (let y = 0; y < height; y++) {
      const filter = raw[y * (stride + 1)];
      for (let x = 0; x < stride; x++) {
        const value = raw[y * (stride + 1) + 1 + x];
        const left = x >= 4 ? out[y * stride + x - 4] : 0;
        const up = y > 0 ? out[(y - 1) * stride + x] : 0;
        const predictor = [0, left, up][filter];
        assert.ok(predictor !== undefined, `filter ${filter}`);
        out[y * stride + x] = (value + predictor) & 0xff;
      }
    }
    return out;
  };
  const frames: Uint8Array[] = [];
  for (const { type, data } of chunks) {
    if (type === "IDAT") frames.push(unfilter(new Uint8Array(inflateSync(data))));
    if (type === "fdAT") frames.push(unfilter(new Uint8Array(inflateSync(data.subarray(4)))));
  }
  const fctl = chunks.filter((c) => c.type === "fcTL").length;
  assert.equal(fctl, frames.length);
  return { width, height, frames };
}

Deno.test("encodeAnimation() GIF: N scenes decode back to N frames of the right size", () => {
  const scenes = Array.from({ length: 7 }, (_, step) => mpeScene(step));
  const frames = renderFrames(scenes, { width: 120, height: 90 });
  assert.equal(frames.length, 7);
  assert.ok(frames.every((frame) => frame.length === 120 * 90 * 4));
  const gif = encodeAnimation(frames, { width: 120, height: 90, delayMs: DEFAULT_DELAY_MS });
  const info = parseGif(gif);
  assert.equal(info.width, 120);
  assert.equal(info.height, 90);
  assert.equal(info.frames.length, 7);
  assert.deepEqual(info.frames[6], { width: 120, height: 90, delayCs: 16 });
  assert.equal(info.loops, 0, "loops forever");
  // The shared palette holds white (background) and a colour near the agents' (70, 70, 170).
  const near = (target: number[]) =>
    info.palette.some((c) => c.every((v, i) => Math.abs(v - target[i]) <= 6));
  assert.ok(near([255, 255, 255]) && near([70, 70, 170]));
});

Deno.test("encodeAnimation() APNG: frames decode back exactly", () => {
  const scenes = Array.from({ length: 4 }, (_, step) => mpeScene(step));
  const frames = renderFrames(scenes, { width: 64, height: 48 });
  const apng = encodeAnimation(frames, { width: 64, height: 48, delayMs: 250, format: "apng" });
  const chunks = parsePngChunks(apng);
  assert.deepEqual(chunks.slice(0, 3).map((c) => c.type), ["IHDR", "acTL", "fcTL"]);
  const actl = new DataView(chunks[1].data.buffer, chunks[1].data.byteOffset);
  assert.deepEqual([actl.getUint32(0), actl.getUint32(4)], [4, 0]);
  const fctl = new DataView(chunks[2].data.buffer, chunks[2].data.byteOffset);
  assert.deepEqual([fctl.getUint16(20), fctl.getUint16(22)], [250, 1000]);
  const decoded = decodeApng(apng);
  assert.equal(decoded.width, 64);
  assert.equal(decoded.height, 48);
  assert.equal(decoded.frames.length, 4);
  decoded.frames.forEach((frame, index) => assert.deepEqual(frame, frames[index]));
  // resvg (a PNG consumer) sees the first frame as a plain 64 × 48 PNG.
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"` +
    ` width="64" height="48"><image width="64" height="48" xlink:href="data:image/png;base64,${
      btoa(String.fromCharCode(...apng))
    }"/></svg>`;
  const shown = new Resvg(svg).render();
  assert.deepEqual(new Uint8Array(shown.pixels), frames[0]);
});

Deno.test("encodeAnimation() rejects no frames, mismatched sizes and bad options", () => {
  const frame = new Uint8Array(4 * 3 * 4).fill(255);
  const options = { width: 4, height: 3, delayMs: 100 };
  assert.throws(() => encodeAnimation([], options), {
    name: "RangeError",
    message: /at least one frame/,
  });
  assert.throws(() => encodeAnimation([frame, frame.subarray(4)], options), {
    name: "RangeError",
    message: /frame 1 has 44 bytes; 4x3 RGBA needs 48/,
  });
  assert.throws(() => encodeAnimation([frame], { ...options, width: 5 }), RangeError);
  assert.throws(() => encodeAnimation([frame], { ...options, width: 0 }), RangeError);
  assert.throws(() => encodeAnimation([frame], { ...options, delayMs: -1 }), RangeError);
  assert.throws(
    () => encodeAnimation([frame], { ...options, format: "webp" as "gif" }),
    RangeError,
  );
  // A single frame is fine in both formats.
  assert.equal(parseGif(encodeAnimation([frame], options)).frames.length, 1);
  assert.equal(
    decodeApng(encodeAnimation([frame], { ...options, format: "apng" })).frames.length,
    1,
  );
});

Deno.test("writeAnimation() writes a GIF or an APNG by extension, atomically", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const scenes = [mpeScene(0), mpeScene(1), mpeScene(2)];
    await writeAnimation(`${dir}/episode.gif`, scenes, { width: 80, height: 80 });
    await writeAnimation(`${dir}/episode.png`, scenes, { width: 80, height: 80 });
    const gif = parseGif(await Deno.readFile(`${dir}/episode.gif`));
    assert.equal(gif.frames.length, 3);
    assert.equal(gif.frames[0].delayCs, 16);
    const apng = decodeApng(await Deno.readFile(`${dir}/episode.png`));
    assert.equal(apng.frames.length, 3);
    assert.deepEqual((await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort(), [
      "episode.gif",
      "episode.png",
    ]);
    await assert.rejects(writeAnimation(`${dir}/empty.gif`, []), RangeError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("scenePng() is a PNG of the scene at its pixel size", () => {
  const png = scenePng(gridScene(), { width: 50, height: 40 });
  const chunks = parsePngChunks(png);
  const ihdr = new DataView(chunks[0].data.buffer, chunks[0].data.byteOffset);
  assert.deepEqual([ihdr.getUint32(0), ihdr.getUint32(4)], [50, 40]);
});
