// Face boxes: idle -> dragging (a box's edge or corner resizes it, its inside moves it, anywhere else draws
// a new one; a click on a box without moving switches it off or on) -> idle. Boxes stay inside the picture and at least MIN_FACE pixels on a side (the server's
// smallest). They are the faces job's settings, not the document: undo does not step through them.

import { clamp, hitHandle, rectToScreen, type Handle, type Point, type Rect } from "../geometry";
import type { FaceBox } from "../state";
import { CURSORS, dragSnapped } from "./bbox";
import type { PointerInfo, Tool, ToolContext } from "./types";

export const MIN_FACE = 8;

type Phase =
  | { kind: "idle" }
  | { kind: "dragging"; index: number; handle: Handle; start: Rect; from: Point; created: boolean; moved: boolean };

/** `box` moved or cut to lie inside `picture`, keeping its size where it fits. */
export function keepInside(box: Rect, picture: Rect): Rect {
  const width = Math.min(box.width, picture.width);
  const height = Math.min(box.height, picture.height);
  return {
    x: clamp(box.x, picture.x, picture.x + picture.width - width),
    y: clamp(box.y, picture.y, picture.y + picture.height - height),
    width,
    height,
  };
}

/** The top-most face box under a screen point and the handle hit (boxes drawn later lie on top). */
export function faceAt(boxes: Rect[], toScreen: (r: Rect) => Rect, p: Point): { index: number; handle: Handle } | null {
  for (let i = boxes.length - 1; i >= 0; i--) {
    const handle = hitHandle(toScreen(boxes[i]), p, 6);
    if (handle) return { index: i, handle };
  }
  return null;
}

export class FacesTool implements Tool {
  readonly name = "faces";
  private state: Phase = { kind: "idle" };

  constructor(private readonly ctx: ToolContext) {}

  get phase(): string {
    return this.state.kind;
  }

  private hit(p: Point): { index: number; handle: Handle } | null {
    const s = this.ctx.store.state;
    return faceAt(s.faces.boxes, (r) => rectToScreen(s.viewport, r), p);
  }

  cursor(p: PointerInfo | null): string {
    if (this.state.kind === "dragging") return CURSORS[this.state.handle];
    const hit = p ? this.hit(p.screen) : null;
    return hit ? CURSORS[hit.handle] : "crosshair";
  }

  private setBox(index: number, rect: Rect | null): void {
    const s = this.ctx.store.state;
    const boxes = [...s.faces.boxes];
    if (rect === null) boxes.splice(index, 1);
    else boxes[index] = { ...boxes[index], ...rect };
    this.ctx.store.apply({ faces: { ...s.faces, boxes } });
  }

  down(p: PointerInfo): void {
    const s = this.ctx.store.state;
    if (!s.picture) return;
    const hit = this.hit(p.screen);
    if (hit) {
      const start = { ...s.faces.boxes[hit.index] };
      this.state = { kind: "dragging", index: hit.index, handle: hit.handle, start, from: p.doc, created: false, moved: false };
      return;
    }
    // anywhere else: a new face box, dragged out from here
    // from the pixel under the pointer (as the status bar names it)
    const x = Math.floor(p.doc.x);
    const y = Math.floor(p.doc.y);
    const box: FaceBox = { x, y, width: 1, height: 1, enabled: true, prompt: "", score: null };
    this.ctx.store.apply({ faces: { ...s.faces, boxes: [...s.faces.boxes, box] } });
    const start = { x, y, width: 0, height: 0 };
    this.state = { kind: "dragging", index: s.faces.boxes.length, handle: "se", start, from: p.doc, created: true, moved: false };
  }

  move(p: PointerInfo): void {
    if (this.state.kind !== "dragging") return;
    const { index, handle, start, from } = this.state;
    const dx = Math.round(p.doc.x - from.x);
    const dy = Math.round(p.doc.y - from.y);
    if (!dx && !dy && !this.state.moved) return;
    this.state.moved = true;
    this.setBox(index, dragSnapped(start, handle, dx, dy, 1, { x: 0, y: 0 }));
  }

  up(): void {
    this.finish();
  }

  cancel(): void {
    this.finish();
  }

  private finish(): void {
    if (this.state.kind !== "dragging") return;
    const { index, created, moved } = this.state;
    this.state = { kind: "idle" };
    const s = this.ctx.store.state;
    const box = s.faces.boxes[index];
    if (!box || !s.picture) return;
    if (!created && !moved) {
      // a click on a box: fix this face, or leave it as it is
      const boxes = s.faces.boxes.map((b, i) => (i === index ? { ...b, enabled: !b.enabled } : b));
      this.ctx.store.apply({ faces: { ...s.faces, boxes } });
      return;
    }
    const inside = keepInside(box, s.picture.bounds);
    // a click, or a box too small to be a face, draws nothing
    if (inside.width < MIN_FACE || inside.height < MIN_FACE) {
      this.setBox(index, created ? null : keepInside({ ...inside, width: Math.max(MIN_FACE, inside.width), height: Math.max(MIN_FACE, inside.height) }, s.picture.bounds));
      return;
    }
    this.setBox(index, inside);
  }
}
