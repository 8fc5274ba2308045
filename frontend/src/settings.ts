// The generation panel and brush survive reloads through localStorage. What is read back is checked
// field by field against the defaults' types, so an old or hand-edited entry can never break the page.

import { DEFAULT_SETTINGS, INFILL_METHODS, type AppState, type GenerationSettings } from "./state";

export const STORAGE_KEY = "retouch.canvas.settings.v1";

interface Persisted {
  settings: GenerationSettings;
  brush: AppState["brush"];
}

export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export function loadPersisted(storage: KeyValueStorage, fallbackBrush: AppState["brush"]): Persisted {
  let raw: unknown;
  try {
    raw = JSON.parse(storage.getItem(STORAGE_KEY) ?? "null");
  } catch {
    raw = null; // an unreadable entry: the defaults
  }
  const stored = (raw && typeof raw === "object" ? raw : {}) as Record<string, unknown>;
  const settings = { ...DEFAULT_SETTINGS };
  const fromStore = (stored.settings && typeof stored.settings === "object" ? stored.settings : {}) as Record<string, unknown>;
  for (const key of Object.keys(DEFAULT_SETTINGS) as (keyof GenerationSettings)[]) {
    const value = fromStore[key];
    if (value !== undefined && typeof value === typeof DEFAULT_SETTINGS[key]) {
      (settings as Record<string, unknown>)[key] = value;
    }
  }
  if (!INFILL_METHODS.includes(settings.infill)) settings.infill = DEFAULT_SETTINGS.infill;
  if (!["auto", "manual", "none"].includes(settings.scaleMode)) settings.scaleMode = DEFAULT_SETTINGS.scaleMode;
  const brushStored = (stored.brush && typeof stored.brush === "object" ? stored.brush : {}) as Record<string, unknown>;
  const brush = {
    size: typeof brushStored.size === "number" && brushStored.size >= 1 ? brushStored.size : fallbackBrush.size,
    hardness:
      typeof brushStored.hardness === "number" && brushStored.hardness >= 0 && brushStored.hardness <= 1
        ? brushStored.hardness
        : fallbackBrush.hardness,
  };
  return { settings, brush };
}

export function savePersisted(storage: KeyValueStorage, state: Pick<AppState, "settings" | "brush">): void {
  try {
    storage.setItem(STORAGE_KEY, JSON.stringify({ settings: state.settings, brush: state.brush }));
  } catch {
    // storage full or disabled: settings simply do not persist
  }
}
