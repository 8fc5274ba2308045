import { fitRect, scaleRect } from "../geometry";
import type { Changed } from "../history";
import type { AppState, Patch } from "../state";
import type { Action, Context } from "./types";

function changedPatch(state: AppState, changed: Changed | null, ctx: Context): Patch | null {
  if (!changed) return null;
  // what can be undone now is set by the dispatcher (undo: "replays")
  const patch: Patch = { dirty: true };
  if (changed === "mask") patch.mask = { ...state.mask, version: state.mask.version + 1 };
  if (changed === "paint") patch.paint = { ...state.paint, version: state.paint.version + 1 };
  // the box was set through the history's port already
  if ((changed === "picture" || changed === "document") && state.picture) {
    patch.picture = { ...state.picture, bounds: ctx.history.surfacesBounds(), version: state.picture.version + 1 };
    patch.mask = { ...state.mask, version: state.mask.version + 1 };
    patch.paint = { ...state.paint, version: state.paint.version + 1 };
  }
  if (changed === "document" && state.picture && patch.picture) {
    // the picture changed size as a whole (an upscale undone or redone): the face boxes and the view follow
    const before = state.picture.bounds;
    const now = patch.picture.bounds;
    const fx = now.width / before.width;
    const fy = now.height / before.height;
    patch.faces = { ...state.faces, boxes: state.faces.boxes.map((b) => ({ ...b, ...scaleRect(b, fx, fy) })) };
    patch.viewport = fitRect(now, state.screen.width, state.screen.height, 1);
  }
  return patch;
}

export const historyActions: Action[] = [
  {
    name: "history.undo",
    undo: "replays",
    label: "Undo",
    keys: ["mod+z"],
    enabled: (s) => s.history.canUndo,
    perform: (s, ctx) => changedPatch(s, ctx.history.undo(), ctx),
  },
  {
    name: "history.redo",
    undo: "replays",
    label: "Redo",
    keys: ["mod+shift+z", "mod+y"],
    enabled: (s) => s.history.canRedo,
    perform: (s, ctx) => changedPatch(s, ctx.history.redo(), ctx),
  },
];
