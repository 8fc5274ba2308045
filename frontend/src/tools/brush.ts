// Brush, eraser and paint: idle -> painting -> idle. Tips are stamped as the pointer moves (every
// coalesced event, so fast strokes stay smooth); only the touched rectangle is redrawn. The brush and
// eraser change the mask; paint puts colour on the paint layer (a pen's pressure scales the tip). The
// stroke's undo entry holds the tiles it touched, as they were before.

import { stampsAlong, union, type Point, type Rect } from "../geometry";
import { StrokeRecorder } from "../history";
import type { PointerInfo, Tool, ToolContext } from "./types";

export type BrushKind = "brush" | "eraser" | "paint";

type Phase =
  | { kind: "idle" }
  | { kind: "painting"; last: Point; carry: number; recorder: StrokeRecorder; pressure: number };

export class BrushTool implements Tool {
  private state: Phase = { kind: "idle" };

  constructor(
    private readonly ctx: ToolContext,
    readonly name: BrushKind,
  ) {}

  get phase(): string {
    return this.state.kind;
  }

  cursor(p: PointerInfo | null): string {
    return this.name === "paint" && (p?.altKey || this.ctx.store.state.paint.picking) ? "copy" : "none";
  }

  private get brush() {
    return this.ctx.store.state.brush;
  }

  private stamp(points: Point[], recorder: StrokeRecorder, pressure: number): void {
    const { layers, scheduler, store } = this.ctx;
    const { size, hardness } = this.brush;
    const diameter = Math.max(1, size * pressure);
    let dirty: Rect | null = null;
    for (const p of points) {
      const r = layers.stampRect(p, diameter);
      if (r) dirty = dirty ? union(dirty, r) : r;
    }
    if (!dirty) return;
    recorder.touch(dirty);
    if (this.name === "paint") {
      const { color, opacity } = store.state.paint;
      layers.paintStroke(points, points.map(() => diameter), hardness, color, opacity);
    } else {
      layers.paintMask(points, diameter, hardness, this.name === "eraser");
    }
    scheduler.invalidateDoc(dirty);
  }

  down(p: PointerInfo): void {
    const { store, layers } = this.ctx;
    if (!store.state.picture) return;
    if (this.name === "paint" && (p.altKey || store.state.paint.picking)) {
      // the eyedropper (its button, I, or Alt-click) takes the colour under the pointer
      const color = layers.colorAt(p.doc);
      store.apply({ paint: { ...store.state.paint, color: color ?? store.state.paint.color, picking: false } });
      return;
    }
    const recorder = new StrokeRecorder(layers, 128, this.name === "paint" ? "paint" : "mask");
    const pressure = pressureOf(p);
    this.state = { kind: "painting", last: p.doc, carry: 0, recorder, pressure };
    this.stamp([p.doc], recorder, pressure);
  }

  move(p: PointerInfo): void {
    if (this.state.kind !== "painting") return;
    const pressure = pressureOf(p);
    const spacing = Math.max(0.75, this.brush.size * pressure * 0.12);
    const points: Point[] = [];
    let { last, carry } = this.state;
    for (const q of p.trail.length ? p.trail : [p.doc]) {
      const step = stampsAlong(last, q, spacing, carry);
      points.push(...step.points);
      carry = step.carry;
      last = q;
    }
    this.state.last = last;
    this.state.carry = carry;
    this.state.pressure = pressure;
    if (points.length) this.stamp(points, this.state.recorder, pressure);
  }

  up(): void {
    this.finish();
  }

  cancel(): void {
    this.finish();
  }

  private finish(): void {
    if (this.state.kind !== "painting") return;
    const labels = { brush: "Paint mask", eraser: "Erase", paint: "Paint" };
    const entry = this.state.recorder.finish(labels[this.name]);
    this.state = { kind: "idle" };
    const { history, store, layers, scheduler } = this.ctx;
    const s = store.state;
    if (this.name === "paint") {
      const rect = layers.endStroke();
      if (rect) scheduler.invalidateDoc(rect);
    }
    if (!entry) return;
    history.push(entry);
    // `edits` tells saving and uploading that pixels changed, without a full redraw
    const flags = { history: { canUndo: history.canUndo, canRedo: history.canRedo }, dirty: true, edits: s.edits + 1 };
    if (this.name === "paint") store.apply({ ...flags, paint: { ...s.paint, version: s.paint.version + 1 } });
    else store.apply(flags);
  }
}

/** A pen's pressure scales the tip (0.1 .. 1); a mouse paints at full size. */
function pressureOf(p: PointerInfo): number {
  return p.pointerType === "pen" && p.pressure > 0 ? Math.max(0.1, Math.min(1, p.pressure)) : 1;
}
