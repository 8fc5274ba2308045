import type { Action } from "./types";

export const seamActions: Action[] = [
  {
    name: "seams.repair",
    undo: "none",
    label: "Repair seams along the last accepted fill's edge",
    keys: ["r"],
    enabled: (s) => s.picture !== null && !s.submitting,
    perform: (s, ctx) => ctx.services.repairSeams(s, false),
  },
  {
    name: "seams.repairPainted",
    undo: "none",
    label: "Repair the seam painted over with the mask brush",
    keys: ["shift+r"],
    enabled: (s) => s.picture !== null && !s.submitting,
    perform: (s, ctx) => ctx.services.repairSeams(s, true),
  },
  {
    name: "seams.outline",
    undo: "none",
    label: "Show where the last fill's boundary runs",
    keys: ["shift+o"],
    perform: (s) => ({ seamOutline: !s.seamOutline }),
  },
];
