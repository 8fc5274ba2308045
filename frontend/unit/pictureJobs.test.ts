import { describe, expect, it } from "vitest";
import { scaleRect } from "../src/geometry";
import { History } from "../src/history";
import { applyEvent, buildFacesJob, newJob } from "../src/jobs";
import { pack, packPlanes, unpackPlanes } from "../src/packbits";
import { facesBlocker } from "../src/blockers";
import { DEFAULT_SETTINGS, initialState, Store, type AppState, type EngineInfo, type FaceBox } from "../src/state";
import { faceAt, FacesTool, keepInside } from "../src/tools/faces";
import type { PointerInfo, ToolContext } from "../src/tools/types";
import { ArraySurfaces } from "./surfaces";

const face = (x: number, y: number, width: number, height: number, extra: Partial<FaceBox> = {}): FaceBox => ({
  x, y, width, height, enabled: true, prompt: "", score: 1, ...extra,
});

const engine = (name: string, parameters: string[], more: Partial<EngineInfo> = {}): EngineInfo => ({
  name, description: "", needs_weights: true, takes_prompt: true, parameters, native_size: 512, grid: 8, ...more,
});

describe("an upscale in history", () => {
  it("undoes to the picture, mask, paint and box as they were, and redoes to the larger ones", () => {
    const s = new ArraySurfaces(4, 3);
    s.picture = s.picture.map((_, i) => i % 251);
    s.paintRect({ x: 1, y: 1, width: 2, height: 1 });
    s.writePaint({ x: 0, y: 0, width: 1, height: 1 }, new Uint8ClampedArray([1, 2, 3, 255]));
    let box = { x: 0, y: 0, width: 4, height: 3 };
    const h = new History(s, undefined, { get: () => box, set: (b) => (box = b) });
    const before = { picture: s.picture.slice(), mask: s.mask.slice() };
    h.push({ kind: "document", label: "Upscale", pixels: s.readAll(), box });
    // what the upscale made: twice the size
    s.writeAll({ bounds: { x: 0, y: 0, width: 8, height: 6 }, picture: new Uint8ClampedArray(8 * 6 * 4).fill(7), mask: new Uint8Array([209, 0]), paint: null });
    box = { x: 0, y: 0, width: 8, height: 6 };
    const after = s.picture.slice();

    expect(h.undo()).toBe("document");
    expect(s.bounds).toEqual({ x: 0, y: 0, width: 4, height: 3 });
    expect(s.picture).toEqual(before.picture);
    expect(s.mask).toEqual(before.mask);
    expect([...s.readPaint({ x: 0, y: 0, width: 1, height: 1 })]).toEqual([1, 2, 3, 255]);
    expect(box).toEqual({ x: 0, y: 0, width: 4, height: 3 });
    expect(h.redo()).toBe("document");
    expect(s.bounds.width).toBe(8);
    expect(s.picture).toEqual(after);
    expect(box.width).toBe(8);
  });

  it("counts the whole picture it keeps, and drops older steps when an undo makes the entry larger", () => {
    const s = new ArraySurfaces(64, 64);
    const whole = 64 * 64 * 4;
    const h = new History(s, whole * 3 + 4096);
    for (const label of ["oldest", "older"]) {
      h.push({ kind: "picture", label, rect: s.pictureBounds(), bounds: s.pictureBounds(), rgba: s.readPicture(s.pictureBounds()) });
    }
    h.push({ kind: "document", label: "Upscale", pixels: s.readAll(), box: s.pictureBounds() });
    const noise = new Uint8ClampedArray(128 * 128 * 4).map((_, i) => (i * 7919) % 251);
    s.writeAll({ bounds: { x: 0, y: 0, width: 128, height: 128 }, picture: noise, mask: pack(new Uint8Array(128 * 128)), paint: null });
    expect(h.byteSize).toBeLessThan(whole * 3 + 1024);
    expect(h.depth).toBe(3);
    h.undo(); // the redo step now holds the 128x128 picture (4 times as large): the oldest step goes
    expect(h.depth).toBe(1);
    expect(h.byteSize).toBeLessThan(whole * 5 + 1024);
    expect(h.canRedo).toBe(true);
  });

  it("scales boxes by their edges", () => {
    expect(scaleRect({ x: 3, y: 1, width: 5, height: 2 }, 2, 2)).toEqual({ x: 6, y: 2, width: 10, height: 4 });
    expect(scaleRect({ x: 3, y: 3, width: 3, height: 3 }, 1.5, 1.5)).toEqual({ x: 5, y: 5, width: 4, height: 4 });
  });

  it("is not staged when it succeeds: its picture replaces the open one", () => {
    const s = initialState();
    const job = { ...newJob("u1", "upscale", { x: 0, y: 0, width: 4, height: 4 }, 0), kind: "upscale" as const, status: "running" as const };
    const state: AppState = { ...s, jobs: { u1: job }, jobOrder: ["u1"] };
    const patch = applyEvent(state, { type: "job.succeeded", job_id: "u1", result: { image: "img", url: "/api/v1/images/img", report: {} } });
    expect(patch.staging).toBeUndefined();
    expect(patch.jobs?.u1.resultImage).toBe("img");
  });
});

describe("the faces job", () => {
  it("sends the enabled boxes in the picture's pixels, clipped to it, with their own prompts", () => {
    const boxes = [face(10, 12, 30, 30, { prompt: " a smile " }), face(50, 50, 20, 20, { enabled: false }), face(-5, 90, 30, 30, { score: null })];
    const body = buildFacesJob({ ...DEFAULT_SETTINGS, prompt: "a face", strength: 0.45, steps: 12 }, engine("sd", ["steps", "strength", "guidance"]), "",
      boxes, { x: 0, y: 0, width: 100, height: 100 }, "pic");
    expect(body.faces).toEqual([
      { x: 10, y: 12, width: 30, height: 30, prompt: "a smile" },
      { x: 0, y: 90, width: 25, height: 10 },
    ]);
    expect(body).toMatchObject({ kind: "faces", image: "pic", engine: "sd", strength: 0.45, steps: 12, prompt: "a face", seed: -1 });
    expect(body.restorer).toBeUndefined();
  });

  it("with a restorer only, sends no diffusion settings", () => {
    const body = buildFacesJob(DEFAULT_SETTINGS, undefined, "gfpgan", [face(0, 0, 20, 20)], { x: 0, y: 0, width: 50, height: 50 }, "pic");
    expect(body.restorer).toBe("gfpgan");
    expect(body.engine).toBeUndefined();
    expect(body.strength).toBeUndefined();
  });

  it("is refused before sending when nothing can fix faces, naming what can", () => {
    const s = initialState();
    const state: AppState = {
      ...s,
      picture: { bounds: { x: 0, y: 0, width: 64, height: 64 }, name: "p", version: 1 },
      engines: [engine("patchmatch", [], { needs_weights: false }), engine("sd", ["strength"])],
      settings: { ...s.settings, engine: "patchmatch" },
      faces: { ...s.faces, boxes: [face(0, 0, 20, 20)] },
    };
    expect(facesBlocker(state)).toContain("sd");
    expect(facesBlocker({ ...state, settings: { ...state.settings, engine: "sd" } })).toBeNull();
    expect(facesBlocker({ ...state, faces: { ...state.faces, restorer: "gfpgan" } })).toBeNull();
    expect(facesBlocker({ ...state, faces: { ...state.faces, boxes: [face(0, 0, 20, 20, { enabled: false })] } })).toContain("switched off");
  });

  it("reports each face's stage as the job goes", () => {
    const s = initialState();
    const job = { ...newJob("f1", "faces", { x: 0, y: 0, width: 4, height: 4 }, 0), kind: "faces" as const };
    const patch = applyEvent({ ...s, jobs: { f1: job } }, { type: "job.progress", job_id: "f1", step: 3, total: 20, stage: "face 2 of 3, step 3 of 10" });
    expect(patch.jobs?.f1.stage).toBe("face 2 of 3, step 3 of 10");
  });
});

describe("face boxes on the canvas", () => {
  it("stay inside the picture", () => {
    const picture = { x: 0, y: 0, width: 100, height: 80 };
    expect(keepInside({ x: 90, y: -5, width: 20, height: 20 }, picture)).toEqual({ x: 80, y: 0, width: 20, height: 20 });
    expect(keepInside({ x: 10, y: 10, width: 300, height: 20 }, picture)).toEqual({ x: 0, y: 10, width: 100, height: 20 });
  });

  it("are hit top-most first, on their edges for resizing and inside for moving", () => {
    const boxes = [{ x: 0, y: 0, width: 50, height: 50 }, { x: 30, y: 30, width: 50, height: 50 }];
    const same = (r: { x: number; y: number; width: number; height: number }) => r;
    expect(faceAt(boxes, same, { x: 40, y: 40 })).toEqual({ index: 1, handle: "move" });
    expect(faceAt(boxes, same, { x: 10, y: 10 })).toEqual({ index: 0, handle: "move" });
    expect(faceAt(boxes, same, { x: 80, y: 80 })).toEqual({ index: 1, handle: "se" });
    expect(faceAt(boxes, same, { x: 200, y: 200 })).toBeNull();
  });
});

describe("the face boxes tool", () => {
  const pointer = (x: number, y: number): PointerInfo => ({
    screen: { x, y }, doc: { x, y }, trail: [], shiftKey: false, altKey: false, pointerType: "mouse", pressure: 0.5, button: 0,
  });

  function tool(boxes: FaceBox[]) {
    const s = initialState();
    const store = new Store({
      ...s,
      picture: { bounds: { x: 0, y: 0, width: 200, height: 100 }, name: "p", version: 1 },
      viewport: { x: 0, y: 0, zoom: 1 },
      tool: "faces",
      faces: { ...s.faces, boxes },
    });
    const faces = new FacesTool({ store } as unknown as ToolContext);
    const gesture = (from: [number, number], to: [number, number]) => {
      faces.down(pointer(...from));
      faces.move(pointer(...to));
      faces.up();
      return store.state.faces.boxes;
    };
    return { store, gesture };
  }

  it("moves a box by its inside, resizes it by its corner, and keeps it inside the picture", () => {
    const { gesture } = tool([face(20, 20, 30, 30)]);
    expect(gesture([35, 35], [41, 31])[0]).toMatchObject({ x: 26, y: 16, width: 30, height: 30 });
    expect(gesture([56, 46], [66, 54])[0]).toMatchObject({ x: 26, y: 16, width: 40, height: 38 });
    expect(gesture([40, 30], [-100, 30])[0]).toMatchObject({ x: 0, y: 16, width: 40, height: 38 });
  });

  it("draws a new box elsewhere, but not one too small to be a face, and a click switches a box off and on", () => {
    const { store, gesture } = tool([face(20, 20, 30, 30)]);
    expect(gesture([100, 10], [140, 54])).toHaveLength(2);
    expect(store.state.faces.boxes[1]).toMatchObject({ x: 100, y: 10, width: 40, height: 44, enabled: true, score: null });
    expect(gesture([170, 10], [173, 12])).toHaveLength(2);
    expect(gesture([35, 35], [35, 35])[0].enabled).toBe(false);
    expect(gesture([35, 35], [35, 35])[0].enabled).toBe(true);
  });
});

describe("colour planes for undo", () => {
  it("round-trip exactly; an opaque photo keeps about 3 bytes a pixel, an empty layer almost nothing", () => {
    const pixels = 256 * 256;
    const photo = new Uint8ClampedArray(pixels * 4).map((_, i) => ((i & 3) === 3 ? 255 : (i * 2654435761) >>> 24));
    const planes = packPlanes(photo);
    expect(unpackPlanes(planes, pixels)).toEqual(photo);
    const bytes = planes.reduce((n, p) => n + p.byteLength, 0);
    expect(bytes).toBeLessThan(pixels * 3.1);
    const empty = packPlanes(new Uint8ClampedArray(pixels * 4));
    expect(empty.reduce((n, p) => n + p.byteLength, 0)).toBeLessThanOrEqual(pixels / 16); // 2 bytes per 128 pixels of each plane
  });
});
