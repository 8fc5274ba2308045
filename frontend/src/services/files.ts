// Files: opening a picture as the document, downloading it with its recipe.

import { describeError, type LimitsPublic } from "../api/client";
import { defaultBox, fitRect } from "../geometry";
import { readMeta } from "../metadata";
import { fitPixels, pictureSize, type PictureSize } from "../pictureSize";
import { a1111Parameters } from "../png";
import { recallBox, recallPatch, recallSettings, recipeForDownload } from "../recipe";
import { engineGrid, settled, withError, type AppState, type Patch } from "../state";
import type { Deps, Services } from "./types";
import { pictureSources } from "./uploads";

/** What a Retouch PNG's recipe offers for recall (its settings and box), or null. */
function recallOffer(texts: Record<string, string>, name: string): AppState["recall"] {
  if (!texts.retouch) return null;
  try {
    const recipe = JSON.parse(texts.retouch) as Record<string, unknown>;
    const settings = recallSettings(recipe);
    if (!Object.keys(settings).length) return null;
    const box = recallBox(recipe);
    return box ? { name, settings, box } : { name, settings };
  } catch {
    return null; // not a recipe after all: nothing to offer
  }
}

const megapixels = (n: number) => `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)} MP`;

/** The size to open `size` at: itself within the server's pixel limit; over it, the user chooses to scale it
 * down (the largest size within the limit) or not to open it (null). */
async function sizeWithinLimits(deps: Deps, name: string, size: PictureSize): Promise<PictureSize | null> {
  const limits = deps.store.state.limits;
  const pixels = size.width * size.height;
  if (!limits || pixels <= limits.max_pixels) return size;
  const fitted = fitPixels(size, limits.max_pixels);
  const question =
    `${name} is ${size.width}×${size.height} (${megapixels(pixels)}); this server takes pictures up to ` +
    `${megapixels(limits.max_pixels)} (${limits.max_pixels} pixels). Open it scaled down to ${fitted.width}×${fitted.height}?`;
  const answer = await deps.ask(question, [{ value: "scale", label: `Open at ${fitted.width}×${fitted.height}` }]);
  if (answer === "scale") return fitted;
  const { store } = deps;
  store.apply(
    withError(store.state, `${name} was not opened: it has ${pixels} pixels, over this server's limit of ${limits.max_pixels} (${megapixels(limits.max_pixels)}).`, false, "open"),
  );
  return null;
}

/** Formats whose pixels the server decodes exactly as the browser does (8-bit PNG): such a file is uploaded as
 * it is. Others (JPEG decoders may differ in the last bit, 16-bit PNGs round differently) are encoded here. */
async function uploadsAsItIs(file: Blob, size: PictureSize, limits: LimitsPublic | null): Promise<boolean> {
  if (limits && file.size > limits.max_upload_bytes) return false;
  const head = new Uint8Array(await file.slice(0, 33).arrayBuffer());
  const png = head[0] === 0x89 && head[1] === 0x50 && head[2] === 0x4e && head[3] === 0x47;
  return png && head[24] <= 8 && pictureSize(head)?.width === size.width;
}

/** Open a picture file: decode it here (exact pixels, no colour conversion) and make it a new document; the
 * one open before stays among the recent documents, as it was. A picture over the server's pixel limit is
 * refused or, if the user says so, scaled down. A Retouch PNG over an open picture asks first: recall its
 * settings, or open it as a picture. */
export async function openPicture(deps: Deps, file: Blob, name: string): Promise<boolean> {
  const { store, layers, history } = deps;
  const meta = await readMeta(file);
  const title = name.replace(/\.[^.]+$/, "") || "picture";
  const recall = recallOffer(meta.texts, title);
  const open = store.state.picture;
  if (recall && open) {
    // a Retouch PNG over an open picture: dropped for its settings, or to work on?
    const engine = recall.settings.engine ? ` with ${recall.settings.engine}` : "";
    const answer = await deps.ask(
      `${name} was made${engine} in Retouch. Recall its settings${recall.box ? " and box" : ""} into "${open.name}", or open it as a picture (in place of "${open.name}")?`,
      [
        { value: "recall", label: "Recall settings" },
        { value: "open", label: "Open as picture" },
      ],
    );
    if (answer === "recall") store.apply(recallPatch(store.state, recall));
    if (answer !== "open") return false;
  }
  // the size the file declares, read before decoding it (JPEG's frame header may follow a large EXIF block)
  const declared = pictureSize(new Uint8Array(await file.slice(0, 256 * 1024).arrayBuffer()));
  const wanted = declared ? await sizeWithinLimits(deps, name, declared) : null;
  if (declared && !wanted) return false;
  const scaled = declared !== null && wanted !== null && wanted.width * wanted.height < declared.width * declared.height;
  let bitmap: ImageBitmap;
  try {
    const options: ImageBitmapOptions = { colorSpaceConversion: "none", premultiplyAlpha: "none", imageOrientation: "from-image" };
    bitmap = await createImageBitmap(file, scaled ? { ...options, resizeWidth: wanted.width, resizeHeight: wanted.height, resizeQuality: "high" } : options);
  } catch {
    store.apply(withError(store.state, `Could not open ${name}: this browser cannot read it as a picture.`, false, "open"));
    return false;
  }
  if (!declared) {
    // a format whose size is read only by decoding it: checked now
    const size = await sizeWithinLimits(deps, name, { width: bitmap.width, height: bitmap.height });
    if (!size) {
      bitmap.close();
      return false;
    }
    if (size.width !== bitmap.width) {
      const smaller = await createImageBitmap(bitmap, { resizeWidth: size.width, resizeHeight: size.height, resizeQuality: "high" });
      bitmap.close();
      bitmap = smaller;
    }
  }
  // (a picture turned by its EXIF orientation is sent as decoded here: the server turns it too, but
  // keeping to one rule is simpler than proving both turn it alike)
  const upright = declared !== null && bitmap.width === declared.width && bitmap.height === declared.height;
  const asItIs = !scaled && upright && (await uploadsAsItIs(file, declared, store.state.limits));
  // the open document is kept as it is (written in full) before the new one takes its place
  let id: string;
  try {
    id = await deps.keepDocument();
  } catch (error) {
    bitmap.close();
    store.apply(withError(store.state, `${name} was not opened: the open document could not be kept: ${describeError(error)}`, false, "open"));
    return false;
  }
  layers.load(bitmap);
  bitmap.close();
  history.clear();
  deps.meta.current = { ...meta, texts: {} };
  const version = (store.state.picture?.version ?? 0) + 1;
  deps.opened.current = asItIs ? { file, pictureVersion: version } : null;
  const s = store.state;
  const bounds = layers.pictureBounds();
  store.apply({
    ...settled(s, "open"), // a picture opened: what an earlier try said about opening is over
    picture: { bounds, name: title, version, id },
    mask: { ...s.mask, version: s.mask.version + 1 },
    paint: { ...s.paint, version: s.paint.version + 1 },
    bbox: defaultBox(bounds, engineGrid(s)),
    viewport: fitRect(bounds, s.screen.width, s.screen.height, 1),
    staging: { items: [], index: 0 },
    activeJob: null,
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
        // the boxes in the downloaded picture's pixels (it may have grown left or up since)
        const origin = layers.pictureBounds();
        const recipes = (history.recipes() as Record<string, unknown>[]).map((r) => recipeForDownload(r, origin));
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
