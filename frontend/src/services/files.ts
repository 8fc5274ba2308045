// Files: opening a picture as the document, downloading it with its recipe.

import { describeError } from "../api/client";
import { defaultBox, fitRect } from "../geometry";
import { readMeta } from "../metadata";
import { a1111Parameters } from "../png";
import { recallSettings } from "../recipe";
import { engineGrid, withError, type AppState, type Patch } from "../state";
import type { Deps, Services } from "./types";
import { pictureSources } from "./uploads";

/** Whether opening another picture would lose work that is not downloaded; asks the user if so. */
export function mayReplace(deps: Deps, what: string): boolean {
  const s = deps.store.state;
  if (!s.picture || (!s.dirty && s.staging.items.length === 0)) return true;
  return deps.confirm(
    `Open ${what}? "${s.picture.name}" has changes that are not downloaded; they will be replaced. ` +
      "(Finished results stay in the gallery.)",
  );
}

/** Open a picture file: decode it here (exact pixels, no colour conversion) and make it the document. */
export async function openPicture(deps: Deps, file: Blob, name: string, ask = true): Promise<boolean> {
  const { store, layers, history } = deps;
  if (ask && !mayReplace(deps, name)) return false;
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { colorSpaceConversion: "none", premultiplyAlpha: "none", imageOrientation: "from-image" });
  } catch {
    store.apply(withError(store.state, `Could not open ${name}: this browser cannot read it as a picture.`));
    return false;
  }
  const meta = await readMeta(file);
  layers.load(bitmap);
  bitmap.close();
  history.clear();
  deps.meta.current = { ...meta, texts: {} };
  const s = store.state;
  const bounds = layers.pictureBounds();
  const title = name.replace(/\.[^.]+$/, "") || "picture";
  let recall: AppState["recall"] = null;
  if (meta.texts.retouch) {
    try {
      const settings = recallSettings(JSON.parse(meta.texts.retouch) as Record<string, unknown>);
      if (Object.keys(settings).length) recall = { name: title, settings };
    } catch {
      recall = null; // not a recipe after all: nothing to offer
    }
  }
  store.apply({
    picture: { bounds, name: title, version: (s.picture?.version ?? 0) + 1 },
    mask: { ...s.mask, version: s.mask.version + 1 },
    paint: { ...s.paint, version: s.paint.version + 1 },
    bbox: defaultBox(bounds, engineGrid(s)),
    viewport: fitRect(bounds, s.screen.width, s.screen.height, 1),
    staging: { items: [], index: 0 },
    activeJob: null,
    maskAside: null,
    before: false,
    dirty: false,
    recall,
    history: { canUndo: false, canRedo: false },
    // face boxes belong to the picture they were found or drawn on
    faces: { ...s.faces, boxes: [], searched: null },
  });
  return true;
}

function save(bytes: Uint8Array<ArrayBuffer>, filename: string): void {
  const url = URL.createObjectURL(new Blob([bytes], { type: "image/png" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export function makeFileServices(deps: Deps): Pick<Services, "download" | "openDialog"> {
  const { store, layers, history, encoder } = deps;
  return {
    async download(state: AppState): Promise<Patch | null> {
      if (!state.picture) return withError(state, "Open a picture first.");
      try {
        const texts: Record<string, string> = {};
        const recipes = history.recipes() as Record<string, unknown>[];
        if (recipes.length) {
          const last = recipes[recipes.length - 1];
          texts.retouch = JSON.stringify({ ...last, canvas_history: recipes });
          texts.parameters = a1111Parameters(last);
        }
        const { exif, icc } = deps.meta.current;
        const png = await encoder.encode(pictureSources(state, layers), layers.pictureBounds(), 4, { exif, icc, texts });
        save(png.bytes, `${state.picture.name}-retouch.png`);
        return { dirty: false };
      } catch (error) {
        return withError(store.state, `Download failed: ${describeError(error)}`);
      }
    },

    openDialog(): void {
      deps.openDialog();
    },
  };
}
