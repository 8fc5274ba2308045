import { describe, expect, it } from "vitest";
import { applyEvent, buildJob, newJob, withEngine } from "../src/jobs";
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
    expect(body).not.toHaveProperty("tone_match"); // off unless asked, as the server's default
    expect(buildJob({ ...DEFAULT_SETTINGS, toneMatch: true }, undefined, "img", "msk").tone_match).toBe(true);
  });

  it("random seed is -1, manual scale carries its size, prompts go to engines that take them", () => {
    const body = buildJob({ ...DEFAULT_SETTINGS, scaleMode: "manual", scaleWidth: 768, scaleHeight: 512, prompt: "a cat" }, engine, "a", "b");
    expect(body.seed).toBe(-1);
    expect(body.scale).toEqual({ mode: "manual", width: 768, height: 512 });
    expect(body.prompt).toBe("a cat");
    expect(body).not.toHaveProperty("negative_prompt"); // this engine does not list it
  });

  it("send a negative prompt to models that take one", () => {
    const sd = { ...engine, parameters: ["negative_prompt"] };
    expect(buildJob({ ...DEFAULT_SETTINGS, negativePrompt: "blur" }, sd, "a", "b").negative_prompt).toBe("blur");
  });

  it("send model settings only to models, and a sampler only when one was chosen", () => {
    const telea = { name: "telea", description: "", needs_weights: false, takes_prompt: false, native_size: null, grid: 1 };
    const classical = buildJob({ ...DEFAULT_SETTINGS, engine: "telea" }, telea, "a", "b");
    expect(classical).not.toHaveProperty("steps");
    expect(classical).not.toHaveProperty("guidance");
    expect(classical).not.toHaveProperty("scheduler");
    const model = { ...engine, parameters: ["steps", "guidance", "strength", "scheduler"], schedulers: ["euler-a", "ddim"] };
    const unset = buildJob({ ...DEFAULT_SETTINGS, engine: "sd", steps: 20 }, model, "a", "b");
    expect(unset).toMatchObject({ steps: 20, guidance: 7.5, strength: 1 });
    expect(unset).not.toHaveProperty("scheduler");
    expect(buildJob({ ...DEFAULT_SETTINGS, engine: "sd", scheduler: "ddim" }, model, "a", "b").scheduler).toBe("ddim");
  });
});

describe("choosing an engine", () => {
  const flux = {
    name: "flux", description: "", needs_weights: true, takes_prompt: true, native_size: 1024, grid: 16,
    schedulers: ["flow-euler"], defaults: { steps: 50, guidance: 30, strength: 1, scheduler: "flow-euler" },
  };

  it("brings the model's own steps and guidance", () => {
    const next = withEngine({ ...DEFAULT_SETTINGS, engine: "patchmatch", scheduler: "ddim" }, flux);
    expect(next).toMatchObject({ engine: "flux", steps: 50, guidance: 30, scheduler: "" });
  });

  it("keeps the user's numbers when the engine stays, and drops a sampler the model lacks", () => {
    const mine = { ...DEFAULT_SETTINGS, engine: "flux", steps: 12, guidance: 3, scheduler: "ddim" };
    expect(withEngine(mine, flux)).toMatchObject({ steps: 12, guidance: 3, scheduler: "" });
  });

  it("leaves everything else alone for a classical engine", () => {
    const telea = { name: "telea", description: "", needs_weights: false, takes_prompt: false, native_size: null, grid: 1 };
    const next = withEngine({ ...DEFAULT_SETTINGS, steps: 12 }, telea);
    expect(next).toEqual({ ...DEFAULT_SETTINGS, engine: "telea", steps: 12 });
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
    const done = { type: "job.succeeded" as const, job_id: "j1", result: { image: "r1", url: "/api/v1/images/r1" }, seed: 5 };
    s = { ...s, ...applyEvent(s, done) };
    s = { ...s, ...applyEvent(s, done) };
    expect(s.staging.items).toHaveLength(1);
    expect(s.staging.items[0]).toMatchObject({ jobId: "j1", imageId: "r1", box });
    expect(s.jobs.j1.status).toBe("succeeded");
  });

  it("stage nothing for a seam repair that changed nothing, and keep what it said", () => {
    const s = withJob();
    const outcome = "no pass needed: seam 0.82 is under the target 0.9";
    const patch = applyEvent(s, { type: "job.succeeded", job_id: "j1", result: { image: "r1", url: "/api/v1/images/r1", report: { changed: false, outcome } } });
    expect(patch.staging).toBeUndefined();
    expect(patch.jobs!.j1).toMatchObject({ status: "succeeded", outcome: { text: outcome, unchanged: true } });
    const kept = applyEvent(s, { type: "job.succeeded", job_id: "j1", result: { image: "r1", url: "/api/v1/images/r1", report: { changed: true, outcome: "1 of 1 passes kept" } } });
    expect(kept.staging!.items).toHaveLength(1);
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
    expect(applyEvent(s, { type: "job.started", job_id: "other", device: "cpu" })).toEqual({});
    expect(applyEvent(s, { type: "queue.status", pending: 2, running: 1 })).toEqual({ queue: { pending: 2, running: 1 } });
  });
});
