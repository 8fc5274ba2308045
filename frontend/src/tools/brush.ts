// Brush and eraser: idle -> painting -> idle. Tips are stamped into the mask as the pointer moves
// (every coalesced event, so fast strokes stay smooth); only the touched rectangle is redrawn. The
// stroke's undo entry holds the mask tiles it touched, as they were before.

import { stampsAlong, union, type Point, type Rect } from "../geometry";
import { StrokeRecorder } from "../history";
import type { PointerInfo, Tool, ToolContext } from "./types";

type Phase =
  | { kind: "idle" }
  | { kind: "painting"; last: Point; carry: number; recorder: StrokeRecorder };

export class BrushTool implements Tool {
  private state: Phase = { kind: "idle" };

  constructor(
    private readonly ctx: ToolContext,
    private readonly erase: boolean,
  ) {}

  get name(): string {
    return this.erase ? "eraser" : "brush";
  }

  get phase(): string {
    return this.state.kind;
  }

  cursor(): string {
    return "none";
  }

  private get brush() {
    return this.ctx.store.state.brush;
  }

  private stamp(points: Point[], recorder: StrokeRecorder): void {
    const { layers, scheduler } = this.ctx;
    const { size, hardness } = this.brush;
    let dirty: Rect | null = null;
    for (const p of points) {
      const r = layers.stampRect(p, size);
      if (r) dirty = dirty ? union(dirty, r) : r;
    }
    if (!dirty) return;
    recorder.touch(dirty);
    layers.paint(points, size, hardness, this.erase);
    scheduler.invalidateDoc(dirty);
  }

  down(p: PointerInfo): void {
    if (!this.ctx.store.state.picture) return;
    const recorder = new StrokeRecorder(this.ctx.layers);
    this.state = { kind: "painting", last: p.doc, carry: 0, recorder };
    this.stamp([p.doc], recorder);
  }

  move(p: PointerInfo): void {
    if (this.state.kind !== "painting") return;
    const spacing = Math.max(0.75, this.brush.size * 0.12);
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
    if (points.length) this.stamp(points, this.state.recorder);
  }

  up(): void {
    this.finish();
  }

  cancel(): void {
    this.finish();
  }

  private finish(): void {
    if (this.state.kind !== "painting") return;
    const entry = this.state.recorder.finish(this.erase ? "Erase" : "Paint mask");
    this.state = { kind: "idle" };
    if (!entry) return;
    const { history, store } = this.ctx;
    history.push(entry);
    store.apply({ history: { canUndo: history.canUndo, canRedo: history.canRedo } });
  }
}
