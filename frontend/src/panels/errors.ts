// Messages: one toast per distinct message (repeats count up instead of piling up), at most three.

import type { AppState } from "../state";
import { $, changed, type Panel } from "./dom";

export class ErrorsPanel implements Panel {
  private items = new Map<number, HTMLElement>();

  constructor(private readonly dismiss: (id: number) => void) {}

  update(state: AppState, previous: AppState | null): void {
    if (!changed(state, previous, "errors")) return;
    const box = $("#errors");
    const ids = new Set(state.errors.map((e) => e.id));
    for (const [id, el] of this.items) {
      if (!ids.has(id)) {
        el.remove();
        this.items.delete(id);
      }
    }
    for (const note of state.errors) {
      if (this.items.has(note.id)) continue;
      const el = document.createElement("div");
      el.className = "error";
      el.setAttribute("data-testid", "error");
      const text = document.createElement("span");
      text.textContent = note.count > 1 ? `${note.message} (×${note.count})` : note.message;
      const close = document.createElement("button");
      close.type = "button";
      close.textContent = "×";
      close.setAttribute("aria-label", "Dismiss");
      close.addEventListener("click", () => this.dismiss(note.id));
      el.append(text, close);
      box.append(el);
      this.items.set(note.id, el);
    }
  }
}
