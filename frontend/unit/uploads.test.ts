import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BackgroundUpload } from "../src/services/uploads";
import type { Deps } from "../src/services/types";
import { initialState, Store, type AppState } from "../src/state";

/** A store whose `edits` stand for the mask's content, and an upload that waits until told to finish. */
function setup(fail = false) {
  const store = new Store({ ...initialState(), picture: { bounds: { x: 0, y: 0, width: 8, height: 8 }, name: "beach", version: 1 } });
  const sent: number[] = [];
  const finish: (() => void)[] = [];
  const upload = new BackgroundUpload<string>(
    { store } as unknown as Deps,
    (s: AppState) => `mask:${s.edits}`,
    (s: AppState) => {
      sent.push(s.edits);
      return new Promise<string>((resolve, reject) => finish.push(() => (fail ? reject(new Error("refused")) : resolve(`id${s.edits}`))));
    },
    (s: AppState) => `the mask of "${s.picture?.name ?? ""}"`,
    250,
  );
  store.subscribe((s) => upload.changed(s));
  return { store, sent, finish, upload };
}

describe("background uploads", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("send while painting goes on, one at a time, the latest content next", async () => {
    const { store, sent, finish } = setup();
    store.apply({ edits: 1 });
    await vi.advanceTimersByTimeAsync(250);
    expect(sent).toEqual([1]); // sent a moment after the stroke, not held until painting stops
    for (const edits of [2, 3, 4]) {
      store.apply({ edits });
      await vi.advanceTimersByTimeAsync(250);
    }
    expect(sent).toEqual([1]); // never two in flight
    finish.shift()!();
    await vi.advanceTimersByTimeAsync(250);
    expect(sent).toEqual([1, 4]); // then only the latest
  });

  it("a failed one says so, naming its picture, and is not retried until the content changes", async () => {
    const { store, sent, finish } = setup(true);
    store.apply({ edits: 1 });
    await vi.advanceTimersByTimeAsync(250);
    finish.shift()!();
    await vi.advanceTimersByTimeAsync(0);
    expect(store.state.errors.map((e) => e.message)).toEqual(['Could not send the mask of "beach" to the server: refused']);
    store.apply({ tool: "eraser" }); // a change elsewhere
    await vi.advanceTimersByTimeAsync(1000);
    expect(sent).toEqual([1]);
    store.apply({ edits: 2 });
    await vi.advanceTimersByTimeAsync(250);
    expect(sent).toEqual([1, 2]);
  });
});
