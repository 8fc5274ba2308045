// The gallery: past results from the server (thumbnail, picture, engine, time). Each can be staged again
// over the picture open now, downloaded as the server made it (with its recipe), or opened as the picture.

import { describeError } from "../api/client";
import type { Rect } from "../geometry";
import { openPicture } from "../services";
import type { Deps } from "../services/types";
import { readRecipe } from "../png";
import { withError, type AppState, type GalleryItem, type StagedResult } from "../state";
import { $, changed, element, type Panel } from "./dom";

const PICTURES_KEY = "retouch.jobPictures";

/** Which picture this browser's jobs were made from (the server does not say): job id -> name. */
export function rememberPicture(jobId: string, name: string): void {
  try {
    const map = JSON.parse(localStorage.getItem(PICTURES_KEY) ?? "{}") as Record<string, string>;
    map[jobId] = name;
    const ids = Object.keys(map);
    for (const old of ids.slice(0, Math.max(0, ids.length - 500))) delete map[old];
    localStorage.setItem(PICTURES_KEY, JSON.stringify(map));
  } catch {
    // storage full or off: the gallery just shows no picture name
  }
}

function pictureOf(jobId: string): string | null {
  try {
    return (JSON.parse(localStorage.getItem(PICTURES_KEY) ?? "{}") as Record<string, string>)[jobId] ?? null;
  } catch {
    return null;
  }
}

export async function loadGallery(deps: Deps): Promise<void> {
  const { store, api } = deps;
  store.apply({ gallery: { ...store.state.gallery, loading: true } });
  try {
    const page = await api.listJobs({ status: "succeeded", limit: 60 });
    const items: GalleryItem[] = page.data
      .filter((job) => job.result?.image)
      .map((job) => ({
        jobId: job.id,
        imageId: job.result!.image,
        engine: job.engine,
        finishedAt: job.finished_at ?? null,
        picture: pictureOf(job.id),
      }));
    store.apply({ gallery: { ...store.state.gallery, items, loading: false } });
  } catch (error) {
    store.apply({
      gallery: { ...store.state.gallery, loading: false },
      ...withError(store.state, `Could not list past results: ${describeError(error)}`),
    });
  }
}

async function fetchResult(deps: Deps, item: GalleryItem): Promise<{ blob: Blob; recipe: Record<string, unknown> | null; width: number; height: number }> {
  const blob = await deps.api.imageBlob(item.imageId);
  const recipe = readRecipe(new Uint8Array(await blob.arrayBuffer()));
  const bitmap = await createImageBitmap(blob);
  const size = { width: bitmap.width, height: bitmap.height };
  bitmap.close();
  return { blob, recipe, ...size };
}

/** Where a past result goes over the picture open now: where its box was, if it was made from a picture
 * of this size; else over the current box, if it is that size. */
export function placeResult(result: { width: number; height: number; recipe: Record<string, unknown> | null }, state: AppState): { box: Rect; source: Rect } | null {
  const pic = state.picture;
  if (!pic) return null;
  const b = result.recipe?.bbox as Rect | undefined;
  const whole = result.width === pic.bounds.width && result.height === pic.bounds.height;
  if (whole && b && typeof b === "object" && b.width > 0) {
    return { box: { x: pic.bounds.x + b.x, y: pic.bounds.y + b.y, width: b.width, height: b.height }, source: { ...b } };
  }
  if (whole) return { box: { ...pic.bounds }, source: { x: 0, y: 0, width: result.width, height: result.height } };
  if (result.width === state.bbox.width && result.height === state.bbox.height) {
    return { box: { ...state.bbox }, source: { x: 0, y: 0, width: result.width, height: result.height } };
  }
  return null;
}

/** "14:05" today, "3 Nov 14:05" before. */
function shortTime(when: Date): string {
  const time = when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  if (when.toDateString() === new Date().toDateString()) return time;
  return `${when.toLocaleDateString([], { day: "numeric", month: "short" })} ${time}`;
}

export class GalleryPanel implements Panel {
  private items = new Map<string, HTMLLIElement>();
  private thumbs = new Map<string, string>();

  constructor(private readonly deps: Deps) {
    $("#gallery-refresh").addEventListener("click", () => void loadGallery(deps));
  }

  private async thumbnail(img: HTMLImageElement, imageId: string): Promise<void> {
    let url = this.thumbs.get(imageId);
    if (!url) {
      try {
        url = URL.createObjectURL(await this.deps.api.imageBlob(imageId, 96));
      } catch {
        return; // a missing thumbnail leaves the text
      }
      this.thumbs.set(imageId, url);
    }
    img.src = url;
  }

  private async stage(item: GalleryItem): Promise<void> {
    const { store } = this.deps;
    if (!store.state.picture) {
      await this.open(item);
      return;
    }
    try {
      const result = await fetchResult(this.deps, item);
      const place = placeResult(result, store.state);
      const s = store.state;
      if (!place) {
        store.apply(withError(s, `This result is ${result.width}×${result.height} and fits neither the picture open now nor its box: open it instead.`));
        return;
      }
      const seed = typeof result.recipe?.seed === "number" ? result.recipe.seed : null;
      const staged: StagedResult = { jobId: item.jobId, box: place.box, imageId: item.imageId, seed, recipe: null, source: place.source };
      const items = [...s.staging.items.filter((i) => i.jobId !== item.jobId), staged];
      store.apply({ staging: { items, index: items.length - 1 }, before: false });
    } catch (error) {
      store.apply(withError(store.state, `Could not stage that result: ${describeError(error)}`));
    }
  }

  private async open(item: GalleryItem): Promise<void> {
    try {
      const blob = await this.deps.api.imageBlob(item.imageId);
      await openPicture(this.deps, blob, `${item.picture ?? item.engine}-result`);
    } catch (error) {
      this.deps.store.apply(withError(this.deps.store.state, `Could not open that result: ${describeError(error)}`));
    }
  }

  private async download(item: GalleryItem): Promise<void> {
    try {
      const blob = await this.deps.api.imageBlob(item.imageId);
      const url = URL.createObjectURL(blob);
      const link = element("a", { href: url, download: `${item.picture ?? "result"}-${item.engine}-${item.jobId.slice(0, 8)}.png` });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (error) {
      this.deps.store.apply(withError(this.deps.store.state, `Download failed: ${describeError(error)}`));
    }
  }

  update(state: AppState, previous: AppState | null): void {
    if (!changed(state, previous, "gallery")) return;
    const list = $("#gallery");
    $("#gallery-summary").textContent = state.gallery.loading ? "loading…" : state.gallery.items.length ? `${state.gallery.items.length}` : "none yet";
    const ids = state.gallery.items.map((i) => i.jobId);
    for (const [id, li] of this.items) {
      if (!ids.includes(id)) {
        li.remove();
        this.items.delete(id);
      }
    }
    state.gallery.items.forEach((item, index) => {
      let li = this.items.get(item.jobId);
      if (!li) {
        li = element("li", {}, "gallery-item");
        li.dataset.jobId = item.jobId;
        const img = element("img", { alt: "", width: 48, height: 48, loading: "lazy" });
        void this.thumbnail(img, item.imageId);
        const when = item.finishedAt ? shortTime(new Date(item.finishedAt)) : "";
        const text = element("div", { className: "what" });
        text.append(
          element("span", { className: "picture", textContent: item.picture ?? "picture not from this browser" }),
          element("span", { className: "hint", textContent: `${item.engine} · ${when}` }),
        );
        const buttons = element("div", { className: "buttons" });
        const stage = element("button", { type: "button", textContent: "Stage", title: "Show it over the picture open now, to accept or discard" }, "gallery-stage");
        const open = element("button", { type: "button", textContent: "Open", title: "Make it the picture (asks before replacing unsaved work)" }, "gallery-open");
        const download = element("button", { type: "button", textContent: "↓", title: "Download it as the server made it (with its recipe)" }, "gallery-download");
        stage.addEventListener("click", () => void this.stage(item));
        open.addEventListener("click", () => void this.open(item));
        download.addEventListener("click", () => void this.download(item));
        buttons.append(stage, open, download);
        li.append(img, text, buttons);
        this.items.set(item.jobId, li);
      }
      if (list.children[index] !== li) list.insertBefore(li, list.children[index] ?? null);
    });
  }
}
