import { generateActions } from "./generate";
import { historyActions } from "./history";
import { maskActions } from "./mask";
import { pictureJobActions } from "./pictureJobs";
import { seamActions } from "./seams";
import { stagingActions } from "./staging";
import { toolActions } from "./tools";
import type { Action, ActionName } from "./types";
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
];

export function actionByName(name: ActionName): Action {
  const action = ACTIONS.find((a) => a.name === name);
  if (!action) throw new Error(`no action named ${name}`);
  return action;
}

export { historyFlags, runAction } from "./run";
export { ACTION_NAMES, isActionName, type Action, type ActionName, type Context } from "./types";
