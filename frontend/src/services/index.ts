// Side effects behind the actions: talking to the server, merging results, opening and saving files.

import { describeError } from "../api/client";
import type { Encoder, Source } from "../encoder";
import { contains, defaultBox, fitRect, inflate, intersect, type Rect } from "../geometry";
import { changedBounds, cropRgba, packRegion } from "../history";
import { buildJob, newJob, withNewJob } from "../jobs";
import type { Layers } from "../layers";
import { NO_META, readMeta } from "../metadata";
import { a1111Parameters, readRecipe } from "../png";
import { recallSettings } from "../recipe";
import { regionMask, regionOf, seamEngines, type FilledRegion } from "../seams";
import type { Deps, Services } from "./types";
import { currentEngine, currentStaged, engineGrid, withError, type AppState, type Patch, type StagedResult } from "../state";

/** What the paint layer adds to the picture a job sees (and a download holds). */
export function pictureSources(state: AppState, layers: Layers): Source[] {
  const bounds = layers.pictureBounds();
  const sources: Source[] = [{ canvas: layers.picture, bounds }];
  if (layers.paint && state.paint.visible) sources.push({ canvas: layers.paint, bounds });
  return sources;
}

/**
 * Something the server needs for the next job, uploaded in the background as soon as it changes (after a
 * short pause), so that Invoke finds it there: the picture (with its paint) and the mask inside the box.
 * Keyed by what changes its pixels; asking for the current one starts it at once if it is not on its way.
 */
export class BackgroundUpload<T> {
  private key = "";
  private upload: Promise<T> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly deps: Deps,
    /** What identifies the content ("" = nothing to upload). */
    private readonly keyOf: (state: AppState) => string,
    private readonly make: (state: AppState) => Promise<T>,
    private readonly pause = 400,
  ) {}

  /** Call on every state change: changed content is uploaded again after a short pause. */
  changed(state: AppState): void {
    const key = this.keyOf(state);
    if (!key || key === this.key) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.current(this.deps.store.state).catch(() => undefined);
    }, this.pause);
  }

  /** The upload of the content as it is now, started if needed. */
  current(state: AppState): Promise<T> {
    const key = this.keyOf(state);
    if (this.upload && key === this.key) return this.upload;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.key = key;
    const upload = this.make(state);
    upload.catch(() => {
      if (this.upload === upload) this.key = ""; // try again next time
    });
    this.upload = upload;
    return upload;
  }
}

export type PictureUploads = BackgroundUpload<string>;
/** The mask inside the box on the server (null when nothing is selected there: nothing is sent). */
export type MaskUploads = BackgroundUpload<string | null>;

const boxKey = (b: Rect) => `${b.x},${b.y},${b.width}x${b.height}`;

export function pictureUploads(deps: Deps): PictureUploads {
  const { encoder, layers, api } = deps;
  return new BackgroundUpload(
    deps,
    (s) => (s.picture ? `${s.picture.version}:${boxKey(s.picture.bounds)}:${s.paint.version}:${s.paint.visible}` : ""),
    (s) =>
      encoder
        // with the photo's EXIF and ICC, so results made from it carry them too
        .encode(pictureSources(s, layers), layers.pictureBounds(), 4, { exif: deps.meta.current.exif, icc: deps.meta.current.icc })
        .then((png) => api.uploadImage(new Blob([png.bytes], { type: "image/png" }), `${s.picture?.name ?? "picture"}.png`))
        .then((image) => image.id),
  );
}

export function maskUploads(deps: Deps): MaskUploads {
  const { encoder, layers, api } = deps;
  return new BackgroundUpload(
    deps,
    (s) => (s.picture ? `${s.picture.version}:${s.mask.version}:${s.edits}:${boxKey(integerBox(s.bbox))}` : ""),
    async (s) => {
      const mask = await encoder.encode([{ canvas: layers.mask, bounds: layers.pictureBounds() }], integerBox(s.bbox), 1);
      if (mask.empty) return null;
      const image = await api.uploadImage(new Blob([mask.bytes], { type: "image/png" }), `${s.picture?.name ?? "picture"}-mask.png`);
      return image.id;
    },
    // strokes come in bursts: wait for a pause, the server stores each mask it is sent
    700,
  );
}

/** Decoded results of staged jobs (the part covering their box), by image id; released when no longer staged. */
export class ResultCache {
  private bitmaps = new Map<string, ImageBitmap>();
  private loading = new Map<string, Promise<ImageBitmap | null>>();

  constructor(private readonly deps: Deps) {}

  private static key(item: Pick<StagedResult, "imageId" | "source">): string {
    const s = item.source;
    return `${item.imageId}@${s.x},${s.y},${s.width},${s.height}`;
  }

  get(item: StagedResult): ImageBitmap | undefined {
    return this.bitmaps.get(ResultCache.key(item));
  }

  /** The decoded result, waiting for it if it is still on its way. */
  ready(item: StagedResult): Promise<ImageBitmap | null> {
    const key = ResultCache.key(item);
    const loaded = this.bitmaps.get(key);
    if (loaded) return Promise.resolve(loaded);
    return this.loading.get(key) ?? this.start(item);
  }

  /** Fetch and decode what is staged and not loaded yet; drop what is not staged any more. */
  sync(state: AppState): void {
    const wanted = new Set(state.staging.items.map((item) => ResultCache.key(item)));
    for (const [key, bitmap] of this.bitmaps) {
      if (!wanted.has(key)) {
        bitmap.close();
        this.bitmaps.delete(key);
      }
    }
    for (const item of state.staging.items) {
      const key = ResultCache.key(item);
      if (!this.bitmaps.has(key) && !this.loading.has(key)) void this.start(item);
    }
  }

  private start(item: StagedResult): Promise<ImageBitmap | null> {
    const key = ResultCache.key(item);
    const promise = this.load(item, key).finally(() => this.loading.delete(key));
    this.loading.set(key, promise);
    return promise;
  }

  private async load(item: StagedResult, key: string): Promise<ImageBitmap | null> {
    const { api, store, scheduler } = this.deps;
    try {
      const blob = await api.imageBlob(item.imageId);
      const { x, y, width, height } = item.source;
      // decoded off the main thread; only the part covering the box is kept
      const bitmap = await createImageBitmap(blob, x, y, width, height, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
      const recipe = readRecipe(new Uint8Array(await blob.arrayBuffer()));
      const s = store.state;
      if (!s.staging.items.some((i) => ResultCache.key(i) === key)) {
        bitmap.close(); // discarded while loading
        return null;
      }
      this.bitmaps.set(key, bitmap);
      store.apply({
        staging: { ...s.staging, items: s.staging.items.map((i) => (i.jobId === item.jobId ? { ...i, recipe } : i)) },
      });
      scheduler.invalidateAll();
      return bitmap;
    } catch (error) {
      store.apply(withError(store.state, `Could not load the result of job ${item.jobId}: ${describeError(error)}`));
      return null;
    }
  }
}

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

/** What a fill of `box` fills (see `seams.filledRegion`): the mask inside the box and the pixels without
 * content, grown by `grow`. Inside the picture, empty pixels up to `grow` outside the box grow into it too.
 * The layers are snapshotted at the call; the work (whole-picture reads at 4096²) runs in the worker. */
function fillRegion(encoder: Encoder, layers: Layers, box: Rect, inside: boolean, grow: number): Promise<FilledRegion | null> {
  const bounds = layers.pictureBounds();
  const area = inside ? (intersect(inflate(box, grow), bounds) ?? box) : box;
  return encoder.region({ canvas: layers.mask, bounds }, { canvas: layers.picture, bounds }, area, box, grow);
}

function sameBounds(a: Rect, b: Rect): boolean {
  return contains(a, b) && contains(b, a);
}

function integerBox(r: Rect): Rect {
  return { x: Math.round(r.x), y: Math.round(r.y), width: Math.max(1, Math.round(r.width)), height: Math.max(1, Math.round(r.height)) };
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

export function makeServices(deps: Deps, results: ResultCache, uploads: { picture: PictureUploads; mask: MaskUploads }): Services {
  const { store, api, socket, layers, history, encoder } = deps;
  /** The regions of fills just sent, while the worker still works them out (by job id). */
  const pendingRegions = new Map<string, Promise<FilledRegion | null>>();

  async function submit(state: AppState): Promise<Patch | null> {
    if (!state.picture) return withError(state, "Open a picture first.");
    const box = integerBox(state.bbox);
    const bounds = layers.pictureBounds();
    const engine = currentEngine(state);
    const inside = contains(bounds, box);
    performance.mark("invoke:start");
    // usually already on the server: uploaded in the background after the last stroke
    const maskId = await uploads.mask.current(state);
    // checked here, before the job is sent: inside the picture there is nothing to fill
    if (maskId === null && inside) {
      return withError(store.state, "Nothing to fill: paint over what should change (B), or move the box past the picture's edge to outpaint.");
    }
    let body;
    let source: Rect;
    if (inside) {
      // the picture is already on the server (or on its way): name it with the box
      const image = await uploads.picture.current(state);
      const bbox = { x: box.x - bounds.x, y: box.y - bounds.y, width: box.width, height: box.height };
      body = { ...buildJob(state.settings, engine, image, maskId!, false), bbox };
      source = bbox;
    } else {
      // outpainting: the box reaches past the picture, so its crop (with empty pixels) goes up
      const crop = await encoder.encode(pictureSources(state, layers), box, 4);
      const image = await api.uploadImage(new Blob([crop.bytes], { type: "image/png" }), `${state.picture.name}-crop.png`);
      body = buildJob(state.settings, engine, image.id, maskId ?? undefined, true);
      source = { x: 0, y: 0, width: box.width, height: box.height };
    }
    // what it fills, as the server will: kept with the result for "Repair seams" and the boundary highlight
    // (the layers as they are now, worked out off this thread while the job is sent)
    const filling = fillRegion(encoder, layers, box, inside, state.settings.grow);
    performance.mark("invoke:send");
    const accepted = await api.createJob(body);
    performance.mark("invoke:queued");
    const job = newJob(accepted.id, state.settings.engine, box, accepted.position ?? null, source);
    pendingRegions.set(accepted.id, filling);
    void filling.then(
      (filled) => {
        const now = store.state.jobs[accepted.id];
        if (filled && now) store.apply({ jobs: { ...store.state.jobs, [accepted.id]: { ...now, filled } } });
      },
      () => undefined, // no region: "Repair seams" says there is no fill to repair
    ).finally(() => pendingRegions.delete(accepted.id));
    store.apply(withNewJob(store.state, job));
    socket.subscribe([accepted.id]);
    return null;
  }

  /** A `seams` job over the picture as it is now: along the edge of what the last accepted result filled,
   * or (`painted`) along the middle of the mask painted over a seam. Its result is staged like a fill's. */
  async function submitSeams(state: AppState, painted: boolean): Promise<Patch | null> {
    if (!state.picture) return withError(state, "Open a picture first.");
    const bounds = layers.pictureBounds();
    const region = painted ? regionOf(layers.readMask(bounds), bounds, true) : history.lastFilled();
    if (!region) {
      return withError(
        state,
        painted
          ? "Nothing painted: paint over the seam with the mask brush (B), then repair the painted seam."
          : "No fill to repair: accept a fill first; Repair seams works along the edge of the last accepted result.",
      );
    }
    const { seamEngine, seamBand: band, seamPasses: passes, seamTarget: target } = state.settings;
    const engine = seamEngines(state.engines).includes(seamEngine) ? seamEngine : "poisson";
    // only the band around the region (and the region itself) may change: the result is staged there
    const box = intersect(region.painted ? region.rect : inflate(region.rect, band + 1), bounds);
    if (!box) return withError(state, "The region to repair lies outside the picture now.");
    const [image, mask] = await Promise.all([uploads.picture.current(state), uploadRegion(region, bounds, state.picture.name)]);
    const body = {
      kind: "seams" as const,
      image,
      mask,
      engine,
      band,
      passes,
      target,
      painted: Boolean(region.painted),
      seed: state.settings.seedMode === "fixed" ? state.settings.seed : -1,
    };
    const accepted = await api.createSeamsJob(body);
    const source = { x: box.x - bounds.x, y: box.y - bounds.y, width: box.width, height: box.height };
    // the repair keeps the region: accepted, it can be repaired again
    const job = { ...newJob(accepted.id, `seams · ${engine}`, box, accepted.position ?? null, source), filled: region };
    store.apply(withNewJob(store.state, job));
    socket.subscribe([accepted.id]);
    return null;
  }

  /** The region as a picture-sized grey mask on the server. */
  async function uploadRegion(region: FilledRegion, bounds: Rect, name: string): Promise<string> {
    const alpha = regionMask(region, bounds);
    const canvas = document.createElement("canvas");
    canvas.width = bounds.width;
    canvas.height = bounds.height;
    const ctx = canvas.getContext("2d")!;
    const image = ctx.createImageData(bounds.width, bounds.height);
    for (let i = 0; i < alpha.length; i++) image.data[i * 4 + 3] = alpha[i];
    ctx.putImageData(image, 0, 0);
    const png = await encoder.encode([{ canvas, bounds }], bounds, 1);
    canvas.width = canvas.height = 0;
    return (await api.uploadImage(new Blob([png.bytes], { type: "image/png" }), `${name}-seam.png`)).id;
  }

  return {
    async repairSeams(state: AppState, painted: boolean): Promise<Patch | null> {
      if (state.submitting) return null;
      store.apply({ submitting: true });
      try {
        return await submitSeams(state, painted);
      } catch (error) {
        return withError(store.state, `Repair seams failed: ${describeError(error)}`);
      } finally {
        store.apply({ submitting: false });
      }
    },

    async invoke(state: AppState): Promise<Patch | null> {
      if (state.submitting) return null;
      store.apply({ submitting: true });
      try {
        return await submit(state);
      } catch (error) {
        return withError(store.state, `Invoke failed: ${describeError(error)}`);
      } finally {
        store.apply({ submitting: false });
      }
    },

    async accept(state: AppState): Promise<Patch | null> {
      const staged = currentStaged(state);
      if (!staged || !state.picture) return null;
      const bitmap = await results.ready(staged);
      await pendingRegions.get(staged.jobId)?.catch(() => null); // what it filled, if still being worked out
      const now = store.state;
      // the result on show must still be the one asked for (a second Enter, a discard meanwhile)
      if (!bitmap || !now.picture || currentStaged(now)?.jobId !== staged.jobId) return null;
      const item = now.staging.items.find((i) => i.jobId === staged.jobId);
      const job = now.jobs[staged.jobId];
      // the server's recipe names only what applied to the result (`pipeline.applied`)
      const recipe = item?.recipe;
      const box = staged.box;
      const bounds = layers.pictureBounds();
      let rect = box;
      let rgba = layers.readPicture(box);
      // the result carries the paint that was under it: the paint layer is cleared there
      const paintRect = layers.paint ? intersect(box, bounds) : null;
      const paint = paintRect ? { rect: paintRect, rgba: layers.readPaint(paintRect) } : undefined;
      if (paintRect) layers.clearPaint(paintRect);
      layers.merge(box, bitmap);
      if (sameBounds(bounds, layers.pictureBounds())) {
        // undo keeps only the pixels the result changed (inside the feathered mask), not the whole box
        const changed = changedBounds(rgba, layers.readPicture(box), box.width, box.height);
        if (changed) {
          rgba = cropRgba(rgba, box.width, changed);
          rect = { x: box.x + changed.x, y: box.y + changed.y, width: changed.width, height: changed.height };
        }
      }
      history.push({ kind: "picture", label: "Accept result", rect, bounds, rgba, recipe, paint, filled: job?.filled });
      return {
        picture: { ...now.picture, bounds: layers.pictureBounds(), version: now.picture.version + 1 },
        mask: { ...now.mask, version: now.mask.version + 1 },
        paint: paint ? { ...now.paint, version: now.paint.version + 1 } : now.paint,
        staging: { items: [], index: 0 },
        activeJob: null,
        maskAside: box,
        before: false,
      };
    },

    async cancel(_state: AppState, jobId: string): Promise<Patch | null> {
      try {
        await api.cancelJob(jobId);
        return null; // the job.canceled event updates the queue
      } catch (error) {
        return withError(store.state, `Cancel failed: ${describeError(error)}`);
      }
    },

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

    invertMask(): void {
      layers.invertMask();
      history.push({ kind: "invert-mask", label: "Invert mask" });
    },

    clearMask(): void {
      const all = layers.pictureBounds();
      const before = packRegion(layers, all);
      layers.writeMask(all, new Uint8Array(all.width * all.height));
      history.push({ kind: "mask", label: "Clear mask", regions: [before] });
    },

    clearPaint(): void {
      if (!layers.paint) return;
      const all = layers.pictureBounds();
      const before = { rect: all, rgba: layers.readPaint(all) };
      layers.clearPaint();
      history.push({ kind: "paint", label: "Clear paint", regions: [before] });
    },
  };
}

export { NO_META };
