import { facesBlocker } from "../pictureJobs";
import type { AppState } from "../state";
import type { Action } from "./types";

const upscaling = (s: AppState) => s.jobOrder.some((id) => s.jobs[id]?.kind === "upscale" && ["queued", "running"].includes(s.jobs[id].status));

/** Upscaling replaces the picture: not while results made for the picture as it is are waiting to be judged. */
export function upscaleBlocker(state: AppState): string | null {
  if (!state.picture) return "Open a picture first.";
  if (state.staging.items.length) return "Accept or discard the staged results first: they fit the picture at its present size.";
  if (upscaling(state)) return "An upscale of this picture is on its way.";
  return null;
}

export const pictureJobActions: Action[] = [
  {
    name: "picture.upscale",
    // the job itself changes nothing; its result, when it arrives, is one undo step
    undo: "none",
    label: "Upscale the picture",
    keys: [],
    enabled: (s) => upscaleBlocker(s) === null,
    perform: (s, ctx) => ctx.services.upscale(s),
  },
  {
    name: "tool.faces",
    undo: "none",
    label: "Face boxes",
    keys: ["g"],
    perform: () => ({ tool: "faces", heldFrom: null }),
  },
  {
    name: "faces.find",
    undo: "none",
    label: "Find the faces",
    keys: ["shift+g"],
    enabled: (s) => s.picture !== null && !s.faces.finding,
    perform: (s, ctx) => ctx.services.findFaces(s),
  },
  {
    name: "faces.fix",
    // staged like any result: only accepting it is recorded
    undo: "none",
    label: "Fix the faces",
    keys: [],
    enabled: (s) => facesBlocker(s) === null,
    perform: (s, ctx) => ctx.services.fixFaces(s),
  },
  {
    name: "faces.clear",
    undo: "none",
    label: "Remove the face boxes",
    keys: [],
    enabled: (s) => s.faces.boxes.length > 0,
    perform: (s) => ({ faces: { ...s.faces, boxes: [], searched: null } }),
  },
];
