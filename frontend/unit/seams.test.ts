import { describe, expect, it } from "vitest";
import { History } from "../src/history";
import { filledRegion, growDisc, outlineSegments, regionMask, regionOf, regionPixels, seamScores, seamText } from "../src/seams";
import { ArraySurfaces } from "./surfaces";

/** The server's grow: every pixel with a selected one at integer offset dx² + dy² <= r². */
function bruteGrow(selected: Uint8Array, width: number, height: number, r: number): Uint8Array {
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      search: for (let dy = -r; dy <= r; dy++) {
        for (let dx = -r; dx <= r; dx++) {
          const sx = x + dx;
          const sy = y + dy;
          if (dx * dx + dy * dy <= r * r && sx >= 0 && sy >= 0 && sx < width && sy < height && selected[sy * width + sx]) {
            out[y * width + x] = 255;
            break search;
          }
        }
      }
    }
  }
  return out;
}

function random(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
}

describe("the region a fill fills", () => {
  it("grows by a disc exactly as the server does", () => {
    const next = random(7);
    for (const [w, h, r] of [[37, 23, 0], [37, 23, 1], [40, 31, 2], [29, 44, 5], [64, 48, 11]]) {
      const selected = new Uint8Array(w * h).map(() => (next() < 0.02 ? 255 : 0));
      expect(growDisc(selected, w, h, r)).toEqual(bruteGrow(selected, w, h, r));
    }
  });

  it("is the mask above the threshold and the empty pixels, grown, inside the box", () => {
    const area = { x: 10, y: 20, width: 12, height: 10 };
    const box = { x: 12, y: 22, width: 8, height: 6 };
    const mask = new Uint8Array(120);
    mask[(24 - 20) * 12 + (15 - 10)] = 200; // selected
    mask[(24 - 20) * 12 + (18 - 10)] = 100; // below the threshold: not selected
    const rgba = new Uint8ClampedArray(120 * 4).fill(255);
    rgba[((29 - 20) * 12 + (21 - 10)) * 4 + 3] = 0; // an empty pixel outside the box grows into it
    const region = filledRegion(area, mask, rgba, box, 1)!;
    const whole = regionMask(region, { x: 0, y: 0, width: 40, height: 40 });
    const on = (x: number, y: number) => whole[y * 40 + x] === 255;
    expect([on(15, 24), on(14, 24), on(16, 24), on(15, 23), on(15, 25)]).toEqual([true, true, true, true, true]);
    expect(on(14, 23)).toBe(false); // (1, 1) is farther than 1
    expect(on(18, 24)).toBe(false);
    expect(on(20, 27)).toBe(false); // outside the box
    expect(on(19, 27)).toBe(false); // distance √5 from (21, 29)
    expect(region.rect.x).toBeGreaterThanOrEqual(box.x);
    expect(whole.filter((v) => v).length).toBe(5);
  });

  it("outlines only where the region meets the picture, not the picture's edge", () => {
    const rect = { x: 0, y: 0, width: 4, height: 3 };
    const region = regionOf(new Uint8Array(12).fill(255), rect)!;
    expect(regionPixels(region).every((v) => v === 255)).toBe(true);
    // a 4x3 block in the corner of a 10x10 picture: its right and bottom edges only
    const segments = outlineSegments(region, { x: 0, y: 0, width: 10, height: 10 });
    expect(segments).toEqual([0, 3, 4, 3, 4, 0, 4, 3]);
    expect(outlineSegments(region, { x: -5, y: -5, width: 20, height: 20 }).length).toBe(16);
  });
});

describe("the seam score shown", () => {
  it("reads a fill's report, a repair's report and a gallery result's recipe", () => {
    expect(seamScores({ seam: 1.43, bbox: {} }, null)).toEqual({ before: null, after: 1.43 });
    expect(seamScores({ seam_before: 1.84, seam: 1.07 }, null)).toEqual({ before: 1.84, after: 1.07 });
    expect(seamScores({ seam: 1.1, seam_before_passes: 1.9 }, null)).toEqual({ before: 1.9, after: 1.1 });
    expect(seamScores(null, { seam: { score: 2.5 } })).toEqual({ before: null, after: 2.5 });
    expect(seamScores(null, { kind: "upscale" })).toBeNull();
    expect(seamText(null, 1.43)).toBe("seam 1.4");
    expect(seamText(1.84, 1.07)).toBe("seam 1.8 → 1.1");
    expect(seamText(1.84, 1.79)).toBe("seam 1.84 → 1.79");
  });
});

describe("repairing the last accepted result", () => {
  it("is the region of the accepted result now in the picture; undo goes back to the one before", () => {
    const s = new ArraySurfaces(32, 32);
    const h = new History(s);
    const rect = { x: 0, y: 0, width: 4, height: 4 };
    const first = regionOf(new Uint8Array(16).fill(255), rect)!;
    const second = regionOf(new Uint8Array(16).fill(255), { ...rect, x: 8 })!;
    const accept = (filled: typeof first | undefined) =>
      h.push({ kind: "picture", label: "Accept result", rect, bounds: s.pictureBounds(), rgba: s.readPicture(rect), filled });
    expect(h.lastFilled()).toBeNull();
    accept(first);
    h.push({ kind: "box", label: "Move box", box: rect });
    expect(h.lastFilled()).toBe(first);
    accept(second);
    expect(h.lastFilled()).toBe(second);
    h.undo(); // the second accept goes: the first is the last in the picture
    expect(h.lastFilled()).toBe(first);
    h.redo();
    expect(h.lastFilled()).toBe(second);
    accept(undefined); // a result that does not say what it filled (from the gallery)
    expect(h.lastFilled()).toBeNull();
  });
});
