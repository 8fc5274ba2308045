import { clamp } from "../geometry";
import type { ToolName } from "../state";
import type { Action } from "./types";

export const MIN_BRUSH = 1;
export const MAX_BRUSH = 1024;

function selectTool(name: ToolName, label: string, key: string): Action {
  return {
    name: `tool.${name}` as const,
    undo: "none",
    label,
    keys: [key],
    perform: () => ({ tool: name, heldFrom: null }),
  };
}

/** Size steps that feel even at any size: about 10 %, at least 1 px. */
export function resizeBrush(size: number, direction: 1 | -1): number {
  const step = Math.max(1, Math.round(size * 0.1));
  return clamp(size + direction * step, MIN_BRUSH, MAX_BRUSH);
}

export const toolActions: Action[] = [
  selectTool("brush", "Brush", "b"),
  selectTool("eraser", "Eraser", "e"),
  selectTool("paint", "Paint (colour)", "p"),
  selectTool("bbox", "Bounding box", "c"),
  selectTool("pan", "Pan", "h"),
  {
    name: "paint.pick",
    undo: "none",
    label: "Pick a colour from the picture",
    keys: ["i"],
    perform: (s) => ({ tool: "paint", heldFrom: null, paint: { ...s.paint, picking: !(s.tool === "paint" && s.paint.picking) } }),
  },
  {
    name: "brush.smaller",
    undo: "none",
    label: "Smaller brush",
    keys: ["["],
    perform: (s) => ({ brush: { ...s.brush, size: resizeBrush(s.brush.size, -1) } }),
  },
  {
    name: "brush.larger",
    undo: "none",
    label: "Larger brush",
    keys: ["]"],
    perform: (s) => ({ brush: { ...s.brush, size: resizeBrush(s.brush.size, 1) } }),
  },
  {
    name: "brush.softer",
    undo: "none",
    label: "Softer brush",
    keys: ["shift+["],
    perform: (s) => ({ brush: { ...s.brush, hardness: clamp(Math.round((s.brush.hardness - 0.1) * 10) / 10, 0, 1) } }),
  },
  {
    name: "brush.harder",
    undo: "none",
    label: "Harder brush",
    keys: ["shift+]"],
    perform: (s) => ({ brush: { ...s.brush, hardness: clamp(Math.round((s.brush.hardness + 0.1) * 10) / 10, 0, 1) } }),
  },
];
