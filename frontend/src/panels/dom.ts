// Small DOM helpers the panels share.

import type { AppState } from "../state";

export const $ = <T extends HTMLElement = HTMLElement>(selector: string): T => {
  const element = document.querySelector<T>(selector);
  if (!element) throw new Error(`the page has no ${selector}`);
  return element;
};

export function element<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {},
  testid?: string): HTMLElementTagNameMap[K] {
  const node = Object.assign(document.createElement(tag), props);
  if (testid) node.setAttribute("data-testid", testid);
  return node;
}

/** A part of the page that updates itself from the state (in place: never rebuilt under the pointer). */
export interface Panel {
  update(state: AppState, previous: AppState | null): void;
}

export function changed<K extends keyof AppState>(state: AppState, previous: AppState | null, ...keys: K[]): boolean {
  return !previous || keys.some((k) => previous[k] !== state[k]);
}

/** "2 min 5 s", "40 s" */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
}

/** What a refused number says: the field, what was typed, what is allowed and what is kept. */
export function outOfRange(el: HTMLInputElement, kept: unknown): string {
  const label = (el.closest("label")?.firstChild?.textContent ?? el.dataset.setting ?? "value").trim();
  const typed = el.value === "" ? "an empty field" : `"${el.value}"`;
  const whole = el.step === "1" ? "a whole number " : "a number ";
  return `${label}: ${typed} is not allowed; it takes ${whole}from ${el.min} to ${el.max}. Kept ${String(kept)}.`;
}
