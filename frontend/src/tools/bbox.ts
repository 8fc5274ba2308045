// Bounding box: idle -> dragging (a handle, a new box, or the whole box with Shift held) -> idle. As in
// InvokeAI, a drag anywhere but on a handle draws a new box; Shift-drag moves the box. Edges snap to the
// engine's grid, counted from the picture's origin. Past the picture's edge is outpainting. Each change
// of the box is one undo step.

import { hitHandle, rectToScreen, snapCoord, type Handle, type Point, type Rect } from "../geometry";
import { engineGrid } from "../state";
import type { PointerInfo, Tool, ToolContext } from "./types";

type Phase = { kind: "idle" } | { kind: "dragging"; handle: Handle; start: Rect; from: Point; before: Rect };

/** The cursor over each handle of a box (the box tool's and the face boxes'). */
export const CURSORS: Record<Handle, string> = {
  nw: "nwse-resize",
  se: "nwse-resize",
  ne: "nesw-resize",
  sw: "nesw-resize",
  n: "ns-resize",
  s: "ns-resize",
  e: "ew-resize",
  w: "ew-resize",
  move: "move",
};

/** The box after dragging `handle` by (dx, dy) document pixels, with every moved edge on the grid. */
export function dragSnapped(start: Rect, handle: Handle, dx: number, dy: number, grid: number, origin: Point): Rect {
  const g = Math.max(1, Math.round(grid));
  const snapX = (x: number) => snapCoord(x - origin.x, g) + origin.x;
  const snapY = (y: number) => snapCoord(y - origin.y, g) + origin.y;
  if (handle === "move") {
    return { ...start, x: snapX(start.x + dx), y: snapY(start.y + dy) };
  }
  let x0 = start.x;
  let y0 = start.y;
  let x1 = start.x + start.width;
  let y1 = start.y + start.height;
  if (handle.includes("w")) x0 = Math.min(snapX(x0 + dx), x1 - g);
  if (handle.includes("e")) x1 = Math.max(snapX(x1 + dx), x0 + g);
  if (handle.includes("n")) y0 = Math.min(snapY(y0 + dy), y1 - g);
  if (handle.includes("s")) y1 = Math.max(snapY(y1 + dy), y0 + g);
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

export class BboxTool implements Tool {
  readonly name = "bbox";
  private state: Phase = { kind: "idle" };
  /** The one-cell box a press outside the handles made (a click without a drag puts the old box back). */
  private created: Rect | null = null;

  constructor(private readonly ctx: ToolContext) {}

  get phase(): string {
    return this.state.kind;
  }

  /** The handle under the pointer; inside the box that is "move" only with Shift held. */
  private handleAt(p: Point, shift: boolean): Handle | null {
    const s = this.ctx.store.state;
    const handle = hitHandle(rectToScreen(s.viewport, s.bbox), p);
    return handle === "move" && !shift ? null : handle;
  }

  cursor(p: PointerInfo | null): string {
    if (this.state.kind === "dragging") return CURSORS[this.state.handle];
    const handle = p ? this.handleAt(p.screen, p.shiftKey) : null;
    return handle ? CURSORS[handle] : "crosshair";
  }

  down(p: PointerInfo): void {
    const s = this.ctx.store.state;
    const before = s.bbox;
    let handle = this.handleAt(p.screen, p.shiftKey);
    let start = s.bbox;
    if (!handle) {
      // pressing anywhere but on a handle starts a new box at the pointer
      const grid = engineGrid(s);
      const origin = s.picture?.bounds ?? { x: 0, y: 0 };
      const x = snapCoord(p.doc.x - origin.x, grid) + origin.x;
      const y = snapCoord(p.doc.y - origin.y, grid) + origin.y;
      // dragged from a point (so the box spans exactly the drag); shown as one grid cell until it moves
      start = { x, y, width: 0, height: 0 };
      handle = "se";
      this.created = { x, y, width: Math.max(1, grid), height: Math.max(1, grid) };
      this.ctx.store.apply({ bbox: this.created });
    }
    this.state = { kind: "dragging", handle, start, from: p.doc, before };
  }

  move(p: PointerInfo): void {
    if (this.state.kind !== "dragging") return;
    const s = this.ctx.store.state;
    const { handle, start, from } = this.state;
    const origin = s.picture?.bounds ?? { x: 0, y: 0 };
    const bbox = dragSnapped(start, handle, p.doc.x - from.x, p.doc.y - from.y, engineGrid(s), origin);
    const old = s.bbox;
    if (bbox.x !== old.x || bbox.y !== old.y || bbox.width !== old.width || bbox.height !== old.height) {
      this.ctx.store.apply({ bbox });
    }
  }

  up(): void {
    this.finish();
  }

  cancel(): void {
    this.finish();
  }

  private finish(): void {
    if (this.state.kind !== "dragging") return;
    const { before } = this.state;
    const created = this.created;
    this.created = null;
    this.state = { kind: "idle" };
    const { store, history } = this.ctx;
    let box = store.state.bbox;
    if (created && box.x === created.x && box.y === created.y && box.width === created.width && box.height === created.height) {
      // a click without a drag: the box stays where it was
      store.apply({ bbox: before });
      box = before;
    }
    if (box.x === before.x && box.y === before.y && box.width === before.width && box.height === before.height) return;
    history.push({ kind: "box", label: "Move box", box: before });
    store.apply({ history: { canUndo: history.canUndo, canRedo: history.canRedo } });
  }
}
