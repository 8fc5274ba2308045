import { describe, expect, it } from "vitest";
import { crc32, encodePng, readText, withExtras, withText } from "../src/png";

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

  it("writes texts before the image data; parameters as tEXt when Latin-1 (as AUTOMATIC1111), else iTXt", async () => {
    const png = await withExtras(new Uint8Array(tinyPng()), { texts: { retouch: '{"prompt": "café ☕"}', parameters: "a café, Steps: 30" } });
    const text = new TextDecoder("latin1").decode(png);
    const idat = text.indexOf("IDAT");
    expect(text.indexOf("iTXtretouch")).toBeGreaterThan(0);
    expect(text.indexOf("iTXtretouch")).toBeLessThan(idat);
    expect(text.indexOf("tEXtparameters")).toBeGreaterThan(0);
    expect(text.indexOf("tEXtparameters")).toBeLessThan(idat);
    expect(readText(png)).toEqual({ retouch: '{"prompt": "café ☕"}', parameters: "a café, Steps: 30" });
    // not Latin-1: UTF-8 in iTXt, replacing the tEXt one
    const again = withText(png, "parameters", "tea ☕", true);
    expect(new TextDecoder("latin1").decode(again).split("parameters").length - 1).toBe(1);
    expect(readText(again).parameters).toBe("tea ☕");
  });

  it("refuses what is not a PNG", () => {
    expect(() => readText(new Uint8Array([1, 2, 3]))).toThrow(/not a PNG/);
  });
});

describe("encodePng", () => {
  async function inflate(parts: Uint8Array[]): Promise<Uint8Array> {
    const stream = new Blob(parts.map((p) => new Uint8Array(p))).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }

  async function decode(png: Uint8Array): Promise<{ width: number; height: number; colour: number; pixels: Uint8Array }> {
    const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
    let offset = 8;
    let width = 0, height = 0, colour = 0;
    const idat: Uint8Array[] = [];
    while (offset < png.length) {
      const length = view.getUint32(offset);
      const type = String.fromCharCode(...png.subarray(offset + 4, offset + 8));
      const data = png.subarray(offset + 8, offset + 8 + length);
      expect(view.getUint32(offset + 8 + length)).toBe(crc32(png.subarray(offset + 4, offset + 8 + length)));
      if (type === "IHDR") {
        width = new DataView(data.buffer, data.byteOffset).getUint32(0);
        height = new DataView(data.buffer, data.byteOffset).getUint32(4);
        colour = data[9];
      }
      if (type === "IDAT") idat.push(data);
      offset += 12 + length;
    }
    const raw = await inflate(idat);
    const channels = colour === 6 ? 4 : 1;
    const stride = width * channels;
    const pixels = new Uint8Array(stride * height);
    for (let y = 0; y < height; y++) {
      expect(raw[y * (stride + 1)]).toBe(1);
      for (let i = 0; i < stride; i++) {
        const left = i >= channels ? pixels[y * stride + i - channels] : 0;
        pixels[y * stride + i] = (raw[y * (stride + 1) + 1 + i] + left) & 255;
      }
    }
    return { width, height, colour, pixels };
  }

  it("keeps every RGBA byte, half-transparent pixels included", async () => {
    const rgba = new Uint8Array(7 * 5 * 4).map((_, i) => (i * 37 + 11) % 256);
    const decoded = await decode(await encodePng(rgba, 7, 5, 4));
    expect([decoded.width, decoded.height, decoded.colour]).toEqual([7, 5, 6]);
    expect(decoded.pixels).toEqual(rgba);
  });

  it("writes a grey mask", async () => {
    const grey = new Uint8Array(9 * 3).map((_, i) => (i % 2 ? 255 : 0));
    const decoded = await decode(await encodePng(grey, 9, 3, 1));
    expect(decoded.colour).toBe(0);
    expect(decoded.pixels).toEqual(grey);
  });

  it("refuses pixels that do not match the size", async () => {
    await expect(encodePng(new Uint8Array(10), 3, 3, 1)).rejects.toThrow("size");
  });
});
