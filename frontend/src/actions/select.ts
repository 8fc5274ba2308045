// The Select tool's actions: Enter adds the proposed selection to the mask, Shift+Enter takes it away (each
// one undo step), Esc drops it; the wand and the object selector; "Remove object" adds it and fills it.

import type { AppState } from "../state";
import type { Action } from "./types";

const proposed = (s: AppState) => s.select.proposal !== null && s.picture !== null;

export const selectActions: Action[] = [
  {
    name: "tool.select",
    undo: "none",
    label: "Select objects",
    keys: ["s"],
    perform: () => ({ tool: "select", heldFrom: null }),
  },
  {
    name: "select.add",
    undo: "records",
    label: "Add to mask",
    keys: ["enter"],
    enabled: proposed,
    perform: (s, ctx) => ctx.services.applySelection(s, false),
  },
  {
    name: "select.subtract",
    undo: "records",
    label: "Subtract from mask",
    keys: ["shift+enter"],
    enabled: proposed,
    perform: (s, ctx) => ctx.services.applySelection(s, true),
  },
  {
    name: "select.drop",
    undo: "none",
    label: "Drop the selection",
    keys: ["escape"],
    enabled: (s) => s.select.proposal !== null || s.select.clicks.length > 0 || s.select.box !== null,
    perform: (s, ctx) => ctx.services.dropSelection(s),
  },
  {
    name: "select.remove",
    undo: "records",
    label: "Remove object",
    keys: [],
    enabled: (s) => proposed(s) && !s.submitting,
    perform: (s, ctx) => ctx.services.removeObject(s),
  },
  {
    name: "select.wand",
    undo: "none",
    label: "Magic wand",
    keys: ["w"],
    perform: (s) => ({ tool: "select", heldFrom: null, select: { ...s.select, mode: s.select.mode === "wand" && s.tool === "select" ? "object" : "wand" } }),
  },
];
