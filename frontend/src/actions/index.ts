import { generateActions } from "./generate";
import { historyActions } from "./history";
import { maskActions } from "./mask";
import { pictureJobActions } from "./pictureJobs";
import { seamActions } from "./seams";
import { selectActions } from "./select";
import { stagingActions } from "./staging";
import { toolActions } from "./tools";
import type { Action } from "./types";
import { viewActions } from "./view";

export const ACTIONS: Action[] = [
  ...toolActions,
  ...maskActions,
  ...historyActions,
  ...viewActions,
  ...stagingActions,
  ...generateActions,
  ...pictureJobActions,
  ...seamActions,
  ...selectActions,
];

export function actionByName(name: string): Action {
  const action = ACTIONS.find((a) => a.name === name);
  if (!action) throw new Error(`no action named ${name}`);
  return action;
}

export type { Action, Context, Services } from "./types";
