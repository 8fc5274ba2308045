// The server's HTTP API, typed by `schema.ts`, which is generated from the server's OpenAPI document
// (`npm run gen:api`; tests/frontend/test_api_schema.py fails when it is stale).

import type { components } from "./schema";

type Schemas = components["schemas"];
export type ImagePublic = Schemas["ImagePublic"];
export type JobCreate = Schemas["FillJob"];
export type JobAccepted = Schemas["JobAccepted"];
export type JobPublic = Schemas["JobPublic"];
export type JobsPublic = Schemas["JobsPublic"];
export type EnginePublic = Schemas["EnginePublic"];
export type ErrorPublic = Schemas["ErrorPublic"];
export type JobStatus = Schemas["JobStatus"];

/** A refusal or failure from the server, with its words. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The message a user should read for any failure (server refusal, network down, bug). */
export function describeError(error: unknown): string {
  if (error instanceof ApiError && error.status === 401) {
    return `${error.message} (open the canvas as ${location.origin}/?token=YOUR_TOKEN)`;
  }
  if (error instanceof ApiError) return error.message;
  if (error instanceof TypeError) return "The server cannot be reached; is `retouch serve` running?";
  if (error instanceof Error) return error.message;
  return String(error);
}

async function errorFrom(response: Response): Promise<ApiError> {
  let code = `http_${response.status}`;
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    if (body && typeof body.message === "string") {
      message = body.message;
      code = body.code ?? code;
    } else if (body && Array.isArray(body.detail)) {
      // FastAPI's own validation shape, in case a route answers with it
      message = body.detail.map((d: { loc?: unknown[]; msg?: string }) => `${(d.loc ?? []).join(".")}: ${d.msg}`).join("; ");
    } else if (body && typeof body.detail === "string") {
      message = body.detail;
    }
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(response.status, code, message);
}

export class Api {
  /** `token`: the server's access token, needed when it listens beyond loopback (`?token=` in the page's URL). */
  constructor(
    private readonly base = "/api/v1",
    private readonly token: string | null = null,
  ) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return this.token ? { ...extra, Authorization: `Bearer ${this.token}` } : extra;
  }

  private async request<T>(method: string, path: string, init: RequestInit = {}): Promise<T> {
    const response = await fetch(this.base + path, { method, ...init, headers: this.headers(init.headers as Record<string, string>) });
    if (!response.ok) throw await errorFrom(response);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  private json<T>(method: string, path: string, body: unknown): Promise<T> {
    return this.request<T>(method, path, { body: JSON.stringify(body), headers: { "Content-Type": "application/json" } });
  }

  uploadImage(blob: Blob, name = "image.png"): Promise<ImagePublic> {
    const form = new FormData();
    form.append("file", blob, name);
    return this.request<ImagePublic>("POST", "/images", { body: form });
  }

  imageUrl(id: string, maxSide?: number): string {
    return `${this.base}/images/${encodeURIComponent(id)}${maxSide ? `?max_side=${maxSide}` : ""}`;
  }

  /** The picture; `maxSide`: a thumbnail that fits it. */
  async imageBlob(id: string, maxSide?: number): Promise<Blob> {
    const response = await fetch(this.imageUrl(id, maxSide), { headers: this.headers() });
    if (!response.ok) throw await errorFrom(response);
    return response.blob();
  }

  createJob(body: JobCreate): Promise<JobAccepted> {
    return this.json<JobAccepted>("POST", "/jobs", body);
  }

  getJob(id: string): Promise<JobPublic> {
    return this.request<JobPublic>("GET", `/jobs/${encodeURIComponent(id)}`);
  }

  listJobs(params: { status?: JobStatus; limit?: number; offset?: number } = {}): Promise<JobsPublic> {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) query.set(k, String(v));
    return this.request<JobsPublic>("GET", `/jobs?${query}`);
  }

  cancelJob(id: string): Promise<unknown> {
    return this.request<unknown>("DELETE", `/jobs/${encodeURIComponent(id)}`);
  }

  engines(): Promise<EnginePublic[]> {
    return this.request<EnginePublic[]>("GET", "/engines");
  }
}
