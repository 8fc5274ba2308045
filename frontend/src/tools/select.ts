// Select: idle -> pressed (a click adds a point: Alt-click or the right button takes away) -> dragging (a box
// around the object, from the press to the pointer) -> idle. Each click or box asks for a new proposal; the
// clicks and the box are the tool's settings, not the document: undo does not step through them.

import type { Point, Rect } from "../geometry";
import type { PointerInfo, Tool, ToolContext } from "./types";

/** A press that moves less than this (screen px) is a click, not a box. */
const CLICK_SLOP = 4;

type Phase = { kind: "idle" } | { kind: "pressed"; from: Point; fromScreen: Point; positive: boolean } | { kind: "dragging"; from: Point; positive: boolean };

/** The rectangle between two document points, in whole pixels. */
export function boxBetween(a: Point, b: Point): Rect {
  const x = Math.floor(Math.min(a.x, b.x));
  const y = Math.floor(Math.min(a.y, b.y));
  return { x, y, width: Math.max(1, Math.ceil(Math.max(a.x, b.x)) - x), height: Math.max(1, Math.ceil(Math.max(a.y, b.y)) - y) };
}

export class SelectTool implements Tool {
  readonly name = "select";
  readonly secondaryButton = true;
  private state: Phase = { kind: "idle" };

  constructor(
    private readonly ctx: ToolContext,
    /** The clicks or box changed: ask for a proposal. */
    private readonly propose: () => void,
  ) {}

  get phase(): string {
    return this.state.kind;
  }

  cursor(): string {
    return "crosshair";
  }

  down(p: PointerInfo): void {
    if (!this.ctx.store.state.picture) return;
    this.state = { kind: "pressed", from: p.doc, fromScreen: p.screen, positive: !(p.altKey || p.button === 2) };
  }

  move(p: PointerInfo): void {
    const s = this.state;
    if (s.kind === "idle") return;
    if (s.kind === "pressed") {
      if (Math.hypot(p.screen.x - s.fromScreen.x, p.screen.y - s.fromScreen.y) < CLICK_SLOP) return;
      this.state = { kind: "dragging", from: s.from, positive: s.positive };
    }
    const select = this.ctx.store.state.select;
    this.ctx.store.apply({ select: { ...select, dragging: boxBetween((this.state as { from: Point }).from, p.doc) } });
  }

  up(p: PointerInfo): void {
    const s = this.state;
    this.state = { kind: "idle" };
    const store = this.ctx.store;
    const picture = store.state.picture;
    const select = store.state.select;
    if (!picture || s.kind === "idle") return;
    if (s.kind === "dragging") {
      // a new box starts a new selection (the server keeps only its part inside the picture)
      store.apply({ select: { ...select, box: boxBetween(s.from, p.doc), clicks: [], dragging: null } });
    } else {
      const b = picture.bounds;
      if (p.doc.x < b.x || p.doc.y < b.y || p.doc.x >= b.x + b.width || p.doc.y >= b.y + b.height) return;
      // each click refines the one selection, until it is added to the mask or dropped
      const click = { x: p.doc.x, y: p.doc.y, positive: s.positive };
      store.apply({ select: { ...select, clicks: [...select.clicks, click], dragging: null } });
    }
    this.propose();
  }

  cancel(): void {
    this.state = { kind: "idle" };
    const select = this.ctx.store.state.select;
    if (select.dragging) this.ctx.store.apply({ select: { ...select, dragging: null } });
  }
}
