import { describe, expect, it } from "vitest";
import { findAction } from "../src/actions/keys";
import { ACTIONS } from "../src/actions";
import { alphaBounds, combine, countSet, edgePixels, magicWand } from "../src/selection";
import { initialState } from "../src/state";

/** A 6x4 picture: a red 3x2 block at (1, 1) on white, one near-red pixel touching it at (4, 1). */
function picture(): Uint8ClampedArray {
  const rgba = new Uint8ClampedArray(6 * 4 * 4).fill(255);
  const set = (x: number, y: number, r: number, g: number, b: number) => rgba.set([r, g, b, 255], (y * 6 + x) * 4);
  for (const [x, y] of [[1, 1], [2, 1], [3, 1], [1, 2], [2, 2], [3, 2]]) set(x, y, 200, 20, 20);
  set(4, 1, 215, 30, 25);
  return rgba;
}

describe("magic wand", () => {
  it("takes the connected pixels of about the clicked colour, within the tolerance", () => {
    const tight = magicWand(picture(), 6, 4, 2, 2, 5);
    expect(countSet(tight)).toBe(6);
    expect(alphaBounds(tight, 6, 4)).toEqual({ x: 1, y: 1, width: 3, height: 2 });
    const loose = magicWand(picture(), 6, 4, 2, 2, 20);
    expect(countSet(loose)).toBe(7); // the near-red neighbour joins
    expect(countSet(magicWand(picture(), 6, 4, 0, 0, 5))).toBe(24 - 7); // the white around, connected
  });

  it("adds and subtracts a selection from the mask", () => {
    const mask = new Uint8Array([0, 255, 255, 0]);
    const chosen = new Uint8Array([255, 255, 0, 0]);
    expect([...combine(mask, chosen, false)]).toEqual([255, 255, 255, 0]);
    expect([...combine(mask, chosen, true)]).toEqual([0, 0, 255, 0]);
  });

  it("outlines the selection's edge only", () => {
    const alpha = new Uint8Array(25).fill(255); // a 5x5 square: its 16 border pixels are the edge
    expect(countSet(edgePixels(alpha, 5, 5).map((v) => v * 255))).toBe(16);
    expect(countSet(edgePixels(alpha, 5, 5, 2).map((v) => v * 255))).toBe(24);
  });
});

describe("select keys", () => {
  it("Enter adds a proposed selection, and accepts a staged result otherwise", () => {
    const s = initialState();
    const proposed = { ...s, picture: { bounds: { x: 0, y: 0, width: 8, height: 8 }, name: "p", version: 1 } };
    const withProposal = { ...proposed, select: { ...s.select, proposal: { bounds: { x: 0, y: 0, width: 2, height: 2 }, area: 4, score: null, version: 1 } } };
    expect(findAction(ACTIONS, "enter", withProposal)?.name).toBe("select.add");
    expect(findAction(ACTIONS, "shift+enter", withProposal)?.name).toBe("select.subtract");
    expect(findAction(ACTIONS, "escape", withProposal)?.name).toBe("select.drop");
    expect(findAction(ACTIONS, "s")?.name).toBe("tool.select");
  });
});
