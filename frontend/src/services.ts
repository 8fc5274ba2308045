// Side effects behind the actions: talking to the server, merging results, opening and saving files.

import type { Services } from "./actions";
import { historyFlags } from "./actions/mask";
import { Api, describeError } from "./api/client";
import type { JobSocket } from "./api/socket";
import { contains, defaultBox, fitRect, type Rect } from "./geometry";
import { changedBounds, cropRgba, packRegion, type History } from "./history";
import type { Layers } from "./layers";
import { buildJob, newJob } from "./jobs";
import { encodePng, readText, withText } from "./png";
import type { FrameScheduler } from "./render/scheduler";
import { currentEngine, currentStaged, engineGrid, withError, type AppState, type Patch, type Store } from "./state";

export interface Deps {
  store: Store;
  api: Api;
  socket: JobSocket;
  layers: Layers;
  history: History;
  scheduler: FrameScheduler;
  openDialog: () => void;
}

/** Decoded results of staged jobs, by image id; released when no longer staged. */
export class ResultCache {
  private bitmaps = new Map<string, ImageBitmap>();
  private loading = new Map<string, Promise<ImageBitmap | null>>();

  constructor(private readonly deps: Deps) {}

  get(imageId: string): ImageBitmap | undefined {
    return this.bitmaps.get(imageId);
  }

  /** The decoded result, waiting for it if it is still on its way. */
  ready(jobId: string, imageId: string): Promise<ImageBitmap | null> {
    const loaded = this.bitmaps.get(imageId);
    if (loaded) return Promise.resolve(loaded);
    return this.loading.get(imageId) ?? this.start(jobId, imageId);
  }

  /** Fetch and decode what is staged and not loaded yet; drop what is not staged any more. */
  sync(state: AppState): void {
    const wanted = new Set(state.staging.items.map((s) => s.imageId));
    for (const [id, bitmap] of this.bitmaps) {
      if (!wanted.has(id)) {
        bitmap.close();
        this.bitmaps.delete(id);
      }
    }
    for (const item of state.staging.items) {
      if (!this.bitmaps.has(item.imageId) && !this.loading.has(item.imageId)) void this.start(item.jobId, item.imageId);
    }
  }

  private start(jobId: string, imageId: string): Promise<ImageBitmap | null> {
    const promise = this.load(jobId, imageId).finally(() => this.loading.delete(imageId));
    this.loading.set(imageId, promise);
    return promise;
  }

  private async load(jobId: string, imageId: string): Promise<ImageBitmap | null> {
    const { api, store, scheduler } = this.deps;
    try {
      const blob = await api.imageBlob(imageId);
      const bitmap = await createImageBitmap(blob, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
      let recipe: unknown = null;
      try {
        const text = readText(new Uint8Array(await blob.arrayBuffer())).retouch;
        recipe = text ? JSON.parse(text) : null;
      } catch {
        recipe = null;
      }
      const s = store.state;
      if (!s.staging.items.some((i) => i.imageId === imageId)) {
        bitmap.close(); // discarded while loading
        return null;
      }
      this.bitmaps.set(imageId, bitmap);
      store.apply({
        staging: { ...s.staging, items: s.staging.items.map((i) => (i.jobId === jobId ? { ...i, recipe } : i)) },
      });
      scheduler.invalidateAll();
      return bitmap;
    } catch (error) {
      store.apply(withError(store.state, `Could not load the result of job ${jobId}: ${describeError(error)}`));
      return null;
    }
  }
}

/** Open a picture file: decode it here (exact pixels, no colour conversion) and make it the document. */
export async function openPicture(deps: Deps, file: Blob, name: string): Promise<void> {
  const { store, layers, history } = deps;
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { colorSpaceConversion: "none", premultiplyAlpha: "none", imageOrientation: "from-image" });
  } catch {
    store.apply(withError(store.state, `Could not open ${name}: this browser cannot read it as a picture.`));
    return;
  }
  layers.load(bitmap);
  bitmap.close();
  history.clear();
  const s = store.state;
  const bounds = layers.pictureBounds();
  store.apply({
    picture: { bounds, name: name.replace(/\.[^.]+$/, "") || "picture", version: (s.picture?.version ?? 0) + 1 },
    mask: { ...s.mask, version: s.mask.version + 1 },
    bbox: defaultBox(bounds, engineGrid(s)),
    viewport: fitRect(bounds, s.screen.width, s.screen.height, 1),
    staging: { items: [], index: 0 },
    activeJob: null,
    history: { canUndo: false, canRedo: false },
  });
}

function sameBounds(a: Rect, b: Rect): boolean {
  return contains(a, b) && contains(b, a);
}

function integerBox(r: Rect): Rect {
  return { x: Math.round(r.x), y: Math.round(r.y), width: Math.max(1, Math.round(r.width)), height: Math.max(1, Math.round(r.height)) };
}

export function makeServices(deps: Deps, results: ResultCache): Services {
  const { store, api, socket, layers, history } = deps;

  return {
    async invoke(state: AppState): Promise<Patch | null> {
      if (!state.picture) return withError(state, "Open a picture first.");
      const box = integerBox(state.bbox);
      const engine = currentEngine(state);
      try {
        const [imagePng, maskPng] = await Promise.all([
          encodePng(layers.readPicture(box), box.width, box.height, 4),
          encodePng(layers.maskGrey(box), box.width, box.height, 1),
        ]);
        const [imageBlob, maskBlob] = [new Blob([imagePng], { type: "image/png" }), new Blob([maskPng], { type: "image/png" })];
        const [image, mask] = await Promise.all([
          api.uploadImage(imageBlob, `${state.picture.name}-crop.png`),
          api.uploadImage(maskBlob, `${state.picture.name}-mask.png`),
        ]);
        const accepted = await api.createJob(buildJob(state.settings, engine, image.id, mask.id));
        const s = store.state;
        // known to the page before any event about it can arrive
        store.apply({
          jobs: { ...s.jobs, [accepted.id]: newJob(accepted.id, state.settings.engine, box, accepted.position ?? null) },
          jobOrder: [accepted.id, ...s.jobOrder.filter((id) => id !== accepted.id)],
          activeJob: accepted.id,
        });
        socket.subscribe([accepted.id]);
        return null;
      } catch (error) {
        return withError(store.state, `Invoke failed: ${describeError(error)}`);
      }
    },

    async accept(state: AppState): Promise<Patch | null> {
      const staged = currentStaged(state);
      if (!staged || !state.picture) return null;
      const bitmap = await results.ready(staged.jobId, staged.imageId);
      const now = store.state;
      // the result on show must still be the one asked for (a second Enter, a discard meanwhile)
      if (!bitmap || !now.picture || currentStaged(now)?.jobId !== staged.jobId) return null;
      const recipe = now.staging.items.find((i) => i.jobId === staged.jobId)?.recipe;
      const box = staged.box;
      const bounds = layers.pictureBounds();
      let rect = box;
      let rgba = layers.readPicture(box);
      layers.merge(box, bitmap);
      if (sameBounds(bounds, layers.pictureBounds())) {
        // undo keeps only the pixels the result changed (inside the feathered mask), not the whole box
        const changed = changedBounds(rgba, layers.readPicture(box), box.width, box.height);
        if (changed) {
          rgba = cropRgba(rgba, box.width, changed);
          rect = { x: box.x + changed.x, y: box.y + changed.y, width: changed.width, height: changed.height };
        }
      }
      history.push({ kind: "picture", label: "Accept result", rect, bounds, rgba, recipe: recipe ?? undefined });
      return {
        picture: { ...now.picture, bounds: layers.pictureBounds(), version: now.picture.version + 1 },
        mask: { ...now.mask, version: now.mask.version + 1 },
        staging: { items: [], index: 0 },
        activeJob: null,
        history: historyFlags({ history }),
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
        let bytes = await layers.toPng();
        const recipes = history.recipes();
        if (recipes.length) {
          const last = recipes[recipes.length - 1] as Record<string, unknown>;
          bytes = withText(bytes, "retouch", JSON.stringify({ ...last, canvas_history: recipes }));
        }
        const url = URL.createObjectURL(new Blob([bytes], { type: "image/png" }));
        const link = document.createElement("a");
        link.href = url;
        link.download = `${state.picture.name}-retouch.png`;
        document.body.appendChild(link);
        link.click();
        link.remove();
        setTimeout(() => URL.revokeObjectURL(url), 60_000);
        return null;
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
  };
}
