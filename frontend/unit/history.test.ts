import { describe, expect, it } from "vitest";
import { changedBounds, cropRgba, History, packRegion, StrokeRecorder } from "../src/history";
import { ArraySurfaces } from "./surfaces";

function stroke(surfaces: ArraySurfaces, history: History, rect: { x: number; y: number; width: number; height: number }) {
  const recorder = new StrokeRecorder(surfaces, 16);
  recorder.touch(rect);
  surfaces.paintRect(rect);
  history.push(recorder.finish("Paint mask")!);
}

describe("history", () => {
  it("undoes and redoes a stroke exactly", () => {
    const s = new ArraySurfaces(64, 64);
    const h = new History(s);
    stroke(s, h, { x: 5, y: 5, width: 20, height: 10 });
    const painted = s.mask.slice();
    expect(h.undo()).toBe("mask");
    expect(s.mask.every((v) => v === 0)).toBe(true);
    expect(h.redo()).toBe("mask");
    expect(s.mask).toEqual(painted);
  });

  it("keeps only the tiles a stroke touched, packed", () => {
    const s = new ArraySurfaces(4096, 4096);
    const h = new History(s);
    for (let i = 0; i < 50; i++) stroke(s, h, { x: (i * 61) % 4000, y: (i * 97) % 4000, width: 60, height: 60 });
    // 50 strokes on a 4096x4096 mask: a whole-image copy would be 16 MB each
    expect(h.byteSize).toBeLessThan(50 * 8 * 1024);
  });

  it("undoes several strokes in order", () => {
    const s = new ArraySurfaces(32, 32);
    const h = new History(s);
    stroke(s, h, { x: 0, y: 0, width: 10, height: 10 });
    const afterFirst = s.mask.slice();
    stroke(s, h, { x: 5, y: 5, width: 10, height: 10 });
    h.undo();
    expect(s.mask).toEqual(afterFirst);
    h.undo();
    expect(s.mask.every((v) => v === 0)).toBe(true);
    expect(h.canUndo).toBe(false);
    expect(h.canRedo).toBe(true);
  });

  it("a new change drops what could be redone", () => {
    const s = new ArraySurfaces(32, 32);
    const h = new History(s);
    stroke(s, h, { x: 0, y: 0, width: 4, height: 4 });
    h.undo();
    stroke(s, h, { x: 10, y: 10, width: 4, height: 4 });
    expect(h.canRedo).toBe(false);
  });

  it("undoes an accepted outpainting: the picture shrinks back and its pixels return", () => {
    const s = new ArraySurfaces(4, 4);
    s.picture.fill(200);
    const h = new History(s);
    const box = { x: 2, y: 0, width: 4, height: 4 };
    const before = { bounds: s.pictureBounds(), rgba: s.readPicture(box) };
    s.resize({ x: 0, y: 0, width: 6, height: 4 });
    s.writePicture(box, new Uint8ClampedArray(4 * 4 * 4).fill(9));
    h.push({ kind: "picture", label: "Accept", rect: box, bounds: before.bounds, rgba: before.rgba });
    h.undo();
    expect(s.bounds).toEqual({ x: 0, y: 0, width: 4, height: 4 });
    expect(s.picture.every((v) => v === 200)).toBe(true);
    h.redo();
    expect(s.bounds.width).toBe(6);
    expect(Array.from(s.readPicture({ x: 5, y: 3, width: 1, height: 1 }))).toEqual([9, 9, 9, 9]);
    expect(Array.from(s.readPicture({ x: 0, y: 0, width: 1, height: 1 }))).toEqual([200, 200, 200, 200]);
  });

  it("accepting an outpainting clears the mask it filled; undo brings it back, redo clears it again", () => {
    const s = new ArraySurfaces(4, 4);
    s.paintRect({ x: 0, y: 0, width: 4, height: 4 }); // masked all over
    const h = new History(s);
    const inside = { x: 2, y: 0, width: 2, height: 4 }; // the box (columns 2..5) where the picture was
    const before = { bounds: s.pictureBounds(), rgba: s.readPicture(inside), mask: packRegion(s, inside) };
    s.resize({ x: 0, y: 0, width: 6, height: 4 });
    s.writeMask(inside, new Uint8Array(8)); // as the canvas does on accept
    h.push({ kind: "picture", label: "Accept", rect: inside, bounds: before.bounds, rgba: before.rgba, mask: before.mask });
    const masked = (x: number) => s.readMask({ x, y: 1, width: 1, height: 1 })[0];
    expect([0, 1, 2, 3, 4, 5].map(masked)).toEqual([255, 255, 0, 0, 0, 0]);
    h.undo();
    expect(s.bounds.width).toBe(4);
    expect([0, 1, 2, 3].map(masked)).toEqual([255, 255, 255, 255]);
    h.redo();
    expect([0, 1, 2, 3, 4, 5].map(masked)).toEqual([255, 255, 0, 0, 0, 0]);
  });

  it("inverting twice through undo is the identity", () => {
    const s = new ArraySurfaces(8, 8);
    s.paintRect({ x: 0, y: 0, width: 3, height: 3 });
    const original = s.mask.slice();
    const h = new History(s);
    s.invertMask();
    h.push({ kind: "invert-mask", label: "Invert" });
    h.undo();
    expect(s.mask).toEqual(original);
  });

  it("drops the oldest entries past its byte budget", () => {
    const s = new ArraySurfaces(256, 256);
    const h = new History(s, 4096);
    for (let i = 0; i < 40; i++) {
      const noise = new Uint8ClampedArray(16 * 16 * 4).map((_, j) => (j * 31 + i) % 256);
      h.push({ kind: "picture", label: "x", rect: { x: 0, y: 0, width: 16, height: 16 }, bounds: s.pictureBounds(), rgba: noise });
    }
    expect(h.byteSize).toBeLessThanOrEqual(4096 + 1024 + 64);
    expect(h.depth).toBeLessThan(40);
  });
});

describe("accepted results", () => {
  it("keep only the rectangle the result changed", () => {
    const a = new Uint8ClampedArray(10 * 8 * 4).fill(50);
    const b = a.slice();
    b[(3 * 10 + 4) * 4] = 99;
    b[(5 * 10 + 7) * 4 + 3] = 0;
    expect(changedBounds(a, b, 10, 8)).toEqual({ x: 4, y: 3, width: 4, height: 3 });
    expect(changedBounds(a, a.slice(), 10, 8)).toBeNull();
    const part = cropRgba(b, 10, { x: 4, y: 3, width: 4, height: 3 });
    expect(part.length).toBe(4 * 3 * 4);
    expect(part[0]).toBe(99);
  });
});

describe("paint and box in history", () => {
  it("undoes a paint stroke from the tiles it touched, and redoes it", () => {
    const s = new ArraySurfaces(32, 32);
    const h = new History(s);
    const recorder = new StrokeRecorder(s, 16, "paint");
    recorder.touch({ x: 2, y: 2, width: 4, height: 4 });
    s.writePaint({ x: 3, y: 3, width: 1, height: 1 }, new Uint8ClampedArray([10, 20, 30, 255]));
    h.push(recorder.finish("Paint")!);
    expect(h.undo()).toBe("paint");
    expect([...s.readPaint({ x: 3, y: 3, width: 1, height: 1 })]).toEqual([0, 0, 0, 0]);
    expect(h.redo()).toBe("paint");
    expect([...s.readPaint({ x: 3, y: 3, width: 1, height: 1 })]).toEqual([10, 20, 30, 255]);
  });

  it("undoes and redoes a box change through the box's port", () => {
    let box = { x: 0, y: 0, width: 32, height: 32 };
    const h = new History(new ArraySurfaces(32, 32), undefined, { get: () => box, set: (b) => (box = b) });
    const before = box;
    box = { x: 4, y: 4, width: 8, height: 8 };
    h.push({ kind: "box", label: "Move box", box: before });
    expect(h.undo()).toBe("box");
    expect(box).toEqual(before);
    h.redo();
    expect(box).toEqual({ x: 4, y: 4, width: 8, height: 8 });
  });

  it("comes back from its export within the budget", () => {
    const s = new ArraySurfaces(64, 64);
    const h = new History(s);
    stroke(s, h, { x: 0, y: 0, width: 8, height: 8 });
    const again = new History(s, 1);
    again.import(h.export());
    expect(again.canUndo).toBe(true);
    expect(again.undo()).toBe("mask");
  });
});
