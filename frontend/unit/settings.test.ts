import { describe, expect, it } from "vitest";
import { loadPersisted, savePersisted, STORAGE_KEY } from "../src/settings";
import { DEFAULT_SETTINGS } from "../src/state";

class Memory {
  data = new Map<string, string>();
  getItem(k: string) {
    return this.data.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.data.set(k, v);
  }
}

const brush = { size: 48, hardness: 0.8 };

describe("persisted settings", () => {
  it("survive a reload", () => {
    const storage = new Memory();
    const settings = { ...DEFAULT_SETTINGS, infill: "solid" as const, infillColor: "#ff0000", feather: 12, scaleMode: "manual" as const };
    savePersisted(storage, { settings, brush: { size: 10, hardness: 0.3 } });
    const loaded = loadPersisted(storage, brush);
    expect(loaded.settings).toEqual(settings);
    expect(loaded.brush).toEqual({ size: 10, hardness: 0.3 });
  });

  it("fall back to defaults for missing, mistyped or unknown values", () => {
    const storage = new Memory();
    storage.setItem(STORAGE_KEY, JSON.stringify({ settings: { steps: "many", infill: "magic", feather: 3, bogus: 1 }, brush: { size: -4 } }));
    const loaded = loadPersisted(storage, brush);
    expect(loaded.settings.steps).toBe(DEFAULT_SETTINGS.steps);
    expect(loaded.settings.infill).toBe(DEFAULT_SETTINGS.infill);
    expect(loaded.settings.feather).toBe(3);
    expect(loaded.settings).not.toHaveProperty("bogus");
    expect(loaded.brush).toEqual(brush);
  });

  it("survive garbage in storage", () => {
    const storage = new Memory();
    storage.setItem(STORAGE_KEY, "{not json");
    expect(loadPersisted(storage, brush).settings).toEqual(DEFAULT_SETTINGS);
  });
});
