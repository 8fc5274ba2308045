// Pointer routing: which tool a press goes to (the current tool, the middle button pans), the cursor,
// and the wheel's zoom at the pointer. Tools themselves are state machines in this folder.

import { toDoc, zoomAt, type Point } from "../geometry";
import type { Store, ToolName } from "../state";
import type { PointerInfo, Tool } from "./types";

export class PointerRouter {
  private gesture: { tool: Tool; pointerId: number } | null = null;
  private last: PointerInfo | null = null;

  constructor(
    private readonly element: HTMLCanvasElement,
    private readonly store: Store,
    private readonly tools: Record<ToolName, Tool>,
  ) {
    element.addEventListener("pointerdown", (e) => this.down(e));
    element.addEventListener("pointermove", (e) => this.move(e));
    element.addEventListener("pointerup", (e) => this.end(e));
    element.addEventListener("pointercancel", (e) => this.end(e));
    element.addEventListener("pointerleave", () => {
      if (!this.gesture) store.apply({ pointer: null });
    });
    element.addEventListener("contextmenu", (e) => e.preventDefault());
    element.addEventListener("wheel", (e) => this.wheel(e), { passive: false });
  }

  get busy(): boolean {
    return this.gesture !== null;
  }

  private screenPoint(event: { clientX: number; clientY: number }): Point {
    const r = this.element.getBoundingClientRect();
    return { x: event.clientX - r.left, y: event.clientY - r.top };
  }

  private info(event: PointerEvent): PointerInfo {
    const screen = this.screenPoint(event);
    const v = this.store.state.viewport;
    const coalesced = typeof event.getCoalescedEvents === "function" ? event.getCoalescedEvents() : [];
    return {
      screen,
      doc: toDoc(v, screen),
      trail: coalesced.map((e) => toDoc(v, this.screenPoint(e))),
      shiftKey: event.shiftKey,
      altKey: event.altKey,
      pointerType: event.pointerType,
      pressure: event.pressure,
      button: event.button,
    };
  }

  updateCursor(): void {
    const tool = this.gesture?.tool ?? this.tools[this.store.state.tool];
    this.element.style.cursor = tool.cursor(this.last);
  }

  /** The tool changed: a gesture in progress ends cleanly. */
  toolChanged(): void {
    this.gesture?.tool.cancel();
    this.gesture = null;
    this.updateCursor();
  }

  private down(event: PointerEvent): void {
    if (this.gesture) return;
    this.element.focus({ preventScroll: true });
    const current = this.tools[this.store.state.tool];
    const tool = event.button === 1 ? this.tools.pan : event.button === 0 || (event.button === 2 && current.secondaryButton) ? current : null;
    if (!tool) return;
    event.preventDefault();
    try {
      this.element.setPointerCapture(event.pointerId);
    } catch {
      // a pointer the browser does not track (synthetic events): painting works without capture
    }
    this.gesture = { tool, pointerId: event.pointerId };
    this.last = this.info(event);
    tool.down(this.last);
    this.updateCursor();
  }

  private move(event: PointerEvent): void {
    const info = this.info(event);
    this.last = info;
    this.store.apply({ pointer: info.screen });
    if (this.gesture && this.gesture.pointerId === event.pointerId) this.gesture.tool.move(info);
    else this.updateCursor();
  }

  private end(event: PointerEvent): void {
    if (!this.gesture || this.gesture.pointerId !== event.pointerId) return;
    const info = this.info(event);
    if (event.type === "pointerup") this.gesture.tool.up(info);
    else this.gesture.tool.cancel();
    this.gesture = null;
    this.updateCursor();
  }

  private wheel(event: WheelEvent): void {
    event.preventDefault();
    const anchor = this.screenPoint(event);
    const delta = event.deltaMode === 1 ? event.deltaY * 16 : event.deltaY;
    this.store.apply({ viewport: zoomAt(this.store.state.viewport, anchor, Math.exp(-delta * 0.0015)) });
  }
}
