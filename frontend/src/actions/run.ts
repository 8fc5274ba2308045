// Running an action: its `perform`, then what its undo decision says about history (as Excalidraw applies
// an action's `captureUpdate`): the flags for Undo and Redo, and the document becoming unsaved.

import type { AppState, Patch } from "../state";
import type { Action, Context, Result } from "./types";

/** What history looks like to the state: whether there is something to undo and to redo. */
export function historyFlags(history: Context["history"]): AppState["history"] {
  return { canUndo: history.canUndo, canRedo: history.canRedo };
}

/** `patch` with what the action's undo decision adds, given the history's revision before it ran. (An
 * action that waits may see strokes recorded meanwhile: only one that does not is held to "none".) */
function withUndo(action: Action, ctx: Context, revision: number, patch: Patch | null, waited: boolean): Patch | null {
  const changed = ctx.history.revision !== revision;
  if (action.undo === "none") {
    if (changed && !waited) throw new Error(`${action.name} changed the undo history but says it does not (undo: "none")`);
    return patch;
  }
  if (!changed) return patch;
  return { ...patch, history: historyFlags(ctx.history), ...(action.undo === "records" ? { dirty: true } : {}) };
}

/** Perform `action` on `state`: the patch to apply (or a promise of it), history flags included. */
export function runAction(action: Action, state: AppState, ctx: Context): Result {
  const revision = ctx.history.revision;
  const result = action.perform(state, ctx);
  if (result instanceof Promise) return result.then((patch) => withUndo(action, ctx, revision, patch, true));
  return withUndo(action, ctx, revision, result, false);
}
