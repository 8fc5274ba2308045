// The page's side of the encoding worker: snapshot canvases (or a rectangle of them) as ImageBitmaps,
// send them over, get PNG bytes back.

import { intersect, type Rect } from "./geometry";
import type { PngExtras } from "./png";
import type { FilledRegion } from "./seams";

export interface EncodeLayer {
  bitmap: ImageBitmap;
  opacity: number;
}

export interface EncodeRequest {
  kind: "encode";
  id: number;
  width: number;
  height: number;
  /** 4: RGBA picture (layers drawn in order); 1: a mask, the alpha of the layers as grey. */
  channels: 1 | 4;
  layers: EncodeLayer[];
  extras?: PngExtras;
}

/** A saved grey mask (PNG) back as the mask layer's pixels: the tint with the grey as alpha. */
export interface MaskLayerRequest {
  kind: "mask-layer";
  id: number;
  png: Blob;
  tint: [number, number, number];
}

/** What a fill of `box` fills (`seams.filledRegion`), worked out from snapshots of the mask (over `painted`,
 * the box inside the picture) and the picture (over `area`). */
export interface RegionRequest {
  kind: "region";
  id: number;
  area: Rect;
  painted: Rect | null;
  box: Rect;
  grow: number;
  mask: ImageBitmap | null;
  picture: ImageBitmap;
}

/** Accepting a result: the box before it (and the paint there), the result; what undo keeps comes back. */
export interface AcceptRequest {
  kind: "accept";
  id: number;
  width: number;
  height: number;
  before: ImageBitmap;
  result: ImageBitmap;
  paint: ImageBitmap | null;
  /** The mask over the part of the box inside the picture (accepting clears it there). */
  mask: ImageBitmap | null;
  /** Only the pixels the result changed are kept (the box lies inside the picture); else all of them. */
  crop: boolean;
}

/** What undo keeps of an accepted result: the pixels it changed (`rect` inside the box) as they were, and
 * the paint that was under the box. */
export interface AcceptUndo {
  rect: Rect;
  before: Uint8ClampedArray<ArrayBuffer>;
  paint: Uint8ClampedArray<ArrayBuffer> | null;
  /** The mask as it was where accepting clears it (packed alpha), or null where there was none. */
  mask: Uint8Array<ArrayBuffer> | null;
}

export type WorkerRequest = EncodeRequest | MaskLayerRequest | RegionRequest | AcceptRequest;

export type EncodeReply =
  | { id: number; bytes: Uint8Array<ArrayBuffer>; empty: boolean }
  | { id: number; bitmap: ImageBitmap }
  | { id: number; region: FilledRegion | null }
  | { id: number; undo: AcceptUndo }
  | { id: number; error: string };

export interface Encoded {
  bytes: Uint8Array<ArrayBuffer>;
  /** For masks: nothing is selected. */
  empty: boolean;
}

export interface Source {
  canvas: HTMLCanvasElement;
  /** Where the canvas lies in document coordinates. */
  bounds: Rect;
  opacity?: number;
}

type Reply = Encoded | ImageBitmap | FilledRegion | AcceptUndo | null;

export class Encoder {
  private worker: Worker | null = null;
  private next = 1;
  private waiting = new Map<number, { resolve: (e: Reply) => void; reject: (e: Error) => void }>();

  private get thread(): Worker {
    if (!this.worker) {
      this.worker = new Worker(new URL("./workers/encode.worker.ts", import.meta.url), { type: "module" });
      this.worker.onmessage = (event: MessageEvent<EncodeReply>) => {
        const reply = event.data;
        const waiter = this.waiting.get(reply.id);
        this.waiting.delete(reply.id);
        if (!waiter) return;
        if ("error" in reply) waiter.reject(new Error(`Encoding failed: ${reply.error}`));
        else if ("bitmap" in reply) waiter.resolve(reply.bitmap);
        else if ("region" in reply) waiter.resolve(reply.region);
        else if ("undo" in reply) waiter.resolve(reply.undo);
        else waiter.resolve({ bytes: reply.bytes, empty: reply.empty });
      };
    }
    return this.worker;
  }

  /** The document rectangle `rect` of `sources` (drawn in order) as a PNG; pixels outside them are
   * transparent. Only taking the snapshots happens on this thread. */
  async encode(sources: Source[], rect: Rect, channels: 1 | 4, extras?: PngExtras): Promise<Encoded> {
    const layers = await Promise.all(
      sources.map(async (s) => ({
        bitmap: await createImageBitmap(s.canvas, rect.x - s.bounds.x, rect.y - s.bounds.y, rect.width, rect.height),
        opacity: s.opacity ?? 1,
      })),
    );
    const id = this.next++;
    const request: EncodeRequest = { kind: "encode", id, width: rect.width, height: rect.height, channels, layers, extras };
    return new Promise<Encoded>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (e: Reply) => void, reject });
      this.thread.postMessage(request, layers.map((l) => l.bitmap));
    });
  }

  /** What a fill of `box` fills (see `seams.filledRegion`): the mask inside the box and the pixels without
   * content, grown by `grow`, over `area`. The layers are snapshotted now, on this thread (call it before
   * they change); reading and growing them happens in the worker. */
  async region(mask: Source, picture: Source, area: Rect, box: Rect, grow: number): Promise<FilledRegion | null> {
    const painted = intersect(box, mask.bounds);
    const snapshot = (s: Source, r: Rect) => createImageBitmap(s.canvas, r.x - s.bounds.x, r.y - s.bounds.y, r.width, r.height);
    const [maskBitmap, pictureBitmap] = await Promise.all([painted ? snapshot(mask, painted) : null, snapshot(picture, area)]);
    const id = this.next++;
    const request: RegionRequest = { kind: "region", id, area, painted, box, grow, mask: maskBitmap, picture: pictureBitmap };
    return new Promise<FilledRegion | null>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (e: Reply) => void, reject });
      this.thread.postMessage(request, maskBitmap ? [maskBitmap, pictureBitmap] : [pictureBitmap]);
    });
  }

  /** What undo keeps of a result accepted into `box`: the picture's pixels there (and the paint, when
   * `paint` is given) are snapshotted now, on this thread, before the result is merged; reading them and
   * finding what the result changed (a whole 4096² box is 64 MB to compare) happens in the worker. */
  async acceptUndo(picture: Source, paint: Source | null, mask: { source: Source; rect: Rect } | null, box: Rect, result: ImageBitmap,
    crop: boolean): Promise<AcceptUndo> {
    const snapshot = (s: Source, r: Rect) => createImageBitmap(s.canvas, r.x - s.bounds.x, r.y - s.bounds.y, r.width, r.height);
    const [before, paintBitmap, maskBitmap, copy] = await Promise.all([
      snapshot(picture, box),
      paint ? snapshot(paint, box) : null,
      mask ? snapshot(mask.source, mask.rect) : null,
      createImageBitmap(result),
    ]);
    const id = this.next++;
    const request: AcceptRequest = { kind: "accept", id, width: box.width, height: box.height, before, result: copy, paint: paintBitmap, mask: maskBitmap, crop };
    const moved: Transferable[] = [before, copy, ...(paintBitmap ? [paintBitmap] : []), ...(maskBitmap ? [maskBitmap] : [])];
    return new Promise<AcceptUndo>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (e: Reply) => void, reject });
      this.thread.postMessage(request, moved);
    });
  }

  /** A grey mask PNG (as `encode(..., 1)` writes) decoded into the mask layer's tint and alpha. */
  maskLayer(png: Blob, tint: [number, number, number]): Promise<ImageBitmap> {
    const id = this.next++;
    const request: MaskLayerRequest = { kind: "mask-layer", id, png, tint };
    return new Promise<ImageBitmap>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (e: Reply) => void, reject });
      this.thread.postMessage(request);
    });
  }
}
