import { facesBlocker, upscaleBlocker } from "../blockers";
import type { Action } from "./types";

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
