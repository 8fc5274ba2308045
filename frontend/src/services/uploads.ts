// Background uploads: what the server needs for the next job, sent as soon as it changes, so that Invoke
// finds it there.

import type { Source } from "../encoder";
import type { Rect } from "../geometry";
import type { Layers } from "../layers";
import type { AppState } from "../state";
import type { Deps } from "./types";

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

export function integerBox(r: Rect): Rect {
  return { x: Math.round(r.x), y: Math.round(r.y), width: Math.max(1, Math.round(r.width)), height: Math.max(1, Math.round(r.height)) };
}
