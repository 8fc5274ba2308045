import { describe, expect, it } from "vitest";
import { fitPixels, pictureSize } from "../src/pictureSize";
import { encodePng } from "../src/png";

describe("picture size from the file's first bytes", () => {
  it("reads PNG, JPEG (after other markers), GIF and WebP headers", async () => {
    const png = await encodePng(new Uint8Array(7 * 3 * 4), 7, 3, 4);
    expect(pictureSize(png)).toEqual({ width: 7, height: 3 });
    // JPEG: SOI, an APP1 block, then SOF0 with height 300 and width 9000
    const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe1, 0x00, 0x04, 1, 2, 0xff, 0xc0, 0x00, 0x11, 8, 0x01, 0x2c, 0x23, 0x28, 3, 0, 0, 0, 0, 0, 0]);
    expect(pictureSize(jpeg)).toEqual({ width: 9000, height: 300 });
    const gif = new Uint8Array([...new TextEncoder().encode("GIF89a"), 0x10, 0x00, 0x20, 0x00]);
    expect(pictureSize(gif)).toEqual({ width: 16, height: 32 });
    const webp = new Uint8Array(30);
    webp.set(new TextEncoder().encode("RIFF"), 0);
    webp.set(new TextEncoder().encode("WEBPVP8X"), 8);
    webp.set([0x0f, 0x27, 0x00, 0x63, 0x00, 0x00], 24); // 9999 x 99 (stored minus one)
    expect(pictureSize(webp)).toEqual({ width: 10000, height: 100 });
    expect(pictureSize(new Uint8Array([1, 2, 3]))).toBeNull();
  });

  it("fits a size within a pixel count, keeping its proportions", () => {
    expect(fitPixels({ width: 9000, height: 9000 }, 64_000_000)).toEqual({ width: 8000, height: 8000 });
    const wide = fitPixels({ width: 20000, height: 5000 }, 64_000_000);
    expect(wide.width * wide.height).toBeLessThanOrEqual(64_000_000);
    expect(Math.abs(wide.width / wide.height - 4)).toBeLessThan(0.01);
    expect(fitPixels({ width: 100, height: 50 }, 64_000_000)).toEqual({ width: 100, height: 50 });
  });
});
