// The results of staged jobs, fetched and decoded as they arrive.

import { describeError } from "../api/client";
import { readRecipe } from "../png";
import { withError, type AppState, type StagedResult } from "../state";
import type { Deps } from "./types";

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
      const items = s.staging.items.map((i) => (i.jobId === item.jobId ? { ...i, recipe, ready: true } : i));
      // the newest result shows as it is ready (the staging bar counts what can be shown)
      const position = items.findIndex((i) => i.jobId === item.jobId);
      const newest = position === items.length - 1 && item.ready === false;
      store.apply({ staging: { items, index: newest ? position : s.staging.index } });
      scheduler.invalidateAll();
      return bitmap;
    } catch (error) {
      store.apply(withError(store.state, `Could not load the result of job ${item.jobId}: ${describeError(error)}`));
      return null;
    }
  }
}
