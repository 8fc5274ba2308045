// The toolbar: tools, brush size and hardness, paint colour and opacity, mask and history buttons.

import { ACTIONS, isActionName, type ActionName } from "../actions";
import { describeKeys } from "../actions/keys";
import { settled, withError, type AppState, type Store } from "../state";
import { $, changed, outOfRange, type Panel } from "./dom";

const mac = /Mac|iPhone|iPad/.test(navigator.platform);

const HINTS: Record<string, string> = {
  brush: "Paint the area to fill · [ ] size · Shift+[ ] hardness",
  eraser: "Erase the mask · [ ] size",
  paint: "Paint colour (sent with the job) · I or Alt+click picks a colour · pen pressure sets the size",
  bbox: "Drag: a new box · Shift+drag: move it · F: fit the view to it · past the picture = outpainting",
  pan: "Drag to pan · wheel to zoom",
  faces: "Click a face box to switch it off/on · drag it to move, its edge to resize · drag elsewhere to add one",
};

export class Toolbar implements Panel {
  constructor(store: Store, dispatch: (name: ActionName) => void) {
    for (const el of document.querySelectorAll<HTMLElement>("[data-action]")) {
      const name = el.dataset.action ?? "";
      if (!isActionName(name)) throw new Error(`${el.id || el.textContent}: no action named ${name}`);
      const action = ACTIONS.find((a) => a.name === name);
      if (action && !el.title) el.title = action.keys.length ? `${action.label} (${describeKeys(action.keys, mac)})` : action.label;
      el.addEventListener("click", () => {
        // hand the keyboard back to the canvas: Enter then accepts, it does not press the button again
        el.blur();
        dispatch(name);
      });
    }
    const size = $<HTMLInputElement>("#brush-size");
    size.addEventListener("change", () => {
      const value = Math.round(Number(size.value));
      if (Number.isFinite(value) && value >= 1 && value <= 1024) {
        store.apply({ ...settled(store.state, "field:brush"), brush: { ...store.state.brush, size: value } });
      } else {
        store.apply(withError(store.state, outOfRange(size, store.state.brush.size), false, "field:brush"));
        size.value = String(store.state.brush.size);
      }
    });
    const hardness = $<HTMLInputElement>("#brush-hardness");
    hardness.addEventListener("input", () => store.apply({ brush: { ...store.state.brush, hardness: Number(hardness.value) } }));
    const color = $<HTMLInputElement>("#paint-color");
    color.addEventListener("input", () => store.apply({ paint: { ...store.state.paint, color: color.value } }));
    const opacity = $<HTMLInputElement>("#paint-opacity");
    opacity.addEventListener("input", () => store.apply({ paint: { ...store.state.paint, opacity: Number(opacity.value) } }));
  }

  update(state: AppState, previous: AppState | null): void {
    if (changed(state, previous, "tool", "brush", "paint")) {
      for (const button of document.querySelectorAll<HTMLElement>("[data-action^='tool.']")) {
        const active = button.dataset.action === `tool.${state.tool}`;
        button.classList.toggle("active", active);
        button.setAttribute("aria-pressed", String(active));
      }
      const size = $<HTMLInputElement>("#brush-size");
      if (document.activeElement !== size) size.value = String(state.brush.size);
      $<HTMLInputElement>("#brush-hardness").value = String(state.brush.hardness);
      const color = $<HTMLInputElement>("#paint-color");
      if (color.value !== state.paint.color) color.value = state.paint.color;
      $<HTMLInputElement>("#paint-opacity").value = String(state.paint.opacity);
      const picking = state.tool === "paint" && state.paint.picking;
      $("#eyedropper").classList.toggle("active", picking);
      $("#eyedropper").setAttribute("aria-pressed", String(picking));
      $("#paint-group").classList.toggle("dim", state.tool !== "paint");
      $("#tool-hint").textContent = HINTS[state.tool] ?? "";
    }
    if (changed(state, previous, "history", "picture", "mask", "submitting", "staging")) {
      const set = (name: string, enabled: boolean) => {
        for (const b of document.querySelectorAll<HTMLButtonElement>(`[data-action='${name}']`)) b.disabled = !enabled;
      };
      set("history.undo", state.history.canUndo);
      set("history.redo", state.history.canRedo);
      const has = state.picture !== null;
      for (const name of ["mask.invert", "mask.clear", "file.download", "view.fit", "view.actual", "view.fitBox"]) set(name, has);
      set("generate.invoke", has && !state.submitting);
      $("#invoke").textContent = state.submitting ? "Sending…" : "Invoke";
      $("#mask-toggle").textContent = state.mask.visible ? "Hide mask" : "Show mask";
      $("#mask-toggle").setAttribute("aria-pressed", String(!state.mask.visible));
      $("#empty-hint").hidden = has;
    }
  }
}
