// Hotkeys: a keyboard event becomes a normalised string ("mod+shift+z") matched against actions' keys.

import type { AppState } from "../state";
import type { Action } from "./types";

export interface KeyLike {
  key: string;
  code?: string;
  ctrlKey?: boolean;
  metaKey?: boolean;
  shiftKey?: boolean;
  altKey?: boolean;
}

const CODE_KEYS: Record<string, string> = {
  BracketLeft: "[",
  BracketRight: "]",
  Space: "space",
  Enter: "enter",
  NumpadEnter: "enter",
};

/** The key part: layout-independent for letters, digits and brackets (shift+[ stays "[" not "{"). */
function baseKey(event: KeyLike): string {
  const code = event.code ?? "";
  if (code in CODE_KEYS) return CODE_KEYS[code];
  if (/^Key[A-Z]$/.test(code)) return code.slice(3).toLowerCase();
  if (/^Digit\d$/.test(code)) return code.slice(5);
  const key = event.key === " " ? "space" : event.key.toLowerCase();
  return key;
}

export function normalise(event: KeyLike): string {
  const parts: string[] = [];
  if (event.ctrlKey || event.metaKey) parts.push("mod");
  if (event.altKey) parts.push("alt");
  if (event.shiftKey) parts.push("shift");
  parts.push(baseKey(event));
  return parts.join("+");
}

/** The action on `combo`; with `state`, the first of those on it that is enabled now. */
export function findAction(actions: Action[], combo: string, state?: AppState): Action | undefined {
  const on = actions.filter((a) => a.keys.includes(combo));
  if (!state) return on[0];
  return on.find((a) => !a.enabled || a.enabled(state));
}

/** "mod+shift+z" as people read it on this platform. */
export function describeKeys(keys: string[], mac = false): string {
  if (keys.length === 0) return "";
  return keys[0]
    .split("+")
    .map((p) => (p === "mod" ? (mac ? "⌘" : "Ctrl") : p.length === 1 ? p.toUpperCase() : p[0].toUpperCase() + p.slice(1)))
    .join("+");
}
