// The model manager: the catalog's models and the server's starter models (purpose, size, licence, here or
// not), Install with progress from the websocket (`model.install`), Cancel, Remove (the server deletes only
// files it downloaded), and the free disk space. With no model installed it says what each starter would add
// and offers LaMa first. It keeps its own small state: it needs nothing of the document's.

import type { Api, InstallPublic, ModelsPublic } from "../api/client";
import { describeError } from "../api/client";
import { element } from "./dom";

type Starter = ModelsPublic["starter"][number];

const PURPOSES: Record<string, string> = {
  inpainting: "object removal and fills",
  upscaling: "upscaling",
  faces: "face restoration",
  segmentation: "object selection",
};

export function bytes(size: number, approximate = false): string {
  const units: [string, number][] = [["GB", 1e9], ["MB", 1e6], ["kB", 1e3]];
  const [unit, scale] = units.find(([, s]) => size >= s) ?? ["B", 1];
  const value = scale === 1 ? String(size) : (size / scale).toFixed(size / scale >= 100 ? 0 : 1);
  return `${approximate ? "~" : ""}${value} ${unit}`;
}

/** What an install shows: "downloading 12.3 MB of 205.7 MB (6 %)", "queued", "failed: …". */
export function installLabel(install: InstallPublic): string {
  switch (install.state) {
    case "running": {
      const done = install.done ?? 0;
      if (!install.total) return `downloading ${bytes(done)}`;
      return `downloading ${bytes(done)} of ${bytes(install.total)} (${Math.floor((100 * done) / install.total)} %)`;
    }
    case "failed":
      return `failed: ${install.error?.message ?? ""}`;
    default:
      return install.state;
  }
}

export class ModelsPanel {
  private data: ModelsPublic | null = null;
  private readonly installs = new Map<string, InstallPublic>();

  constructor(
    private readonly root: HTMLElement,
    private readonly api: Api,
    private readonly onInstalled: () => void,
    private readonly onError: (message: string) => void,
  ) {}

  async load(): Promise<void> {
    try {
      this.data = await this.api.models();
      for (const starter of this.data.starter) if (starter.install) this.installs.set(starter.name, starter.install);
    } catch (error) {
      this.onError(`Could not list the models: ${describeError(error)}`);
    }
    this.render();
  }

  /** A `model.install` event from the websocket. */
  onEvent(install: InstallPublic): void {
    const before = this.installs.get(install.name)?.state;
    this.installs.set(install.name, install);
    if (install.state === "succeeded" && before !== "succeeded") {
      this.onInstalled();
      void this.load();
      return;
    }
    if (install.state === "failed" && before !== "failed") this.onError(`Install of ${install.name} failed: ${install.error?.message ?? ""}`);
    this.render();
  }

  private async act(what: () => Promise<unknown>): Promise<void> {
    try {
      await what();
    } catch (error) {
      this.onError(describeError(error));
    }
    await this.load();
  }

  private render(): void {
    const data = this.data;
    this.root.replaceChildren(element("h2", { textContent: "Models" }));
    if (!data) {
      this.root.append(element("p", { className: "hint", textContent: "The server's models are being listed…" }));
      return;
    }
    this.root.append(
      element("p", { className: "hint", textContent: `${bytes(data.disk_free)} free in ${data.models_dir}` }, "models-disk"),
    );
    if (data.installed.length === 0) this.root.append(this.firstRun(data));
    const list = element("ul", { className: "model-list" }, "model-list");
    const starters = new Set(data.starter.map((s) => s.name));
    for (const model of data.installed.filter((m) => !starters.has(m.name))) {
      const item = element("li", {}, "model-item");
      item.dataset.model = model.name;
      const line = element("div", { className: "line" });
      line.append(
        element("span", { className: "name", textContent: model.name }),
        element("span", { className: "hint", textContent: `${model.purpose} · ${model.present ? "here" : "missing"}` }),
      );
      item.append(line, this.removeButton(model.name, model.downloaded));
      list.append(item);
    }
    for (const starter of data.starter) list.append(this.starterItem(starter));
    this.root.append(list);
  }

  private firstRun(data: ModelsPublic): HTMLElement {
    const lama = data.starter.find((s) => s.name === "lama" && !s.installed);
    const box = element("div", { className: "notice first-run" }, "models-first-run");
    box.append(
      element("p", {
        textContent:
          "No model is installed yet: fills use the built-in engines (PatchMatch, Telea). Each starter model adds what its line says.",
      }),
    );
    if (lama) {
      const button = element("button", { type: "button", className: "primary", textContent: `Install LaMa (${bytes(lama.size)}): removes objects without a prompt` }, "models-install-lama");
      button.addEventListener("click", () => void this.act(() => this.api.installModel("lama")));
      box.append(button);
    }
    return box;
  }

  private starterItem(starter: Starter): HTMLElement {
    const item = element("li", {}, "model-item");
    item.dataset.model = starter.name;
    const line = element("div", { className: "line" });
    line.append(
      element("span", { className: "name", textContent: starter.name }),
      element("span", { className: "hint", textContent: `${bytes(starter.size, starter.size_approximate)} · ${starter.licence}` }),
    );
    const gated = starter.gated ? " Needs a Hugging Face token (HF_TOKEN) and its licence accepted on huggingface.co." : "";
    const purpose = PURPOSES[starter.purpose] ?? starter.purpose;
    const about = starter.description ? `${purpose}: ${starter.description}.` : `${purpose}.`;
    item.append(line, element("p", { className: "hint", textContent: `${about}${gated}` }));
    const install = this.installs.get(starter.name);
    const busy = install && (install.state === "queued" || install.state === "running");
    if (busy) {
      const progress = element("progress", { max: 1, value: install.total ? (install.done ?? 0) / install.total : 0 }, "model-progress");
      const status = element("span", { className: "hint", textContent: installLabel(install) }, "model-status");
      const cancel = element("button", { type: "button", textContent: "Cancel" }, "model-cancel");
      cancel.addEventListener("click", () => void this.act(() => this.api.cancelInstall(starter.name)));
      item.append(progress, status, cancel);
    } else if (starter.installed) {
      item.append(element("span", { className: "hint", textContent: "installed" }, "model-status"), this.removeButton(starter.name, true));
    } else {
      if (install?.state === "failed" || install?.state === "canceled") {
        item.append(element("span", { className: "hint", textContent: installLabel(install) }, "model-status"));
      }
      const button = element("button", { type: "button", textContent: "Install" }, "model-install");
      button.addEventListener("click", () => void this.act(() => this.api.installModel(starter.name)));
      item.append(button);
    }
    return item;
  }

  private removeButton(name: string, downloaded: boolean): HTMLElement {
    const button = element("button", {
      type: "button",
      textContent: "Remove",
      title: downloaded ? "Unregister it and delete the files Retouch downloaded" : "Unregister it (your files stay where they are)",
    }, "model-remove");
    button.addEventListener("click", () => void this.act(() => this.api.removeModel(name)));
    return button;
  }
}
