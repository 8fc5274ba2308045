// Bounding box: idle -> dragging (a handle or the whole box) -> idle. Edges snap to the engine's grid,
// counted from the picture's origin. Nothing stops the box at the picture's edge: past it is outpainting.

import { hitHandle, rectToScreen, snapCoord, type Handle, type Point, type Rect } from "../geometry";
import { engineGrid } from "../state";
import type { PointerInfo, Tool, ToolContext } from "./types";

type Phase = { kind: "idle" } | { kind: "dragging"; handle: Handle; start: Rect; from: Point };

const CURSORS: Record<Handle, string> = {
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

  constructor(private readonly ctx: ToolContext) {}

  get phase(): string {
    return this.state.kind;
  }

  private handleAt(p: Point): Handle | null {
    const s = this.ctx.store.state;
    return hitHandle(rectToScreen(s.viewport, s.bbox), p);
  }

  cursor(p: PointerInfo | null): string {
    if (this.state.kind === "dragging") return CURSORS[this.state.handle];
    const handle = p ? this.handleAt(p.screen) : null;
    return handle ? CURSORS[handle] : "crosshair";
  }

  down(p: PointerInfo): void {
    const s = this.ctx.store.state;
    let handle = this.handleAt(p.screen);
    let start = s.bbox;
    if (!handle) {
      // pressing outside the box starts a new one at the pointer
      const grid = engineGrid(s);
      const origin = s.picture?.bounds ?? { x: 0, y: 0 };
      const x = snapCoord(p.doc.x - origin.x, grid) + origin.x;
      const y = snapCoord(p.doc.y - origin.y, grid) + origin.y;
      start = { x, y, width: Math.max(1, grid), height: Math.max(1, grid) };
      handle = "se";
      this.ctx.store.apply({ bbox: start });
    }
    this.state = { kind: "dragging", handle, start, from: p.doc };
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
    this.state = { kind: "idle" };
  }

  cancel(): void {
    this.state = { kind: "idle" };
  }
}
