import { describe, expect, it } from "vitest";
import { FrameScheduler } from "../src/render/scheduler";
import { dragSnapped } from "../src/tools/bbox";

describe("box dragging", () => {
  const start = { x: 0, y: 0, width: 512, height: 512 };
  const origin = { x: 0, y: 0 };

  it("moves on the grid", () => {
    expect(dragSnapped(start, "move", 13, 70, 8, origin)).toEqual({ x: 16, y: 72, width: 512, height: 512 });
  });

  it("resizes one edge on the grid and leaves the others", () => {
    expect(dragSnapped(start, "e", 30, 0, 64, origin)).toEqual({ x: 0, y: 0, width: 512, height: 512 });
    expect(dragSnapped(start, "e", 40, 0, 64, origin)).toEqual({ x: 0, y: 0, width: 576, height: 512 });
    expect(dragSnapped(start, "nw", -70, -70, 64, origin)).toEqual({ x: -64, y: -64, width: 576, height: 576 });
  });

  it("never shrinks below one grid step", () => {
    expect(dragSnapped(start, "w", 10000, 0, 64, origin).width).toBe(64);
  });

  it("counts the grid from the picture's origin", () => {
    expect(dragSnapped({ x: 3, y: 3, width: 64, height: 64 }, "move", 9, 0, 8, { x: 3, y: 3 }).x).toBe(11);
  });
});

describe("frame scheduler", () => {
  it("draws once per frame however often it is asked, the union of what was stale", () => {
    const frames: FrameRequestCallback[] = [];
    const drawn: unknown[] = [];
    let overlays = 0;
    const s = new FrameScheduler(
      (region) => drawn.push(region),
      () => overlays++,
      (cb) => frames.push(cb),
    );
    s.invalidateDoc({ x: 0, y: 0, width: 10, height: 10 });
    s.invalidateDoc({ x: 20, y: 20, width: 5, height: 5 });
    s.invalidateOverlay();
    expect(frames).toHaveLength(1);
    frames[0](0);
    expect(drawn).toEqual([{ x: 0, y: 0, width: 25, height: 25 }]);
    expect(overlays).toBe(1);
    s.invalidateAll();
    frames[1](16);
    expect(drawn[1]).toBeNull();
  });
});
