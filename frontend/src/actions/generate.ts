import type { Action } from "./types";

export const generateActions: Action[] = [
  {
    name: "generate.invoke",
    undo: "none",
    label: "Invoke",
    keys: ["mod+enter"],
    inTextFields: true,
    enabled: (s) => s.picture !== null && !s.submitting,
    perform: (s, ctx) => ctx.services.invoke(s),
  },
  {
    name: "file.download",
    undo: "none",
    label: "Download PNG",
    keys: ["mod+s"],
    enabled: (s) => s.picture !== null,
    perform: (s, ctx) => ctx.services.download(s),
  },
  {
    name: "file.open",
    undo: "none",
    label: "Open picture",
    keys: ["mod+o"],
    perform: (_s, ctx) => {
      ctx.services.openDialog();
      return null;
    },
  },
  {
    name: "errors.dismiss",
    undo: "none",
    label: "Dismiss messages",
    keys: ["escape"],
    enabled: (s) => s.errors.length > 0,
    perform: () => ({ errors: [] }),
  },
];
