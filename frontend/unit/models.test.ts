import { describe, expect, it } from "vitest";

import { bytes, installLabel } from "../src/panels/models";

describe("the Models panel's labels", () => {
  it("writes sizes as people read them, approximate ones with a tilde", () => {
    expect(bytes(205669692)).toBe("206 MB");
    expect(bytes(67040989)).toBe("67.0 MB");
    expect(bytes(33_700_000_000, true)).toBe("~33.7 GB");
    expect(bytes(512)).toBe("512 B");
  });

  it("says how far a download is, and why an install failed", () => {
    expect(installLabel({ name: "lama", state: "running", done: 50_000_000, total: 200_000_000 })).toBe(
      "downloading 50.0 MB of 200 MB (25 %)",
    );
    expect(installLabel({ name: "lama", state: "running", done: 1000 })).toBe("downloading 1.0 kB");
    expect(installLabel({ name: "flux-fill", state: "failed", error: { code: "invalid_input", message: "gated" } })).toBe(
      "failed: gated",
    );
    expect(installLabel({ name: "lama", state: "queued" })).toBe("queued");
  });
});
