// Background uploads: what the server needs for the next job, sent as soon as it changes, so that Invoke
// finds it there.

import type { Source } from "../encoder";
import type { Rect } from "../geometry";
import type { Layers } from "../layers";
import { describeError } from "../api/client";
import { withError, type AppState } from "../state";
import type { Deps } from "./types";

/** What the paint layer adds to the picture a job sees (and a download holds). */
export function pictureSources(state: AppState, layers: Layers): Source[] {
  const bounds = layers.pictureBounds();
  const sources: Source[] = [{ canvas: layers.picture, bounds }];
  if (layers.paint && state.paint.visible) sources.push({ canvas: layers.paint, bounds });
  return sources;
}

/**
 * Something the server needs for the next job, uploaded in the background as soon as it changes, so that
 * Invoke finds it there: the picture (with its paint) and the mask inside the box. Keyed by what changes its
 * pixels. Coalesced: never two in flight from the background; changes meanwhile are sent once it is done
 * (the latest content only). Asking for the current one starts it at once if it is not on its way.
 * A background upload that fails says so, naming what it was for, while that is still what is open.
 */
export class BackgroundUpload<T> {
  private key = "";
  private upload: Promise<T> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private busy = false;
  /** Content whose background upload failed: not tried again from the background until it changes (an
   * invoke asks for it again, and says why if it fails again). */
  private failed = "";

  constructor(
    private readonly deps: Deps,
    /** What identifies the content ("" = nothing to upload). */
    private readonly keyOf: (state: AppState) => string,
    private readonly make: (state: AppState) => Promise<T>,
    /** What it is, for a message: `the mask of "beach"`. */
    private readonly what: (state: AppState) => string,
    /** How long to wait after a change before sending (a burst of changes is sent once). */
    private readonly pause = 0,
  ) {}

  /** Call on every state change: changed content is uploaded again (after `pause`, one at a time). */
  changed(state: AppState): void {
    const key = this.keyOf(state);
    if (!key || key === this.key || key === this.failed || this.timer) return; // a timer set takes the latest state when it fires
    this.timer = setTimeout(() => this.fire(), this.pause);
  }

  private fire(): void {
    this.timer = null;
    if (this.busy) return; // sent again when the one in flight is done
    const { store } = this.deps;
    const state = store.state;
    const key = this.keyOf(state);
    if (!key || key === this.key || key === this.failed) return;
    this.busy = true;
    this.current(state)
      .catch((error: unknown) => {
        this.failed = key;
        // said where it happened: only while what failed is what is open (not over another picture later)
        if (this.keyOf(store.state) === key) {
          store.apply(withError(store.state, `Could not send ${this.what(state)} to the server: ${describeError(error)}`));
        }
      })
      .finally(() => {
        this.busy = false;
        this.changed(store.state);
      });
  }

  /** The upload of the content as it is now, started if needed. */
  current(state: AppState): Promise<T> {
    const key = this.keyOf(state);
    if (this.upload && key === this.key) return this.upload;
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
    async (s) => {
      const name = `${s.picture?.name ?? "picture"}.png`;
      const opened = deps.opened.current;
      // the file as it was opened, while the picture is still its pixels and nothing is painted over it
      if (opened && opened.pictureVersion === s.picture?.version && (!layers.paint || !s.paint.visible)) {
        return (await api.uploadImage(opened.file, name)).id;
      }
      // with the photo's EXIF and ICC, so results made from it carry them too
      const { exif, icc } = deps.meta.current;
      const png = await encoder.encode(pictureSources(s, layers), layers.pictureBounds(), 4, { exif, icc });
      return (await api.uploadImage(new Blob([png.bytes], { type: "image/png" }), name)).id;
    },
    (s) => `the picture "${s.picture?.name ?? ""}"`,
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
    (s) => `the mask of "${s.picture?.name ?? ""}"`,
    // strokes come in bursts: sent a moment after one ends, and while painting goes on, one at a time
    250,
  );
}

export function integerBox(r: Rect): Rect {
  return { x: Math.round(r.x), y: Math.round(r.y), width: Math.max(1, Math.round(r.width)), height: Math.max(1, Math.round(r.height)) };
}
