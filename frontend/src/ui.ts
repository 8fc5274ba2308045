// The DOM around the canvas, one panel per file in panels/: toolbar, generation, layers, queue,
// gallery, staging bar, box progress, recall offer, messages, status bar. Each updates itself in place
// from the state (never rebuilt under the pointer), so a click always lands on what was pressed.

import type { AppState, Store } from "./state";
import type { ActionName } from "./actions";
import type { Deps } from "./services/types";
import { BoxStatusPanel } from "./panels/boxStatus";
import type { Panel } from "./panels/dom";
import { ErrorsPanel } from "./panels/errors";
import { FaceBoxesPanel } from "./panels/faceBoxes";
import { FacesPanel } from "./panels/faces";
import { GalleryPanel } from "./panels/gallery";
import { GenerationPanel } from "./panels/generation";
import { LayersPanel } from "./panels/layers";
import { QueuePanel } from "./panels/queue";
import { RecallPanel } from "./panels/recall";
import { RecentPanel } from "./panels/recent";
import { SeamsPanel } from "./panels/seams";
import { StagingPanel } from "./panels/staging";
import { StatusBar } from "./panels/statusbar";
import { Toolbar } from "./panels/toolbar";
import { UpscalePanel } from "./panels/upscale";

export interface UiHandlers {
  dispatch: (action: ActionName) => void;
  cancel: (jobId: string) => void;
  switchDocument: (id: string) => void;
  dismissError: (id: number) => void;
}

export class Ui {
  private panels: Panel[];

  constructor(store: Store, deps: Deps, handlers: UiHandlers) {
    this.panels = [
      new Toolbar(store, handlers.dispatch),
      new GenerationPanel(store),
      new LayersPanel(store, handlers.dispatch),
      new QueuePanel(handlers.cancel),
      new RecentPanel(handlers.switchDocument),
      new GalleryPanel(deps),
      new StagingPanel(() => handlers.dispatch("view.before")),
      new BoxStatusPanel(),
      new RecallPanel(store),
      new ErrorsPanel(handlers.dismissError),
      new StatusBar(),
      new UpscalePanel(store),
      new FacesPanel(store),
      new FaceBoxesPanel(),
      new SeamsPanel(deps.history),
    ];
  }

  update(state: AppState, previous: AppState | null): void {
    for (const panel of this.panels) panel.update(state, previous);
  }
}
