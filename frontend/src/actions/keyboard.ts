// Keys reach the canvas's actions whenever the focus is not in a text field: after using a dropdown,
// a checkbox or a button, ← → Enter and the tool keys still do what they do on the canvas.

import { ACTIONS } from "./index";
import { findAction, normalise } from "./keys";
import type { Store } from "../state";
import type { ActionName } from "./types";

/** Fields where typed keys belong to the field (text, numbers, the prompt). */
export function inTextField(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target instanceof HTMLTextAreaElement) return true;
  if (target instanceof HTMLInputElement) return !["button", "checkbox", "radio", "range", "color", "file"].includes(target.type);
  return target.isContentEditable;
}

export interface KeyboardHooks {
  dispatch(name: ActionName): void;
  /** Space held: pan until released. */
  holdPan(down: boolean): void;
  /** `\` held: show the picture without the staged result. */
  holdBefore(down: boolean): void;
}

export function bindKeyboard(store: Store, hooks: KeyboardHooks): void {
  window.addEventListener("keydown", (event) => {
    const typing = inTextField(event.target);
    if (!typing && event.code === "Space") {
      event.preventDefault();
      if (!event.repeat) hooks.holdPan(true);
      return;
    }
    if (!typing && event.code === "Backslash" && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      if (!event.repeat) hooks.holdBefore(true);
      return;
    }
    const combo = normalise(event);
    const action = findAction(ACTIONS, combo);
    if (!action) return;
    if (typing && !action.inTextFields) return;
    // a focused button presses itself with Enter and Space
    if (event.target instanceof HTMLButtonElement && (combo === "enter" || combo === "space")) return;
    if (action.enabled && !action.enabled(store.state)) return;
    // also keeps a focused dropdown from changing with the arrows: they step through staged results
    event.preventDefault();
    hooks.dispatch(action.name);
  });
  window.addEventListener("keyup", (event) => {
    if (event.code === "Space") hooks.holdPan(false);
    if (event.code === "Backslash") hooks.holdBefore(false);
  });
  // a dropdown or checkbox hands the keyboard back once it has been used
  document.addEventListener("change", (event) => {
    const target = event.target;
    if (target instanceof HTMLSelectElement || (target instanceof HTMLInputElement && ["checkbox", "color", "range"].includes(target.type))) {
      target.blur();
    }
  });
}
