// Recent documents: the pictures opened before in this browser, each kept as it was left (mask, paint,
// box, staged results, undo history), to switch back to. The open one is not listed.

import type { AppState } from "../state";
import { $, changed, type Panel } from "./dom";

const size = (bytes: number) => (bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} kB`);

export class RecentPanel implements Panel {
  constructor(private readonly open: (id: string) => void) {}

  update(state: AppState, previous: AppState | null): void {
    if (!changed(state, previous, "recent", "picture")) return;
    const others = state.recent.filter((d) => d.id !== state.picture?.id);
    $("#recent-summary").textContent = others.length ? `${others.length}` : "";
    $("#recent-empty").hidden = others.length > 0;
    $("#recent").replaceChildren(
      ...others.map((doc) => {
        const item = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        button.setAttribute("data-testid", "recent-item");
        button.dataset.documentId = doc.id;
        button.textContent = doc.name;
        button.title = `Switch to ${doc.name} as you left it (mask, paint, box, staged results, undo)`;
        const note = document.createElement("span");
        note.className = "hint";
        note.textContent = `${doc.width}×${doc.height} · ${size(doc.bytes)}`;
        button.addEventListener("click", () => this.open(doc.id));
        item.append(button, note);
        return item;
      }),
    );
  }
}
