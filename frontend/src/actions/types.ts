import type { History } from "../history";
import type { PictureJobServices } from "../pictureJobs";
import type { SelectServices } from "../selection";
import type { AppState, Patch } from "../state";

/** What actions with side effects reach: pixels through history, the server through services. */
export interface Services {
  invoke(state: AppState): Promise<Patch | null>;
  /** A seam repair along the last accepted fill's edge, or (`painted`) along the painted mask. */
  repairSeams(state: AppState, painted: boolean): Promise<Patch | null>;
  accept(state: AppState): Promise<Patch | null>;
  cancel(state: AppState, jobId: string): Promise<Patch | null>;
  download(state: AppState): Promise<Patch | null>;
  openDialog(): void;
  invertMask(): void;
  clearMask(): void;
  clearPaint(): void;
}

export interface Context {
  history: History;
  services: Services & PictureJobServices & SelectServices;
}

export type Result = Patch | null | Promise<Patch | null>;

/** One thing a user can do: a button, a menu entry and a hotkey all call `perform`. */
export interface Action {
  name: string;
  label: string;
  /** Normalised keys, e.g. "b", "mod+shift+z", "arrowleft". */
  keys: string[];
  /**
   * How undo treats it: "records" pushes a history entry (mask and picture pixels change); "replays"
   * moves through history; "none" changes only the view, tools, settings or staging, which undo skips
   * (streamed previews and staged results are never in history: only accepting one is).
   */
  undo: "records" | "replays" | "none";
  /** Keys that also work while typing in a text field (e.g. mod+Enter to invoke from the prompt). */
  inTextFields?: boolean;
  enabled?(state: AppState): boolean;
  perform(state: AppState, ctx: Context): Result;
}
