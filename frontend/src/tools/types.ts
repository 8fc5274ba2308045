import type { Point } from "../geometry";
import type { History } from "../history";
import type { Layers } from "../layers";
import type { FrameScheduler } from "../render/scheduler";
import type { Store } from "../state";

export interface ToolContext {
  store: Store;
  layers: Layers;
  history: History;
  scheduler: FrameScheduler;
}

export interface PointerInfo {
  screen: Point;
  doc: Point;
  /** Document points of the events the browser coalesced since the last move, oldest first. */
  trail: Point[];
  shiftKey: boolean;
  altKey: boolean;
  pointerType: string;
  /** 0..1 for a pen; 0.5 for a mouse button held. */
  pressure: number;
  /** The button pressed (0 main, 2 secondary; see `Tool.secondaryButton`). */
  button: number;
}

/** A tool is a small state machine driven by pointer events: idle -> pointing/painting -> idle. */
export interface Tool {
  readonly name: string;
  readonly phase: string;
  /** The secondary (right) button reaches this tool too (Select: it takes away). */
  readonly secondaryButton?: boolean;
  cursor(p: PointerInfo | null): string;
  down(p: PointerInfo): void;
  move(p: PointerInfo): void;
  up(p: PointerInfo): void;
  /** Pointer lost or tool switched mid-gesture: finish cleanly. */
  cancel(): void;
}
