import { describe, expect, it } from "vitest";
import {
  actualSize, defaultBox, fitRect, hitHandle, isOutpainting, snapCoord, stampsAlong, toDoc, toScreen, zoomAt,
} from "../src/geometry";

describe("viewport", () => {
  it("maps document to screen and back", () => {
    const v = { x: 100, y: -40, zoom: 2.5 };
    const p = { x: 13, y: 77 };
    expect(toDoc(v, toScreen(v, p))).toEqual(p);
  });

  it("keeps the point under the cursor still while zooming", () => {
    const v = { x: 10, y: 20, zoom: 1 };
    const anchor = { x: 300, y: 200 };
    const before = toDoc(v, anchor);
    const after = toDoc(zoomAt(v, anchor, 3), anchor);
    expect(after.x).toBeCloseTo(before.x);
    expect(after.y).toBeCloseTo(before.y);
  });

  it("fits a picture centred, not upscaling past the cap", () => {
    const big = fitRect({ x: 0, y: 0, width: 4000, height: 2000 }, 1000, 800, 1, 0);
    expect(big.zoom).toBeCloseTo(0.25);
    expect(big.y).toBeCloseTo((800 - 500) / 2);
    const small = fitRect({ x: 0, y: 0, width: 100, height: 100 }, 1000, 800, 1, 0);
    expect(small.zoom).toBe(1);
  });

  it("shows 100 % centred", () => {
    expect(actualSize({ x: 0, y: 0, width: 200, height: 100 }, 1000, 800)).toEqual({ zoom: 1, x: 400, y: 350 });
  });
});

describe("bounding box", () => {
  it("snaps coordinates to the grid", () => {
    expect(snapCoord(500, 8)).toBe(504);
    expect(snapCoord(-30, 64)).toBe(-0);
    expect(snapCoord(13, 1)).toBe(13);
  });

  it("defaults to the picture, shrunk onto the grid so it stays inside", () => {
    expect(defaultBox({ x: 0, y: 0, width: 1023, height: 700 }, 64)).toEqual({ x: 0, y: 0, width: 960, height: 640 });
    expect(defaultBox({ x: 0, y: 0, width: 300, height: 200 }, 1)).toEqual({ x: 0, y: 0, width: 300, height: 200 });
  });

  it("calls a box past the picture outpainting", () => {
    const picture = { x: 0, y: 0, width: 100, height: 100 };
    expect(isOutpainting({ x: 0, y: 0, width: 100, height: 100 }, picture)).toBe(false);
    expect(isOutpainting({ x: 50, y: 0, width: 100, height: 100 }, picture)).toBe(true);
  });


  it("finds the handle under the pointer", () => {
    const box = { x: 100, y: 100, width: 200, height: 100 };
    expect(hitHandle(box, { x: 101, y: 99 })).toBe("nw");
    expect(hitHandle(box, { x: 300, y: 200 })).toBe("se");
    expect(hitHandle(box, { x: 200, y: 150 })).toBe("move");
    expect(hitHandle(box, { x: 200, y: 100 })).toBe("n");
    expect(hitHandle(box, { x: 20, y: 20 })).toBeNull();
  });
});

describe("brush spacing", () => {
  it("places evenly spaced stamps and carries the remainder to the next segment", () => {
    const first = stampsAlong({ x: 0, y: 0 }, { x: 10, y: 0 }, 4);
    expect(first.points.map((p) => p.x)).toEqual([4, 8]);
    expect(first.carry).toBeCloseTo(2);
    const second = stampsAlong({ x: 10, y: 0 }, { x: 20, y: 0 }, 4, first.carry);
    expect(second.points.map((p) => p.x)).toEqual([12, 16, 20]);
  });
});
