// What a state change redraws: the whole static canvas (picture, layers, results, mask overlay) or
// only the interactive overlay (box, handles, brush outline). Strokes redraw their own rectangle.

import { boxJob, type AppState } from "../state";
import type { FrameScheduler } from "./scheduler";

export function redraw(state: AppState, previous: AppState, scheduler: FrameScheduler): void {
  const full =
    state.viewport !== previous.viewport ||
    state.picture !== previous.picture ||
    state.mask !== previous.mask ||
    state.paint.visible !== previous.paint.visible ||
    state.paint.version !== previous.paint.version ||
    state.pictureVisible !== previous.pictureVisible ||
    state.before !== previous.before ||
    state.staging !== previous.staging ||
    state.screen !== previous.screen ||
    state.activeJob !== previous.activeJob ||
    // the grow and feather preview around the mask
    state.maskPreview !== previous.maskPreview ||
    state.settings.grow !== previous.settings.grow ||
    state.settings.feather !== previous.settings.feather ||
    boxJob(state)?.preview !== boxJob(previous)?.preview;
  if (full) {
    scheduler.invalidateAll();
  } else if (
    state.bbox !== previous.bbox ||
    state.tool !== previous.tool ||
    state.pointer !== previous.pointer ||
    state.brush !== previous.brush ||
    // the boundary highlight: switched, or another result accepted or undone
    state.seamOutline !== previous.seamOutline ||
    (state.seamOutline && (state.history !== previous.history || state.jobs !== previous.jobs)) ||
    state.paint.color !== previous.paint.color ||
    state.select !== previous.select
  ) {
    scheduler.invalidateOverlay();
  }
}
