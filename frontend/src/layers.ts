// The pixels of the document: the picture and its mask, as canvases sharing one set of bounds in
// document coordinates. History reads and writes them through the `Surfaces` interface.

import type { Point, Rect } from "./geometry";
import { contains, intersect, pixelRect, union } from "./geometry";
import type { DocumentPixels, Surfaces } from "./history";
import { pack, packPlanes, unpack, unpackPlanes } from "./packbits";

/** The mask's tint (the overlay shows it at half opacity); only the alpha channel means anything. */
export const MASK_TINT: [number, number, number] = [255, 64, 96];

type Ctx = CanvasRenderingContext2D;

function makeCanvas(width: number, height: number, willReadFrequently: boolean): [HTMLCanvasElement, Ctx] {
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, width);
  canvas.height = Math.max(1, height);
  const ctx = canvas.getContext("2d", { willReadFrequently })!;
  return [canvas, ctx];
}

export class Layers implements Surfaces {
  bounds: Rect = { x: 0, y: 0, width: 1, height: 1 };
  picture: HTMLCanvasElement;
  mask: HTMLCanvasElement;
  /** The colour paint over the picture; made on the first paint stroke. */
  paint: HTMLCanvasElement | null = null;
  /** The paint stroke in progress, at full opacity; merged into `paint` at the stroke's opacity when it
   * ends (so a stroke crossing itself does not darken). */
  stroke: HTMLCanvasElement | null = null;
  strokeOpacity = 1;
  private pictureCtx: Ctx;
  private maskCtx: Ctx;
  private paintCtx: Ctx | null = null;
  private strokeCtx: Ctx | null = null;
  private strokeRect: Rect | null = null;
  private stampCache = new Map<string, HTMLCanvasElement>();

  constructor() {
    [this.picture, this.pictureCtx] = makeCanvas(1, 1, false);
    // the mask is read back for every stroke's undo tiles: keep it in memory the CPU can read fast
    [this.mask, this.maskCtx] = makeCanvas(1, 1, true);
  }

  /** Replace the document with a decoded picture at the origin and an empty mask. */
  load(source: CanvasImageSource & { width: number; height: number }): void {
    this.bounds = { x: 0, y: 0, width: source.width, height: source.height };
    [this.picture, this.pictureCtx] = makeCanvas(source.width, source.height, false);
    [this.mask, this.maskCtx] = makeCanvas(source.width, source.height, true);
    this.pictureCtx.drawImage(source, 0, 0);
    this.paint = this.paintCtx = this.stroke = this.strokeCtx = null;
    this.strokeRect = null;
  }

  /** Put saved layers back (a reload): picture, mask (its alpha) and paint, all at `bounds`. */
  restore(bounds: Rect, picture: CanvasImageSource, mask: CanvasImageSource | null, paint: CanvasImageSource | null): void {
    this.bounds = { ...bounds };
    [this.picture, this.pictureCtx] = makeCanvas(bounds.width, bounds.height, false);
    [this.mask, this.maskCtx] = makeCanvas(bounds.width, bounds.height, true);
    this.pictureCtx.drawImage(picture, 0, 0);
    if (mask) this.maskCtx.drawImage(mask, 0, 0);
    this.paint = this.paintCtx = this.stroke = this.strokeCtx = null;
    if (paint) this.paintContext().drawImage(paint, 0, 0);
  }

  private paintContext(): Ctx {
    if (!this.paint || !this.paintCtx) {
      [this.paint, this.paintCtx] = makeCanvas(this.bounds.width, this.bounds.height, true);
    }
    return this.paintCtx;
  }

  private strokeContext(): Ctx {
    if (!this.stroke || !this.strokeCtx) {
      [this.stroke, this.strokeCtx] = makeCanvas(this.bounds.width, this.bounds.height, false);
    }
    return this.strokeCtx;
  }

  readPaint(rect: Rect): Uint8ClampedArray<ArrayBuffer> {
    const l = this.local(rect);
    return this.paintContext().getImageData(l.x, l.y, l.width, l.height, { colorSpace: "srgb" }).data;
  }

  writePaint(rect: Rect, rgba: Uint8ClampedArray<ArrayBuffer>): void {
    const l = this.local(rect);
    this.paintContext().putImageData(new ImageData(rgba, l.width, l.height), l.x, l.y);
  }

  /** Nothing masked inside `rect` any more. */
  clearMask(rect: Rect): void {
    const l = this.local(rect);
    this.maskCtx.clearRect(l.x, l.y, l.width, l.height);
  }

  clearPaint(rect: Rect = this.bounds): void {
    if (!this.paintCtx) return;
    const l = this.local(rect);
    this.paintCtx.clearRect(l.x, l.y, l.width, l.height);
  }

  /** Stamp colour tips at `points` into the stroke in progress; `diameters` per point (pen pressure). */
  paintStroke(points: Point[], diameters: number[], hardness: number, color: string, opacity: number): void {
    const ctx = this.strokeContext();
    this.strokeOpacity = opacity;
    points.forEach((p, i) => {
      const tip = this.stamp(diameters[i], hardness, color);
      const half = tip.width / 2;
      ctx.drawImage(tip, p.x - this.bounds.x - half, p.y - this.bounds.y - half);
      const r = this.stampRect(p, diameters[i]);
      if (r) this.strokeRect = this.strokeRect ? union(this.strokeRect, r) : r;
    });
  }

  /** Merge the stroke in progress into the paint layer at its opacity. Returns the rectangle it touched. */
  endStroke(): Rect | null {
    const rect = this.strokeRect;
    if (!rect || !this.stroke || !this.strokeCtx) return null;
    const paint = this.paintContext();
    const l = this.local(rect);
    paint.save();
    paint.globalAlpha = this.strokeOpacity;
    paint.drawImage(this.stroke, l.x, l.y, l.width, l.height, l.x, l.y, l.width, l.height);
    paint.restore();
    this.strokeCtx.clearRect(l.x, l.y, l.width, l.height);
    this.strokeRect = null;
    return rect;
  }

  get painting(): boolean {
    return this.strokeRect !== null;
  }

  /** The colour the user sees at `p` (picture with the paint over it), as #rrggbb, or null off the picture. */
  colorAt(p: Point): string | null {
    const x = Math.floor(p.x);
    const y = Math.floor(p.y);
    if (!contains(this.bounds, { x, y, width: 1, height: 1 })) return null;
    const rect = { x, y, width: 1, height: 1 };
    const base = this.readPicture(rect);
    const over = this.paint ? this.readPaint(rect) : new Uint8ClampedArray(4);
    const a = over[3] / 255;
    const hex = [0, 1, 2].map((i) => Math.round(over[i] * a + base[i] * (1 - a)).toString(16).padStart(2, "0"));
    return `#${hex.join("")}`;
  }

  pictureBounds(): Rect {
    return { ...this.bounds };
  }

  private local(rect: Rect): Rect {
    return { x: rect.x - this.bounds.x, y: rect.y - this.bounds.y, width: rect.width, height: rect.height };
  }

  readMask(rect: Rect): Uint8Array {
    const l = this.local(rect);
    const rgba = this.maskCtx.getImageData(l.x, l.y, l.width, l.height).data;
    const alpha = new Uint8Array(l.width * l.height);
    for (let i = 0, j = 3; i < alpha.length; i++, j += 4) alpha[i] = rgba[j];
    return alpha;
  }

  writeMask(rect: Rect, alpha: Uint8Array): void {
    const l = this.local(rect);
    const image = this.maskCtx.createImageData(l.width, l.height);
    const data = image.data;
    const [r, g, b] = MASK_TINT;
    for (let i = 0, j = 0; i < alpha.length; i++, j += 4) {
      data[j] = r;
      data[j + 1] = g;
      data[j + 2] = b;
      data[j + 3] = alpha[i];
    }
    this.maskCtx.putImageData(image, l.x, l.y);
  }

  invertMask(): void {
    const all = this.pictureBounds();
    const alpha = this.readMask(all);
    for (let i = 0; i < alpha.length; i++) alpha[i] = 255 - alpha[i];
    this.writeMask(all, alpha);
  }


  readPicture(rect: Rect): Uint8ClampedArray<ArrayBuffer> {
    const l = this.local(rect);
    // outside the canvas getImageData reads transparent black, which is what outpainting needs
    return this.pictureCtx.getImageData(l.x, l.y, l.width, l.height, { colorSpace: "srgb" }).data;
  }

  writePicture(rect: Rect, rgba: Uint8ClampedArray<ArrayBuffer>): void {
    const l = this.local(rect);
    const image = new ImageData(rgba, l.width, l.height);
    this.pictureCtx.putImageData(image, l.x, l.y); // replaces pixels; clipped to the canvas
  }

  resize(bounds: Rect): void {
    const old = this.bounds;
    if (old.x === bounds.x && old.y === bounds.y && old.width === bounds.width && old.height === bounds.height) return;
    const [picture, pictureCtx] = makeCanvas(bounds.width, bounds.height, false);
    const [mask, maskCtx] = makeCanvas(bounds.width, bounds.height, true);
    pictureCtx.drawImage(this.picture, old.x - bounds.x, old.y - bounds.y);
    maskCtx.drawImage(this.mask, old.x - bounds.x, old.y - bounds.y);
    if (this.paint) {
      const [paint, paintCtx] = makeCanvas(bounds.width, bounds.height, true);
      paintCtx.drawImage(this.paint, old.x - bounds.x, old.y - bounds.y);
      this.paint = paint;
      this.paintCtx = paintCtx;
    }
    this.stroke = this.strokeCtx = null;
    this.picture = picture;
    this.pictureCtx = pictureCtx;
    this.mask = mask;
    this.maskCtx = maskCtx;
    this.bounds = { ...bounds };
  }

  readAll(): DocumentPixels {
    const all = this.pictureBounds();
    return {
      bounds: all,
      picture: this.readPicture(all),
      mask: pack(this.readMask(all)),
      paint: this.paint ? packPlanes(this.readPaint(all)) : null,
    };
  }

  writeAll(pixels: DocumentPixels): void {
    const { bounds } = pixels;
    this.bounds = { ...bounds };
    [this.picture, this.pictureCtx] = makeCanvas(bounds.width, bounds.height, false);
    [this.mask, this.maskCtx] = makeCanvas(bounds.width, bounds.height, true);
    this.paint = this.paintCtx = this.stroke = this.strokeCtx = null;
    this.strokeRect = null;
    const area = bounds.width * bounds.height;
    this.writePicture(bounds, pixels.picture);
    this.writeMask(bounds, unpack(pixels.mask, area));
    if (pixels.paint) this.writePaint(bounds, unpackPlanes(pixels.paint, area));
  }

  /** Replace the picture with `picture` (a larger copy of it) at `bounds`, the mask and paint scaled to
   * match: what was masked or painted stays over the same part of the picture. */
  rescale(bounds: Rect, picture: CanvasImageSource): void {
    const old = { picture: this.picture, mask: this.mask, paint: this.paint };
    this.bounds = { ...bounds };
    [this.picture, this.pictureCtx] = makeCanvas(bounds.width, bounds.height, false);
    this.pictureCtx.drawImage(picture, 0, 0, bounds.width, bounds.height);
    const scaled = (source: HTMLCanvasElement, ctx: Ctx) => {
      ctx.imageSmoothingEnabled = true;
      ctx.imageSmoothingQuality = "high";
      ctx.drawImage(source, 0, 0, bounds.width, bounds.height);
    };
    [this.mask, this.maskCtx] = makeCanvas(bounds.width, bounds.height, true);
    scaled(old.mask, this.maskCtx);
    this.paint = this.paintCtx = this.stroke = this.strokeCtx = null;
    this.strokeRect = null;
    if (old.paint) scaled(old.paint, this.paintContext());
    for (const canvas of [old.picture, old.mask, old.paint]) if (canvas) canvas.width = 0;
  }

  /** A round brush tip of `diameter` px whose edge fades over (1 - hardness) of its radius. */
  private stamp(diameter: number, hardness: number, color?: string): HTMLCanvasElement {
    const size = Math.max(1, Math.ceil(diameter));
    const key = `${size}:${hardness.toFixed(2)}:${color ?? ""}`;
    let tip = this.stampCache.get(key);
    if (tip) return tip;
    if (this.stampCache.size > 32) this.stampCache.clear();
    const [canvas, ctx] = makeCanvas(size, size, false);
    const r = size / 2;
    const [red, green, blue] = color ? hexRgb(color) : MASK_TINT;
    if (hardness >= 0.999) {
      ctx.fillStyle = `rgb(${red},${green},${blue})`;
    } else {
      const gradient = ctx.createRadialGradient(r, r, r * hardness, r, r, r);
      gradient.addColorStop(0, `rgba(${red},${green},${blue},1)`);
      gradient.addColorStop(1, `rgba(${red},${green},${blue},0)`);
      ctx.fillStyle = gradient;
    }
    ctx.beginPath();
    ctx.arc(r, r, r, 0, Math.PI * 2);
    ctx.fill();
    tip = canvas;
    this.stampCache.set(key, tip);
    return tip;
  }

  /** Document rectangle a tip of `diameter` at `p` covers, clipped to the picture (null if outside). */
  stampRect(p: Point, diameter: number): Rect | null {
    const r = Math.max(0.5, diameter / 2);
    return intersect(pixelRect({ x: p.x - r - 1, y: p.y - r - 1, width: 2 * r + 2, height: 2 * r + 2 }), this.bounds);
  }

  /** Paint (or erase) brush tips at `points` into the mask. */
  paintMask(points: Point[], diameter: number, hardness: number, erase: boolean): void {
    const tip = this.stamp(diameter, hardness);
    const ctx = this.maskCtx;
    ctx.save();
    ctx.globalCompositeOperation = erase ? "destination-out" : "source-over";
    const half = tip.width / 2;
    for (const p of points) {
      ctx.drawImage(tip, p.x - this.bounds.x - half, p.y - this.bounds.y - half);
    }
    ctx.restore();
  }


  /** The mask inside `box` as grey bytes: 255 = fill, 0 = keep (the server's format). */
  maskGrey(box: Rect): Uint8Array {
    const grey = new Uint8Array(box.width * box.height);
    const inside = intersect(box, this.bounds);
    if (inside) {
      const alpha = this.readMask(inside);
      for (let y = 0; y < inside.height; y++) {
        const row = (inside.y - box.y + y) * box.width + (inside.x - box.x);
        grey.set(alpha.subarray(y * inside.width, (y + 1) * inside.width), row);
      }
    }
    return grey;
  }

  /** Merge a result covering `box` into the picture, growing the picture when the box reaches past it. */
  merge(box: Rect, result: CanvasImageSource): void {
    if (!contains(this.bounds, box)) this.resize(union(this.bounds, box));
    const l = this.local(box);
    // the box's pixels replaced, transparent ones too ("copy" inside a clip to the box): drawn, not read
    // back and put (at 4096² that read took a frame of its own)
    const ctx = this.pictureCtx;
    ctx.save();
    ctx.beginPath();
    ctx.rect(l.x, l.y, box.width, box.height);
    ctx.clip();
    ctx.globalCompositeOperation = "copy";
    ctx.drawImage(result, l.x, l.y, box.width, box.height);
    ctx.restore();
  }

}

export function hexRgb(color: string): [number, number, number] {
  const n = Number.parseInt(color.replace("#", ""), 16) || 0;
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}
