// The queue: this page's jobs with their state, progress, time left and a Cancel button. While the
// server cannot be reached a job's state is unknown: it says so, and Cancel waits for the server.

import { isFinished } from "../jobs";
import type { AppState, JobView } from "../state";
import { $, changed, duration, type Panel } from "./dom";

/** Seconds left for a running job, from the pace of its steps so far (null until there is a pace). */
export function timeLeft(job: JobView, now: number): number | null {
  if (job.status !== "running" || !job.startedAt || job.step < 1 || !job.total) return null;
  const perStep = (now - job.startedAt) / 1000 / job.step;
  return perStep * (job.total - job.step);
}

export function jobLabel(job: JobView, now = Date.now()): string {
  switch (job.status) {
    case "queued":
      return job.position ? `queued (${job.position} ahead)` : "queued";
    case "running": {
      const where = job.device ? ` on ${job.device}` : "";
      const left = timeLeft(job, now);
      const rest = left !== null ? ` · ${duration(left)} left` : "";
      if (job.stage) return `${job.stage}${where}${rest}`;
      return job.total ? `running ${job.step}/${job.total}${where}${rest}` : `running${where}`;
    }
    case "failed":
      return `failed: ${job.error ?? ""}`;
    default:
      return job.status;
  }
}

/** The queue line's name: engine and box, and the working size when a manual scale set one. */
export function jobName(job: JobView): string {
  const size = job.workingSize ? ` at ${job.workingSize.width}×${job.workingSize.height}` : "";
  return `${job.engine} · ${job.box.width}×${job.box.height}${size}`;
}

/** Finished jobs shown before the rest fold away (the gallery keeps every result). */
const FINISHED_SHOWN = 3;

export class QueuePanel implements Panel {
  private items = new Map<string, HTMLLIElement>();
  private expanded = false;
  private last: AppState | null = null;

  constructor(private readonly cancel: (jobId: string) => void) {
    $("#queue-more").addEventListener("click", () => {
      this.expanded = !this.expanded;
      if (this.last) this.update(this.last, null);
    });
  }

  update(state: AppState, previous: AppState | null): void {
    if (!changed(state, previous, "jobs", "jobOrder", "queue", "connection")) return;
    this.last = state;
    const list = $("#queue");
    const ids = state.jobOrder.slice(0, 50);
    for (const [id, item] of this.items) {
      if (!ids.includes(id)) {
        item.remove();
        this.items.delete(id);
      }
    }
    const offline = state.connection !== "open";
    let finishedSeen = 0;
    ids.forEach((id, index) => {
      const job = state.jobs[id];
      if (!job) return;
      let item = this.items.get(id);
      if (!item) {
        item = document.createElement("li");
        item.setAttribute("data-testid", "queue-item");
        item.dataset.jobId = id;
        item.innerHTML = `<div class="line"><span class="name"></span><span class="status" data-testid="queue-status"></span></div>
          <progress max="1" value="0"></progress>
          <button type="button" data-testid="cancel-job">Cancel</button>`;
        item.querySelector("button")!.addEventListener("click", () => this.cancel(id));
        this.items.set(id, item);
      }
      if (list.children[index] !== item) list.insertBefore(item, list.children[index] ?? null);
      const finished = isFinished(job.status);
      // jobs on their way first in mind: finished ones are one line each, and past the newest few fold away
      if (finished) finishedSeen++;
      item.classList.toggle("finished", finished);
      item.hidden = finished && finishedSeen > FINISHED_SHOWN && !this.expanded;
      item.dataset.status = offline && !finished ? "unknown" : job.status;
      item.querySelector(".name")!.textContent = jobName(job);
      item.querySelector(".status")!.textContent = offline && !finished ? "server unreachable, waiting…" : jobLabel(job);
      const bar = item.querySelector("progress")!;
      bar.max = job.total || 1;
      bar.value = job.status === "succeeded" ? bar.max : job.step;
      bar.hidden = (finished && job.status !== "succeeded") || (offline && !finished);
      item.querySelector<HTMLButtonElement>("button")!.hidden = finished || offline;
    });
    const folded = ids.filter((id) => state.jobs[id] && isFinished(state.jobs[id].status)).length - FINISHED_SHOWN;
    const more = $("#queue-more");
    more.hidden = folded <= 0;
    more.textContent = this.expanded ? "Fold older finished jobs" : `${folded} older finished job${folded === 1 ? "" : "s"}…`;
    const mine = Object.values(state.jobs);
    const running = mine.filter((j) => j.status === "running").length;
    const waiting = mine.filter((j) => j.status === "queued").length;
    $("#queue-summary").textContent = running || waiting ? `${running} running · ${waiting} waiting` : "";
  }
}
