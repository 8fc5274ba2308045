import type { History } from "../history";
import type { PictureJobServices, Services } from "../services/types";
import type { AppState, Patch } from "../state";

export interface Context {
  history: History;
  services: Services & PictureJobServices;
}

export type Result = Patch | null | Promise<Patch | null>;

/** Every action's name: buttons (`data-action`), hotkeys and the dispatcher name them by it. */
export const ACTION_NAMES = [
  "tool.brush", "tool.eraser", "tool.paint", "tool.bbox", "tool.pan", "tool.faces",
  "paint.pick", "brush.smaller", "brush.larger", "brush.softer", "brush.harder",
  "mask.toggle", "paint.clear", "mask.invert", "mask.clear",
  "history.undo", "history.redo",
  "view.fit", "view.actual", "view.fitBox", "view.before",
  "staging.prev", "staging.next", "staging.accept", "staging.discard",
  "generate.invoke", "file.download", "file.open", "errors.dismiss",
  "picture.upscale", "faces.find", "faces.fix", "faces.clear",
  "seams.repair", "seams.repairPainted", "seams.outline",
] as const;

export type ActionName = (typeof ACTION_NAMES)[number];

export function isActionName(name: string): name is ActionName {
  return (ACTION_NAMES as readonly string[]).includes(name);
}

/** One thing a user can do: a button, a menu entry and a hotkey all call `perform`. */
export interface Action {
  name: ActionName;
  label: string;
  /** Normalised keys, e.g. "b", "mod+shift+z", "arrowleft". */
  keys: string[];
  /**
   * How undo treats it, read by `runAction` (as Excalidraw's `captureUpdate` beside `perform`): "records"
   * pushes a history entry (mask and picture pixels change; the document becomes unsaved); "replays" moves
   * through history; "none" changes only the view, tools, settings or staging, which undo skips (streamed
   * previews and staged results are never in history: only accepting one is). The dispatcher updates
   * what can be undone after "records" and "replays", and refuses a history change from "none".
   */
  undo: "records" | "replays" | "none";
  /** Keys that also work while typing in a text field (e.g. mod+Enter to invoke from the prompt). */
  inTextFields?: boolean;
  enabled?(state: AppState): boolean;
  perform(state: AppState, ctx: Context): Result;
}
