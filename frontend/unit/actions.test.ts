import { describe, expect, it } from "vitest";
import { ACTIONS, actionByName, runAction, ACTION_NAMES, type Action, type ActionName, type Context } from "../src/actions";
import { describeKeys, findAction, normalise } from "../src/actions/keys";
import { resizeBrush } from "../src/actions/tools";
import { History, StrokeRecorder } from "../src/history";
import { initialState, type AppState, type Patch } from "../src/state";
import { ArraySurfaces } from "./surfaces";

function run(name: ActionName, state: AppState, ctx?: Context): Patch | null {
  return actionByName(name).perform(state, ctx ?? ({} as Context)) as Patch | null;
}

const staged = (n: number): AppState => ({
  ...initialState(),
  staging: {
    items: Array.from({ length: n }, (_, i) => ({ jobId: `j${i}`, box: { x: 0, y: 0, width: 8, height: 8 }, imageId: `i${i}`, seed: i, recipe: null, source: { x: 0, y: 0, width: 8, height: 8 } })),
    index: 0,
  },
});

describe("hotkeys", () => {
  it("every action has a unique key, but for keys whose actions never apply at once", () => {
    // Enter accepts a staged result or adds a proposed selection; Esc dismisses messages or drops a selection:
    // the first of them enabled now takes the key (see keyboard.ts)
    const shared: Record<string, string[]> = { enter: ["staging.accept", "select.add"], escape: ["errors.dismiss", "select.drop"] };
    const keys = ACTIONS.flatMap((a) => a.keys).filter((k) => !(k in shared));
    expect(new Set(keys).size).toBe(keys.length);
    for (const [key, names] of Object.entries(shared)) {
      expect(ACTIONS.filter((a) => a.keys.includes(key)).map((a) => a.name)).toEqual(names);
      expect(ACTIONS.filter((a) => a.keys.includes(key)).every((a) => a.enabled !== undefined)).toBe(true);
    }
  });

  it("reads keyboard events the same on any layout", () => {
    expect(normalise({ key: "Z", code: "KeyZ", ctrlKey: true, shiftKey: true })).toBe("mod+shift+z");
    expect(normalise({ key: "z", code: "KeyZ", metaKey: true })).toBe("mod+z");
    expect(normalise({ key: "{", code: "BracketLeft", shiftKey: true })).toBe("shift+[");
    expect(normalise({ key: "Enter", code: "Enter", ctrlKey: true })).toBe("mod+enter");
    expect(normalise({ key: "ArrowLeft", code: "ArrowLeft" })).toBe("arrowleft");
  });

  it("maps the documented keys to their actions", () => {
    const expected: Record<string, string> = {
      b: "tool.brush",
      e: "tool.eraser",
      c: "tool.bbox",
      h: "tool.pan",
      "[": "brush.smaller",
      "]": "brush.larger",
      "mod+z": "history.undo",
      "mod+shift+z": "history.redo",
      "mod+enter": "generate.invoke",
      arrowleft: "staging.prev",
      arrowright: "staging.next",
      enter: "staging.accept",
    };
    for (const [combo, name] of Object.entries(expected)) expect(findAction(ACTIONS, combo)?.name).toBe(name);
    expect(describeKeys(["mod+shift+z"])).toBe("Ctrl+Shift+Z");
  });
});

describe("tool actions", () => {
  it("switch tools", () => {
    expect(run("tool.eraser", initialState())).toEqual({ tool: "eraser", heldFrom: null });
    expect(run("tool.bbox", initialState())?.tool).toBe("bbox");
  });

  it("grow and shrink the brush by steps that stay within bounds", () => {
    const s = initialState();
    expect(run("brush.larger", s)?.brush?.size).toBeGreaterThan(s.brush.size);
    expect(run("brush.smaller", s)?.brush?.size).toBeLessThan(s.brush.size);
    expect(resizeBrush(1, -1)).toBe(1);
    expect(resizeBrush(1024, 1)).toBe(1024);
    expect(resizeBrush(2, 1)).toBe(3);
  });

  it("change hardness in tenths between 0 and 1", () => {
    const s = { ...initialState(), brush: { size: 10, hardness: 0.95 } };
    expect(run("brush.harder", s)?.brush?.hardness).toBe(1);
    expect(run("brush.softer", { ...s, brush: { size: 10, hardness: 0 } })?.brush?.hardness).toBe(0);
  });

  it("toggle the mask overlay", () => {
    const s = initialState();
    expect(run("mask.toggle", s)?.mask?.visible).toBe(false);
  });

  it("fit the view to the picture", () => {
    const s = { ...initialState(), screen: { width: 1000, height: 1000 }, picture: { bounds: { x: 0, y: 0, width: 4000, height: 4000 }, name: "p", version: 1 } };
    const zoom = run("view.fit", s)?.viewport?.zoom ?? 0;
    expect(zoom).toBeGreaterThan(0.2);
    expect(zoom).toBeLessThan(0.25);
    expect(run("view.actual", s)?.viewport?.zoom).toBe(1);
  });
});

describe("staging actions", () => {
  it("cycle through results both ways and wrap", () => {
    const s = staged(3);
    expect(run("staging.next", s)?.staging?.index).toBe(1);
    expect(run("staging.prev", s)?.staging?.index).toBe(2);
  });

  it("are disabled with nothing staged", () => {
    expect(actionByName("staging.accept").enabled!(initialState())).toBe(false);
    expect(actionByName("staging.next").enabled!(staged(1))).toBe(true);
  });

  it("discard drops only the result on show", () => {
    const s = { ...staged(3), staging: { ...staged(3).staging, index: 2 } };
    const after = run("staging.discard", s)!.staging!;
    expect(after.items.map((i) => i.jobId)).toEqual(["j0", "j1"]);
    expect(after.index).toBe(1);
    expect(run("staging.discard", staged(1))!.staging!.items).toEqual([]);
  });
});

describe("history actions", () => {
  it("undo reports the mask changed and updates what can be undone", () => {
    const surfaces = new ArraySurfaces(16, 16);
    const history = new History(surfaces);
    const recorder = new StrokeRecorder(surfaces);
    recorder.touch({ x: 0, y: 0, width: 4, height: 4 });
    surfaces.paintRect({ x: 0, y: 0, width: 4, height: 4 });
    history.push(recorder.finish("Paint")!);
    const s = { ...initialState(), history: { canUndo: true, canRedo: false } };
    const patch = runAction(actionByName("history.undo"), s, { history, services: {} as Context["services"] }) as Patch;
    expect(patch.history).toEqual({ canUndo: false, canRedo: true });
    expect(patch.mask?.version).toBe(s.mask.version + 1);
    expect(surfaces.mask.every((v) => v === 0)).toBe(true);
  });
});

describe("undo contract", () => {
  it("the undo decision drives history: records marks the document unsaved, none may not touch history", () => {
    const surfaces = new ArraySurfaces(8, 8);
    const history = new History(surfaces);
    const ctx = { history, services: {} as Context["services"] };
    const push: Action["perform"] = () => {
      history.push({ kind: "invert-mask", label: "Invert mask" });
      return {};
    };
    const recorded = runAction({ ...actionByName("mask.invert"), perform: push }, initialState(), ctx) as Patch;
    expect(recorded).toEqual({ history: { canUndo: true, canRedo: false }, dirty: true });
    expect(() => runAction({ ...actionByName("view.fit"), perform: push }, initialState(), ctx)).toThrow(/undo: "none"/);
    // nothing recorded (e.g. nothing to accept): nothing about history changes
    expect(runAction({ ...actionByName("staging.accept"), perform: () => null }, initialState(), ctx)).toBeNull();
  });

  it("every action's name is in the typed list, once", () => {
    expect(ACTIONS.map((a) => a.name).sort()).toEqual([...ACTION_NAMES].sort());
  });

  it("every action says how undo treats it; only pixel changes are recorded", () => {
    const recorded = ACTIONS.filter((a) => a.undo === "records").map((a) => a.name).sort();
    expect(recorded).toEqual(["mask.clear", "mask.invert", "paint.clear", "select.add", "select.remove", "select.subtract", "staging.accept"]);
    expect(ACTIONS.filter((a) => a.undo === "replays").map((a) => a.name).sort()).toEqual(["history.redo", "history.undo"]);
  });
});
