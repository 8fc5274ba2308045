import { describe, expect, it } from "vitest";
import { workingSize } from "../src/jobs";
import { uprightExif } from "../src/metadata";
import { a1111Parameters, readText, withExtras } from "../src/png";
import { recallBox, recallPatch, recallSettings, recipeForDownload, withCanvasBox } from "../src/recipe";
import { DEFAULT_SETTINGS, initialState, type EngineInfo } from "../src/state";

const telea: EngineInfo = { name: "telea", description: "", needs_weights: false, takes_prompt: false, native_size: null, grid: 1, parameters: [] };
const model: EngineInfo = { name: "sd", description: "", needs_weights: true, takes_prompt: true, native_size: 512, grid: 8, parameters: ["steps", "guidance", "strength"] };

const recipe = {
  engine: "telea", prompt: "", negative_prompt: "", steps: 30, guidance: 7.5, strength: 1, scheduler: null,
  infill: { method: "patchmatch" }, scale: { mode: "auto" }, feather: 3, grow: 0, seed: 7, padding: 32,
  bbox: { x: 1, y: 2, width: 30, height: 20 }, width: 64, height: 48,
};

describe("recipes", () => {
  it("turns a recipe back into settings, leaving out what it does not name well", () => {
    const settings = recallSettings({ ...recipe, infill: { method: "nonsense" }, scale: { mode: "manual", width: 640, height: 448 } });
    expect(settings).toMatchObject({ engine: "telea", feather: 3, seedMode: "fixed", seed: 7, scaleMode: "manual", scaleWidth: 640, scaleHeight: 448 });
    expect(settings).not.toHaveProperty("infill");
    expect(recallSettings({ ...recipe, tone_match: true, seam_pass: false })).toMatchObject({ toneMatch: true, seamPass: false });
  });
});

describe("working size", () => {
  it("auto brings the box to the model's native area on its grid, in the box's shape", () => {
    expect(workingSize({ width: 448, height: 320 }, DEFAULT_SETTINGS, { ...model, grid: 64 })).toEqual({ width: 576, height: 448 });
  });

  it("auto is the box's own size for engines without a native size; manual snaps to the grid", () => {
    expect(workingSize({ width: 301, height: 200 }, DEFAULT_SETTINGS, telea)).toEqual({ width: 301, height: 200 });
    expect(workingSize({ width: 10, height: 10 }, { ...DEFAULT_SETTINGS, scaleMode: "manual", scaleWidth: 515, scaleHeight: 300 }, model)).toEqual({ width: 512, height: 304 });
  });
});

describe("download metadata", () => {
  const png1x1 = () =>
    // a 1x1 grey PNG (signature, IHDR, IDAT, IEND)
    new Uint8Array(
      atob("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg==")
        .split("")
        .map((c) => c.charCodeAt(0)),
    );

  it("writes eXIf and iCCP after the header and the recipe chunks before the image data", async () => {
    const exif = new Uint8Array([0x49, 0x49, 42, 0, 8, 0, 0, 0, 0, 0]);
    const out = await withExtras(png1x1(), { exif, icc: new Uint8Array([1, 2, 3]), texts: { parameters: "Model: telea" } });
    const types: string[] = [];
    const view = new DataView(out.buffer);
    for (let at = 8; at < out.length; ) {
      const length = view.getUint32(at);
      types.push(String.fromCharCode(...out.subarray(at + 4, at + 8)));
      at += 12 + length;
    }
    // before IDAT, where readers that stop there find them; Latin-1 parameters as tEXt, as AUTOMATIC1111
    expect(types).toEqual(["IHDR", "iCCP", "eXIf", "tEXt", "IDAT", "IEND"]);
    expect(readText(out).parameters).toBe("Model: telea");
  });

  it("says Model, Seed and Mask blur as AUTOMATIC1111 does", () => {
    const text = a1111Parameters({ engine: "telea", seed: 7, feather: 3, prompt: "a lake", width: 64, height: 48 });
    expect(text).toBe("a lake\nSampler: telea, Seed: 7, Size: 64x48, Model: telea, Mask blur: 3, Version: Retouch");
  });

  it("resets EXIF's orientation: the canvas decodes pictures upright", () => {
    // little-endian TIFF, one IFD entry: Orientation (0x0112), SHORT, 1 value, 6 (rotated)
    const tiff = new Uint8Array([0x49, 0x49, 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0]);
    expect(uprightExif(tiff)[18]).toBe(1);
  });
});

describe("the box in recipes", () => {
  it("is written in the downloaded picture's pixels and recalled over the open picture", () => {
    // an outpainting: the server's bbox is in the crop it was sent (0,0); the canvas knows where the box was
    const recipe = withCanvasBox({ engine: "patchmatch", bbox: { x: 0, y: 0, width: 320, height: 240 } }, { x: 480, y: 40, width: 320, height: 240 })!;
    // the picture grew 16 px to the left since: its top left corner is at -16,0 in the document
    const written = recipeForDownload(recipe, { x: -16, y: 0 });
    expect(written.bbox).toEqual({ x: 496, y: 40, width: 320, height: 240 });
    expect(written).not.toHaveProperty("canvas_box");
    const box = recallBox(written)!;
    const state = { ...initialState(), picture: { bounds: { x: 0, y: 0, width: 900, height: 400 }, name: "p", version: 1 } };
    const patch = recallPatch(state, { name: "p", settings: { engine: "patchmatch", seedMode: "fixed", seed: 7 }, box });
    expect(patch.bbox).toEqual({ x: 496, y: 40, width: 320, height: 240 });
    expect(patch.settings?.seedMode).toBe("fixed");
    expect(recallBox({ bbox: "auto" })).toBeNull();
  });
});
