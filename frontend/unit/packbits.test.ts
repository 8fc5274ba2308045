import { describe, expect, it } from "vitest";
import { pack, unpack } from "../src/packbits";

describe("packbits", () => {
  it("round-trips runs, literals and mixtures", () => {
    const cases = [
      new Uint8Array(0),
      new Uint8Array([7]),
      new Uint8Array(1000).fill(255),
      Uint8Array.from({ length: 1000 }, (_, i) => i % 256),
      Uint8Array.from({ length: 4096 }, (_, i) => (i > 1000 && i < 3000 ? 255 : i % 7 === 0 ? 3 : 0)),
    ];
    for (const data of cases) expect(unpack(pack(data), data.length)).toEqual(data);
  });

  it("shrinks a mask row of long runs to a few bytes", () => {
    const row = new Uint8Array(4096);
    row.fill(255, 1000, 1500);
    expect(pack(row).length).toBeLessThan(80);
  });

  it("costs little on noise (soft brush edges)", () => {
    const noise = Uint8Array.from({ length: 10000 }, (_, i) => (i * 7919) % 251);
    expect(pack(noise).length).toBeLessThanOrEqual(10000 + Math.ceil(10000 / 128));
  });
});
