// The progress bar inside the box on the canvas, following pan and zoom. Once the result is there it
// goes, so it never covers the result being judged.

import { rectToScreen } from "../geometry";
import { boxJob, type AppState } from "../state";
import { $, changed, duration, type Panel } from "./dom";
import { timeLeft } from "./queue";

export class BoxStatusPanel implements Panel {
  update(state: AppState, previous: AppState | null): void {
    if (!changed(state, previous, "jobs", "activeJob", "viewport", "staging", "screen", "connection")) return;
    const panel = $("#box-status");
    const job = boxJob(state);
    const bar = $<HTMLProgressElement>("#progress");
    if (job) bar.dataset.status = job.status;
    if (!job || job.status === "canceled" || job.status === "succeeded") {
      panel.hidden = true;
      return;
    }
    const box = rectToScreen(state.viewport, job.box);
    panel.hidden = false;
    const width = Math.max(120, Math.min(box.width - 16, 320));
    panel.style.width = `${width}px`;
    panel.style.left = `${Math.round(box.x + box.width / 2 - width / 2)}px`;
    panel.style.top = `${Math.round(Math.max(4, Math.min(state.screen.height - 40, box.y + box.height - 40)))}px`;
    bar.max = job.total || 1;
    bar.value = job.step;
    if (job.status === "queued" || (job.status === "running" && !job.total)) bar.removeAttribute("value");
    const left = timeLeft(job, Date.now());
    const label =
      state.connection !== "open"
        ? "server unreachable, waiting…"
        : job.status === "failed"
          ? "failed"
          : job.status === "queued"
            ? job.position
              ? `queued, ${job.position} ahead`
              : "queued"
            : job.stage
              ? job.stage
              : job.total
              ? `step ${job.step} of ${job.total}${left !== null ? ` · ${duration(left)} left` : ""}`
              : "working…";
    const waiting = Object.values(state.jobs).filter((j) => j.status === "queued" && j.id !== job.id).length;
    $("#progress-label").textContent = waiting && job.status === "running" ? `${label} · ${waiting} waiting` : label;
  }
}
