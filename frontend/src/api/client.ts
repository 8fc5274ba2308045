// The server's HTTP API through openapi-fetch, typed by `schema.ts`, which is generated from the server's
// OpenAPI document (`make api-client`; tests/browser/test_api_schema.py fails when it is stale). Paths,
// parameters, bodies and answers all come from the schema: nothing here is cast to a type.

import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "./schema";

type Schemas = components["schemas"];
export type ImagePublic = Schemas["ImagePublic"];
/** A job request of any kind (`POST /api/v1/jobs`): the server builds this union from its table of workflows,
 * so a new kind arrives here with the regenerated schema. */
export type JobCreate = paths["/api/v1/jobs"]["post"]["requestBody"]["content"]["application/json"];
export type FillJobCreate = Schemas["FillJob"];
export type UpscaleJobCreate = Schemas["UpscaleJob"];
export type FacesJobCreate = Schemas["FacesJob"];
export type SelectCreate = Schemas["SelectCreate"];
export type SelectFound = Schemas["SelectPublic"];
export type SelectModels = Schemas["SelectModelsPublic"];
export type SeamsJobCreate = Schemas["SeamsJob"];
export type FacesFound = Schemas["FacesPublic"];
export type JobAccepted = Schemas["JobAccepted"];
export type JobPublic = Schemas["JobPublic"];
export type JobsPublic = Schemas["JobsPublic"];
export type EnginePublic = Schemas["EnginePublic"];
export type HealthPublic = Schemas["HealthPublic"];
export type LimitsPublic = Schemas["LimitsPublic"];
export type ErrorPublic = Schemas["ErrorPublic"];
export type JobStatus = Schemas["JobStatus"];
export type ServerEvent = Schemas["ServerEvent"];
export type ModelsPublic = Schemas["ModelsPublic"];
export type InstallPublic = Schemas["InstallPublic"];
export type SocketMessage = Schemas["Subscribe"];

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

/** The server's refusal in words: its `{code, message}`, or FastAPI's own validation shape. */
function refusal(response: Response, body: unknown): ApiError {
  const fallback = new ApiError(response.status, `http_${response.status}`, `${response.status} ${response.statusText}`);
  if (!body || typeof body !== "object") return fallback;
  const { code, message, detail } = body as { code?: unknown; message?: unknown; detail?: unknown };
  if (typeof message === "string") return new ApiError(response.status, typeof code === "string" ? code : fallback.code, message);
  if (Array.isArray(detail)) {
    const text = (detail as { loc?: unknown[]; msg?: string }[]).map((d) => `${(d.loc ?? []).join(".")}: ${d.msg ?? ""}`).join("; ");
    return new ApiError(response.status, fallback.code, text);
  }
  return fallback;
}

/** The data of an openapi-fetch answer, or the server's refusal thrown as an ApiError. */
function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok) throw refusal(result.response, result.error);
  return result.data as T;
}

export class Api {
  private readonly client: Client<paths>;

  /** `token`: the server's access token, needed when it listens beyond loopback (`?token=` in the page's URL). */
  constructor(token: string | null = null, baseUrl = location.origin) {
    this.client = createClient<paths>({ baseUrl });
    if (token) {
      this.client.use({
        onRequest: ({ request }) => {
          request.headers.set("Authorization", `Bearer ${token}`);
          return request;
        },
      });
    }
  }

  async uploadImage(blob: Blob, name = "image.png"): Promise<ImagePublic> {
    const form = new FormData();
    form.append("file", blob, name);
    return unwrap(
      await this.client.POST("/api/v1/images", {
        body: { file: name },
        bodySerializer: () => form,
      }),
    );
  }

  /** The picture; `maxSide`: a thumbnail that fits it. */
  async imageBlob(id: string, maxSide?: number): Promise<Blob> {
    const query = maxSide ? { max_side: maxSide } : {};
    const result = await this.client.GET("/api/v1/images/{image_id}", {
      params: { path: { image_id: id }, query },
      parseAs: "blob",
    });
    return unwrap(result);
  }

  /** Queue a job of any kind; its `kind` tells them apart (a fill when left out). */
  async createJob(body: JobCreate): Promise<JobAccepted> {
    return unwrap(await this.client.POST("/api/v1/jobs", { body }));
  }

  async getJob(id: string): Promise<JobPublic> {
    return unwrap(await this.client.GET("/api/v1/jobs/{job_id}", { params: { path: { job_id: id } } }));
  }

  async listJobs(query: { status?: JobStatus; limit?: number; offset?: number } = {}): Promise<JobsPublic> {
    return unwrap(await this.client.GET("/api/v1/jobs", { params: { query } }));
  }

  async cancelJob(id: string): Promise<JobPublic> {
    return unwrap(await this.client.DELETE("/api/v1/jobs/{job_id}", { params: { path: { job_id: id } } }));
  }

  /** The faces the server's detector finds in an uploaded picture (an empty list when there is none). */
  async findFaces(image: string): Promise<FacesFound> {
    return unwrap(await this.client.POST("/api/v1/faces", { body: { image } }));
  }

  /** An object's mask from a box and clicks on an uploaded picture (the mask is a stored grey PNG). */
  async select(body: SelectCreate): Promise<SelectFound> {
    return unwrap(await this.client.POST("/api/v1/select", { body }));
  }

  async selectModels(): Promise<SelectModels> {
    return unwrap(await this.client.GET("/api/v1/select/models"));
  }

  async engines(): Promise<EnginePublic[]> {
    return unwrap(await this.client.GET("/api/v1/engines"));
  }

  /** The catalog's models, the manifest's starter models (installed or not) and the free disk space. */
  async models(): Promise<ModelsPublic> {
    return unwrap(await this.client.GET("/api/v1/models"));
  }

  /** Queue the install of a starter model (by name only: the server downloads only what its manifest names). */
  async installModel(name: string): Promise<InstallPublic> {
    return unwrap(await this.client.POST("/api/v1/models/installs", { body: { name } }));
  }

  async cancelInstall(name: string): Promise<InstallPublic> {
    return unwrap(await this.client.DELETE("/api/v1/models/installs/{name}", { params: { path: { name } } }));
  }

  /** Unregister a model; the server deletes its files only when it downloaded them. */
  async removeModel(name: string): Promise<ModelsPublic> {
    return unwrap(await this.client.DELETE("/api/v1/models/{name}", { params: { path: { name } } }));
  }

  /** Whether the server works, and (with the token) its limits on pictures and uploads. */
  async health(): Promise<HealthPublic> {
    return unwrap(await this.client.GET("/api/v1/health"));
  }
}
