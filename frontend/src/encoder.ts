// The page's side of the encoding worker: snapshot canvases (or a rectangle of them) as ImageBitmaps,
// send them over, get PNG bytes back.

import type { Rect } from "./geometry";
import type { PngExtras } from "./png";

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

export type WorkerRequest = EncodeRequest | MaskLayerRequest;

export type EncodeReply =
  | { id: number; bytes: Uint8Array<ArrayBuffer>; empty: boolean }
  | { id: number; bitmap: ImageBitmap }
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

export class Encoder {
  private worker: Worker | null = null;
  private next = 1;
  private waiting = new Map<number, { resolve: (e: Encoded | ImageBitmap) => void; reject: (e: Error) => void }>();

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
      this.waiting.set(id, { resolve: resolve as (e: Encoded | ImageBitmap) => void, reject });
      this.thread.postMessage(request, layers.map((l) => l.bitmap));
    });
  }

  /** A grey mask PNG (as `encode(..., 1)` writes) decoded into the mask layer's tint and alpha. */
  maskLayer(png: Blob, tint: [number, number, number]): Promise<ImageBitmap> {
    const id = this.next++;
    const request: MaskLayerRequest = { kind: "mask-layer", id, png, tint };
    return new Promise<ImageBitmap>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (e: Encoded | ImageBitmap) => void, reject });
      this.thread.postMessage(request);
    });
  }
}
