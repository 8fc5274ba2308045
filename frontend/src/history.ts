// Undo and redo. Each entry keeps only what changed: the mask tiles a stroke touched (run-length packed,
// one byte per pixel), or the picture's pixels under an accepted result, or for a change of the whole
// document's size (an upscale) the document as it was: picture, packed mask, paint where there is any, box.
// An entry swaps its content with the surfaces' current content, so the same code undoes and redoes and never
// holds two copies.

import type { Rect } from "./geometry";
import { pack, unpack } from "./packbits";
import type { FilledRegion } from "./seams";

/** The pixels that history can read and write. The app backs this with canvases; tests with arrays. */
export interface Surfaces {
  pictureBounds(): Rect;
  /** Alpha (0..255 coverage) of the mask inside `rect` (document coordinates, inside the picture). */
  readMask(rect: Rect): Uint8Array;
  writeMask(rect: Rect, alpha: Uint8Array): void;
  invertMask(): void;
  /** RGBA of the picture inside `rect`; pixels outside the picture read as transparent. */
  readPicture(rect: Rect): Uint8ClampedArray<ArrayBuffer>;
  /** Writes RGBA into `rect`, clipped to the picture's bounds. */
  writePicture(rect: Rect, rgba: Uint8ClampedArray<ArrayBuffer>): void;
  /** Grows or shrinks the picture (and its mask) to `bounds`, keeping what overlaps. */
  resize(bounds: Rect): void;
  /** RGBA of the paint layer inside `rect` (inside the picture). */
  readPaint(rect: Rect): Uint8ClampedArray<ArrayBuffer>;
  writePaint(rect: Rect, rgba: Uint8ClampedArray<ArrayBuffer>): void;
  /** The whole document (picture, mask, paint) at its bounds: what a whole-picture change (an upscale) replaces. */
  readAll(): DocumentPixels;
  /** Make the document exactly `pixels`, at its bounds. */
  writeAll(pixels: DocumentPixels): void;
}

/** The whole document's pixels for undo: the picture as it is (a photo does not pack, and undo must be quick),
 * the mask packed, the paint as packed colour planes (`packPlanes`: an empty or sparse layer costs almost
 * nothing). 4 bytes a pixel in all, so a 4096² picture's step (64 MB) fits history's 96 MB budget. */
export interface DocumentPixels {
  bounds: Rect;
  picture: Uint8ClampedArray<ArrayBuffer>;
  /** The mask's alpha, packed (`packbits`). */
  mask: Uint8Array;
  /** Null where there is no paint layer. */
  paint: Uint8Array[] | null;
}

const planesBytes = (planes: Uint8Array[] | null) => (planes ?? []).reduce((sum, p) => sum + p.byteLength, 0);

/** Where the bounding box lives (the state): box changes are undoable too. */
export interface BoxPort {
  get(): Rect;
  set(box: Rect): void;
}

export interface PaintRegion {
  rect: Rect;
  rgba: Uint8ClampedArray<ArrayBuffer>;
}

export interface MaskRegion {
  rect: Rect;
  packed: Uint8Array;
}

export type Entry =
  | { kind: "mask"; label: string; regions: MaskRegion[] }
  | { kind: "invert-mask"; label: string }
  | { kind: "paint"; label: string; regions: PaintRegion[] }
  | { kind: "box"; label: string; box: Rect }
  | {
      kind: "picture";
      label: string;
      rect: Rect;
      bounds: Rect;
      rgba: Uint8ClampedArray<ArrayBuffer>;
      recipe?: unknown;
      /** The paint under an accepted result (the result carries it, so the layer is cleared there). */
      paint?: PaintRegion;
      /** What the accepted result filled: "Repair seams" works on its edge. */
      filled?: FilledRegion;
      /** The mask inside the accepted box, as it was: accepting clears it (what was asked for is done). */
      mask?: MaskRegion;
    }
  | {
      /** A change of the whole document's size and pixels (an upscale): picture, mask, paint and box as they were. */
      kind: "document";
      label: string;
      pixels: DocumentPixels;
      box: Rect;
      recipe?: unknown;
    };

/** What an undo or redo changed; "document": the picture's size and all its layers (an upscale). */
export type Changed = "mask" | "picture" | "paint" | "box" | "document";

export function entryBytes(entry: Entry): number {
  switch (entry.kind) {
    case "mask":
      return entry.regions.reduce((sum, r) => sum + r.packed.byteLength, 0) + 64;
    case "invert-mask":
    case "box":
      return 64;
    case "paint":
      return entry.regions.reduce((sum, r) => sum + r.rgba.byteLength, 0) + 64;
    case "picture":
      return (
        entry.rgba.byteLength + (entry.paint?.rgba.byteLength ?? 0) + (entry.mask?.packed.byteLength ?? 0) + (entry.filled?.packed.byteLength ?? 0) + 64
      );
    case "document":
      return entry.pixels.picture.byteLength + entry.pixels.mask.byteLength + planesBytes(entry.pixels.paint) + 64;
  }
}

/** The smallest rectangle (relative to the arrays' origin) where two RGBA images differ, or null. */
export function changedBounds(a: Uint8ClampedArray, b: Uint8ClampedArray, width: number, height: number): Rect | null {
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    let i = y * width * 4;
    for (let x = 0; x < width; x++, i += 4) {
      if (a[i] !== b[i] || a[i + 1] !== b[i + 1] || a[i + 2] !== b[i + 2] || a[i + 3] !== b[i + 3]) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        y1 = y;
      }
    }
  }
  return x1 < 0 ? null : { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

/** The part `inner` (relative to the region's origin) of an RGBA region `width` pixels wide. */
export function cropRgba(rgba: Uint8ClampedArray, width: number, inner: Rect): Uint8ClampedArray<ArrayBuffer> {
  const out = new Uint8ClampedArray(inner.width * inner.height * 4);
  for (let y = 0; y < inner.height; y++) {
    const from = ((inner.y + y) * width + inner.x) * 4;
    out.set(rgba.subarray(from, from + inner.width * 4), y * inner.width * 4);
  }
  return out;
}

export function packRegion(surfaces: Surfaces, rect: Rect): MaskRegion {
  return { rect, packed: pack(surfaces.readMask(rect)) };
}

function swapMask(region: MaskRegion, surfaces: Surfaces): MaskRegion {
  const now = packRegion(surfaces, region.rect);
  surfaces.writeMask(region.rect, unpack(region.packed, region.rect.width * region.rect.height));
  return now;
}

function swapPaint(region: PaintRegion, surfaces: Surfaces): PaintRegion {
  const now = surfaces.readPaint(region.rect);
  surfaces.writePaint(region.rect, region.rgba);
  return { rect: region.rect, rgba: now };
}

/** Swap an entry's content with the surfaces; after this the entry holds what was there before. */
function swap(entry: Entry, surfaces: Surfaces, box: BoxPort | null): Changed {
  switch (entry.kind) {
    case "mask": {
      // later regions were captured later: restore in reverse so overlaps end up as first seen
      const swapped: MaskRegion[] = [];
      for (let i = entry.regions.length - 1; i >= 0; i--) {
        const region = entry.regions[i];
        swapped.unshift(swapMask(region, surfaces));
      }
      entry.regions = swapped;
      return "mask";
    }
    case "invert-mask":
      surfaces.invertMask();
      return "mask";
    case "paint": {
      const swapped: PaintRegion[] = [];
      for (let i = entry.regions.length - 1; i >= 0; i--) swapped.unshift(swapPaint(entry.regions[i], surfaces));
      entry.regions = swapped;
      return "paint";
    }
    case "box": {
      if (!box) return "box";
      const now = box.get();
      box.set(entry.box);
      entry.box = now;
      return "box";
    }
    case "picture": {
      const nowBounds = surfaces.pictureBounds();
      const nowPixels = surfaces.readPicture(entry.rect);
      // paint and mask are restored inside the bounds they were taken in: shrink after, grow before
      const growing = !contains(nowBounds, entry.bounds);
      if (growing) surfaces.resize(entry.bounds);
      if (entry.paint) entry.paint = swapPaint(entry.paint, surfaces);
      if (entry.mask) entry.mask = swapMask(entry.mask, surfaces);
      if (!growing) surfaces.resize(entry.bounds);
      surfaces.writePicture(entry.rect, entry.rgba);
      entry.bounds = nowBounds;
      entry.rgba = nowPixels;
      return "picture";
    }
    case "document": {
      const now = surfaces.readAll();
      surfaces.writeAll(entry.pixels);
      entry.pixels = now;
      if (box) {
        const nowBox = box.get();
        box.set(entry.box);
        entry.box = nowBox;
      }
      return "document";
    }
  }
}

function contains(outer: Rect, inner: Rect): boolean {
  return (
    inner.x >= outer.x &&
    inner.y >= outer.y &&
    inner.x + inner.width <= outer.x + outer.width &&
    inner.y + inner.height <= outer.y + outer.height
  );
}

export class History {
  private undoStack: Entry[] = [];
  private redoStack: Entry[] = [];
  private bytes = 0;

  /** `budget`: bytes of undo data kept; the oldest entries go first past it. */
  /** Counts every change of the stacks (push, undo, redo, clear): what a save compares. */
  revision = 0;

  constructor(
    private readonly surfaces: Surfaces,
    private readonly budget = 96 * 1024 * 1024,
    private readonly box: BoxPort | null = null,
  ) {}

  /** Record an already applied change. `entry` holds the state from before it. */
  push(entry: Entry): void {
    this.revision++;
    this.undoStack.push(entry);
    this.bytes += entryBytes(entry);
    for (const dropped of this.redoStack) this.bytes -= entryBytes(dropped);
    this.redoStack = [];
    this.trim();
  }

  /** Drop the oldest undo steps, then the furthest redo steps, past the budget; the newest of each stays. */
  private trim(): void {
    while (this.bytes > this.budget && this.undoStack.length > 1) this.bytes -= entryBytes(this.undoStack.shift()!);
    while (this.bytes > this.budget && this.redoStack.length > 1) this.bytes -= entryBytes(this.redoStack.shift()!);
  }

  undo(): Changed | null {
    return this.move(this.undoStack, this.redoStack);
  }

  redo(): Changed | null {
    return this.move(this.redoStack, this.undoStack);
  }

  private move(from: Entry[], to: Entry[]): Changed | null {
    const entry = from.pop();
    if (!entry) return null;
    this.revision++;
    this.bytes -= entryBytes(entry);
    const changed = swap(entry, this.surfaces, this.box);
    this.bytes += entryBytes(entry);
    to.push(entry);
    // an entry may have grown (an undone upscale now holds the larger picture): stay within the budget
    this.trim();
    return changed;
  }

  /** The picture's bounds now (undo of an outpainting shrinks it back). */
  surfacesBounds(): Rect {
    return this.surfaces.pictureBounds();
  }

  get canUndo(): boolean {
    return this.undoStack.length > 0;
  }

  get canRedo(): boolean {
    return this.redoStack.length > 0;
  }

  get byteSize(): number {
    return this.bytes;
  }

  get depth(): number {
    return this.undoStack.length;
  }

  /** Recipes of accepted results (and upscales) that are in the picture now, oldest first. */
  recipes(): unknown[] {
    return this.undoStack.filter((e) => (e.kind === "picture" || e.kind === "document") && e.recipe).map((e) => (e as { recipe?: unknown }).recipe);
  }

  /** What the last accepted result that is in the picture now filled (null when it does not say, e.g. a
   * result staged from the gallery, or when nothing was accepted). */
  lastFilled(): FilledRegion | null {
    for (let i = this.undoStack.length - 1; i >= 0; i--) {
      const entry = this.undoStack[i];
      if (entry.kind === "picture") return entry.filled ?? null;
      // an upscale since: what was filled is no longer where the region says
      if (entry.kind === "document") return null;
    }
    return null;
  }

  clear(): void {
    this.revision++;
    this.undoStack = [];
    this.redoStack = [];
    this.bytes = 0;
  }

  /** Both stacks, for saving (entries are plain data with typed arrays). */
  export(): { undo: Entry[]; redo: Entry[] } {
    return { undo: [...this.undoStack], redo: [...this.redoStack] };
  }

  /** Put saved stacks back (a reload), within the memory budget. */
  import(saved: { undo: Entry[]; redo: Entry[] }): void {
    this.clear();
    this.undoStack = [...saved.undo];
    this.redoStack = [...saved.redo];
    this.bytes = [...this.undoStack, ...this.redoStack].reduce((n, e) => n + entryBytes(e), 0);
    while (this.bytes > this.budget && this.undoStack.length > 1) this.bytes -= entryBytes(this.undoStack.shift()!);
  }
}

/**
 * Collects the "before" of the mask tiles a stroke touches, lazily, as the stroke goes. On finish it is
 * one undo entry holding only those tiles.
 */
export class StrokeRecorder {
  private seen = new Set<string>();
  private regions: MaskRegion[] = [];
  private paintRegions: PaintRegion[] = [];

  constructor(
    private readonly surfaces: Surfaces,
    private readonly tile = 128,
    /** What the stroke changes: the mask, or the colour paint layer. */
    private readonly layer: "mask" | "paint" = "mask",
  ) {}

  /** Call before drawing into `rect` (document coordinates). */
  touch(rect: Rect): void {
    const bounds = this.surfaces.pictureBounds();
    const t = this.tile;
    const x0 = Math.floor((Math.max(rect.x, bounds.x) - bounds.x) / t);
    const y0 = Math.floor((Math.max(rect.y, bounds.y) - bounds.y) / t);
    const x1 = Math.floor((Math.min(rect.x + rect.width, bounds.x + bounds.width) - 1 - bounds.x) / t);
    const y1 = Math.floor((Math.min(rect.y + rect.height, bounds.y + bounds.height) - 1 - bounds.y) / t);
    for (let ty = y0; ty <= y1; ty++) {
      for (let tx = x0; tx <= x1; tx++) {
        const key = `${tx},${ty}`;
        if (this.seen.has(key)) continue;
        this.seen.add(key);
        const x = bounds.x + tx * t;
        const y = bounds.y + ty * t;
        const tileRect = {
          x,
          y,
          width: Math.min(t, bounds.x + bounds.width - x),
          height: Math.min(t, bounds.y + bounds.height - y),
        };
        if (this.layer === "mask") this.regions.push(packRegion(this.surfaces, tileRect));
        else this.paintRegions.push({ rect: tileRect, rgba: this.surfaces.readPaint(tileRect) });
      }
    }
  }

  finish(label: string): Entry | null {
    if (this.layer === "paint") return this.paintRegions.length ? { kind: "paint", label, regions: this.paintRegions } : null;
    if (this.regions.length === 0) return null;
    return { kind: "mask", label, regions: this.regions };
  }
}
