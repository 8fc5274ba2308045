import { describe, expect, it } from "vitest";
import { applyEvent, buildJob, newJob } from "../src/jobs";
import { DEFAULT_SETTINGS, initialState, type AppState } from "../src/state";

const box = { x: 10, y: 20, width: 64, height: 64 };
const withJob = (): AppState => {
  const s = initialState();
  return { ...s, jobs: { j1: newJob("j1", "patchmatch", box, 0) }, jobOrder: ["j1"], activeJob: "j1" };
};

describe("job requests", () => {
  const engine = { name: "sd", description: "", needs_weights: true, takes_prompt: true, native_size: 512, grid: 8 };

  it("send every panel setting under the server's names", () => {
    const body = buildJob({ ...DEFAULT_SETTINGS, infill: "solid", infillColor: "#123456", seedMode: "fixed", seed: 7, feather: 9 }, undefined, "img", "msk");
    expect(body).toMatchObject({
      image: "img",
      mask: "msk",
      engine: "patchmatch",
      infill: { method: "solid", color: "#123456" },
      scale: { mode: "auto" },
      feather: 9,
      seed: 7,
    });
    expect(body).not.toHaveProperty("prompt");
  });

  it("random seed is -1, manual scale carries its size, prompts go to engines that take them", () => {
    const body = buildJob({ ...DEFAULT_SETTINGS, scaleMode: "manual", scaleWidth: 768, scaleHeight: 512, prompt: "a cat" }, engine, "a", "b");
    expect(body.seed).toBe(-1);
    expect(body.scale).toEqual({ mode: "manual", width: 768, height: 512 });
    expect(body.prompt).toBe("a cat");
  });
});

describe("job events", () => {
  it("move a job through queued, running and progress", () => {
    let s = withJob();
    s = { ...s, ...applyEvent(s, { type: "job.started", job_id: "j1", device: "cuda:0" }) };
    expect(s.jobs.j1).toMatchObject({ status: "running", device: "cuda:0" });
    s = { ...s, ...applyEvent(s, { type: "job.progress", job_id: "j1", step: 3, total: 10, preview: "data:image/jpeg;base64,xx" }) };
    expect(s.jobs.j1).toMatchObject({ step: 3, total: 10, preview: "data:image/jpeg;base64,xx" });
  });

  it("stage a result once, even when the event is replayed after a reconnect", () => {
    let s = withJob();
    const done = { type: "job.succeeded", job_id: "j1", result: { image: "r1" }, seed: 5 };
    s = { ...s, ...applyEvent(s, done) };
    s = { ...s, ...applyEvent(s, done) };
    expect(s.staging.items).toHaveLength(1);
    expect(s.staging.items[0]).toMatchObject({ jobId: "j1", imageId: "r1", box });
    expect(s.jobs.j1.status).toBe("succeeded");
  });

  it("show a failure in words", () => {
    const s = withJob();
    const patch = applyEvent(s, { type: "job.failed", job_id: "j1", error: { code: "invalid_input", message: "nothing to fill: the mask is empty inside the box" } });
    expect(patch.jobs!.j1.status).toBe("failed");
    expect(patch.errors!.at(-1)!.message).toContain("the mask is empty");
  });

  it("never bring a finished job back", () => {
    let s = withJob();
    s = { ...s, ...applyEvent(s, { type: "job.canceled", job_id: "j1" }) };
    expect(applyEvent(s, { type: "job.progress", job_id: "j1", step: 1, total: 2 })).toEqual({});
  });

  it("show a refusal of the socket in words", () => {
    const patch = applyEvent(withJob(), { type: "error", code: "invalid_input", message: "job_ids.0: bad id" });
    expect(patch.errors!.at(-1)!.message).toBe("Server: job_ids.0: bad id");
  });

  it("ignore jobs of other pages and keep the queue summary", () => {
    const s = withJob();
    expect(applyEvent(s, { type: "job.started", job_id: "other" })).toEqual({});
    expect(applyEvent(s, { type: "queue.status", pending: 2, running: 1 })).toEqual({ queue: { pending: 2, running: 1 } });
  });
});
