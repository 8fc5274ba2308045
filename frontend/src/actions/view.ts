import { actualSize, fitRect } from "../geometry";
import type { AppState } from "../state";
import type { Action } from "./types";

function target(state: AppState) {
  return state.picture?.bounds ?? state.bbox;
}

export const viewActions: Action[] = [
  {
    name: "view.fit",
    undo: "none",
    label: "Fit",
    keys: ["mod+0", "shift+1"],
    perform: (s) => ({ viewport: fitRect(target(s), s.screen.width, s.screen.height) }),
  },
  {
    name: "view.actual",
    undo: "none",
    label: "100 %",
    keys: ["mod+1", "shift+0"],
    perform: (s) => ({ viewport: actualSize(target(s), s.screen.width, s.screen.height) }),
  },
  {
    name: "view.fitBox",
    undo: "none",
    label: "Fit the box",
    keys: ["f"],
    enabled: (s) => s.picture !== null,
    perform: (s) => ({ viewport: fitRect(s.bbox, s.screen.width, s.screen.height) }),
  },
  {
    name: "view.before",
    undo: "none",
    label: "Before / after (hold \\)",
    keys: [],
    enabled: (s) => s.staging.items.length > 0,
    perform: (s) => ({ before: !s.before }),
  },
];
