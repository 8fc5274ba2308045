import { describe, expect, it } from "vitest";
import { crc32, readText, withText } from "../src/png";

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

function tinyPng(): Uint8Array {
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, 1);
  v.setUint32(4, 1);
  ihdr.set([8, 0, 0, 0, 0], 8);
  const parts = [new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", ihdr), chunk("IDAT", new Uint8Array([120, 156, 99, 104, 0, 0, 0, 130, 0, 129])), chunk("IEND", new Uint8Array())];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

describe("png text", () => {
  it("computes the standard CRC-32", () => {
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
  });

  it("writes a recipe that reads back, replacing an older one", () => {
    const recipe = JSON.stringify({ engine: "patchmatch", seed: 7, prompt: "café ☕" });
    const once = withText(tinyPng(), "retouch", "old");
    const twice = withText(once, "retouch", recipe);
    expect(readText(twice).retouch).toBe(recipe);
    const keywords = new TextDecoder("latin1").decode(twice).split("iTXtretouch").length - 1;
    expect(keywords).toBe(1);
  });

  it("refuses what is not a PNG", () => {
    expect(() => readText(new Uint8Array([1, 2, 3]))).toThrow(/not a PNG/);
  });
});
