import { facesBlocker } from "../pictureJobs";
import type { AppState } from "../state";
import type { Action } from "./types";

const onTheirWay = (s: AppState) => s.jobOrder.map((id) => s.jobs[id]).filter((j) => j && ["queued", "running"].includes(j.status));

/** Upscaling replaces the picture: not while results made for the picture as it is are waiting to be judged. */
export function upscaleBlocker(state: AppState): string | null {
  if (!state.picture) return "Open a picture first.";
  if (state.staging.items.length) return "Accept or discard the staged results first: they fit the picture at its present size.";
  const waiting = onTheirWay(state);
  if (waiting.some((j) => j.kind === "upscale")) return "An upscale of this picture is on its way.";
  if (waiting.length) return "Wait for the jobs on their way: their results fit the picture at its present size.";
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
