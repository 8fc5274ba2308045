import type { AppState } from "../state";
import type { Action } from "./types";

const staging = (s: AppState) => s.staging.items.length > 0;

export function stagingStep(state: AppState, direction: 1 | -1) {
  const n = state.staging.items.length;
  if (n === 0) return null;
  return { staging: { ...state.staging, index: (state.staging.index + direction + n) % n } };
}

/** Drop the staged result on show; the next one (or none) shows. Not undoable: nothing changed yet. */
export function discardCurrent(state: AppState) {
  const items = state.staging.items.filter((_, i) => i !== state.staging.index);
  return { staging: { items, index: Math.min(state.staging.index, Math.max(0, items.length - 1)) } };
}

export const stagingActions: Action[] = [
  {
    name: "staging.prev",
    undo: "none",
    label: "Previous result",
    keys: ["arrowleft"],
    enabled: staging,
    perform: (s) => stagingStep(s, -1),
  },
  {
    name: "staging.next",
    undo: "none",
    label: "Next result",
    keys: ["arrowright"],
    enabled: staging,
    perform: (s) => stagingStep(s, 1),
  },
  {
    name: "staging.accept",
    undo: "records",
    label: "Accept",
    keys: ["enter"],
    enabled: staging,
    perform: (s, ctx) => ctx.services.accept(s),
  },
  {
    name: "staging.discard",
    undo: "none",
    label: "Discard",
    keys: ["delete", "backspace"],
    enabled: staging,
    perform: (s) => discardCurrent(s),
  },
];
