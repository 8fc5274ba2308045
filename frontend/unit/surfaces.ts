// Array-backed surfaces for history tests: the same contract the canvases implement.
import type { Rect } from "../src/geometry";
import type { DocumentPixels, Surfaces } from "../src/history";
import { pack, packPlanes, unpack, unpackPlanes } from "../src/packbits";

export class ArraySurfaces implements Surfaces {
  bounds: Rect;
  mask: Uint8Array;
  picture: Uint8ClampedArray<ArrayBuffer>;

  constructor(width: number, height: number) {
    this.bounds = { x: 0, y: 0, width, height };
    this.mask = new Uint8Array(width * height);
    this.picture = new Uint8ClampedArray(width * height * 4);
  }

  pictureBounds(): Rect {
    return { ...this.bounds };
  }

  readMask(r: Rect): Uint8Array {
    const out = new Uint8Array(r.width * r.height);
    for (let y = 0; y < r.height; y++)
      for (let x = 0; x < r.width; x++) out[y * r.width + x] = this.mask[(r.y - this.bounds.y + y) * this.bounds.width + (r.x - this.bounds.x + x)];
    return out;
  }

  writeMask(r: Rect, alpha: Uint8Array): void {
    for (let y = 0; y < r.height; y++)
      for (let x = 0; x < r.width; x++) this.mask[(r.y - this.bounds.y + y) * this.bounds.width + (r.x - this.bounds.x + x)] = alpha[y * r.width + x];
  }

  invertMask(): void {
    for (let i = 0; i < this.mask.length; i++) this.mask[i] = 255 - this.mask[i];
  }

  private inside(x: number, y: number): boolean {
    const b = this.bounds;
    return x >= b.x && y >= b.y && x < b.x + b.width && y < b.y + b.height;
  }

  readPicture(r: Rect): Uint8ClampedArray<ArrayBuffer> {
    const out = new Uint8ClampedArray(r.width * r.height * 4);
    for (let y = 0; y < r.height; y++)
      for (let x = 0; x < r.width; x++) {
        const dx = r.x + x;
        const dy = r.y + y;
        if (!this.inside(dx, dy)) continue;
        const i = ((dy - this.bounds.y) * this.bounds.width + (dx - this.bounds.x)) * 4;
        out.set(this.picture.subarray(i, i + 4), (y * r.width + x) * 4);
      }
    return out;
  }

  writePicture(r: Rect, rgba: Uint8ClampedArray<ArrayBuffer>): void {
    for (let y = 0; y < r.height; y++)
      for (let x = 0; x < r.width; x++) {
        const dx = r.x + x;
        const dy = r.y + y;
        if (!this.inside(dx, dy)) continue;
        const i = ((dy - this.bounds.y) * this.bounds.width + (dx - this.bounds.x)) * 4;
        this.picture.set(rgba.subarray((y * r.width + x) * 4, (y * r.width + x) * 4 + 4), i);
      }
  }

  resize(bounds: Rect): void {
    const old = this.readPicture(bounds);
    const oldMask = new Uint8Array(bounds.width * bounds.height);
    for (let y = 0; y < bounds.height; y++)
      for (let x = 0; x < bounds.width; x++)
        if (this.inside(bounds.x + x, bounds.y + y))
          oldMask[y * bounds.width + x] = this.mask[(bounds.y + y - this.bounds.y) * this.bounds.width + (bounds.x + x - this.bounds.x)];
    this.bounds = { ...bounds };
    this.picture = old;
    this.mask = oldMask;
  }

  paint: Map<string, number[]> = new Map();

  readPaint(r: Rect): Uint8ClampedArray<ArrayBuffer> {
    const out = new Uint8ClampedArray(r.width * r.height * 4);
    for (let y = 0; y < r.height; y++)
      for (let x = 0; x < r.width; x++) out.set(this.paint.get(`${r.x + x},${r.y + y}`) ?? [0, 0, 0, 0], (y * r.width + x) * 4);
    return out;
  }

  writePaint(r: Rect, rgba: Uint8ClampedArray<ArrayBuffer>): void {
    for (let y = 0; y < r.height; y++)
      for (let x = 0; x < r.width; x++) {
        const i = (y * r.width + x) * 4;
        this.paint.set(`${r.x + x},${r.y + y}`, [...rgba.subarray(i, i + 4)]);
      }
  }

  readAll(): DocumentPixels {
    const b = this.pictureBounds();
    const painted = [...this.paint.values()].some((p) => p[3] !== 0);
    return { bounds: b, picture: this.picture.slice(), mask: pack(this.mask), paint: painted ? packPlanes(this.readPaint(b)) : null };
  }

  writeAll(pixels: DocumentPixels): void {
    const b = pixels.bounds;
    this.bounds = { ...b };
    this.picture = pixels.picture.slice();
    this.mask = unpack(pixels.mask, b.width * b.height);
    this.paint = new Map();
    if (pixels.paint) this.writePaint(b, unpackPlanes(pixels.paint, b.width * b.height));
  }

  /** Paint a filled rectangle into the mask, as a stroke would. */
  paintRect(r: Rect, value = 255): void {
    this.writeMask(r, new Uint8Array(r.width * r.height).fill(value));
  }
}
