/** Reading GIFs back in tests: size, frames, delays, loop count, global palette. */
import assert from "node:assert/strict";

/** What a GIF holds, from walking its blocks. */
export interface GifInfo {
  width: number;
  height: number;
  frames: { width: number; height: number; delayCs: number }[];
  loops: number | undefined;
  palette: number[][];
}

/** Walks a GIF's blocks properly (so 0x2C bytes inside pixel data are not counted). */
export function parseGif(bytes: Uint8Array): GifInfo {
  const text = (from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));
  const u16 = (at: number) => bytes[at] | (bytes[at + 1] << 8);
  assert.equal(text(0, 6), "GIF89a");
  const info: GifInfo = {
    width: u16(6),
    height: u16(8),
    frames: [],
    loops: undefined,
    palette: [],
  };
  let at = 13;
  if (bytes[10] & 0x80) {
    const entries = 2 << (bytes[10] & 7);
    for (let i = 0; i < entries; i++) {
      info.palette.push([...bytes.subarray(at + 3 * i, at + 3 * i + 3)]);
    }
    at += 3 * entries;
  }
  const skipSubBlocks = () => {
    while (bytes[at] !== 0) at += bytes[at] + 1;
    at += 1;
  };
  let delayCs = 0;
  for (;;) {
    assert.ok(at < bytes.length, "GIF ends without a trailer");
    const introducer = bytes[at];
    if (introducer === 0x3b) break;
    if (introducer === 0x21) {
      const label = bytes[at + 1];
      if (label === 0xf9) delayCs = u16(at + 4);
      if (label === 0xff && text(at + 3, at + 14) === "NETSCAPE2.0") info.loops = u16(at + 16);
      at += 2;
      skipSubBlocks();
    } else if (introducer === 0x2c) {
      info.frames.push({ width: u16(at + 5), height: u16(at + 7), delayCs });
      const packed = bytes[at + 9];
      at += 10;
      if (packed & 0x80) at += 3 * (2 << (packed & 7));
      at += 1; // LZW minimum code size
      skipSubBlocks();
    } else {
      assert.fail(`unexpected GIF block 0x${introducer.toString(16)} at ${at}`);
    }
  }
  assert.equal(at, bytes.length - 1, "nothing after the trailer");
  return info;
}
