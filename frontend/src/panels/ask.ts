// A question with named answers, asked in the page (a modal <dialog>): scale a picture over the server's
// limit down or not, recall a Retouch PNG's settings or open it as a picture. Escape answers null.

export interface Choice<T extends string> {
  value: T;
  label: string;
}

/** Ask `question`; resolves with the chosen value, or null when the dialog is closed without a choice. */
export function ask<T extends string>(question: string, choices: Choice<T>[]): Promise<T | null> {
  const dialog = document.createElement("dialog");
  dialog.className = "ask";
  dialog.setAttribute("data-testid", "ask");
  const text = document.createElement("p");
  text.textContent = question;
  const row = document.createElement("div");
  row.className = "row";
  dialog.append(text, row);
  return new Promise((resolve) => {
    let answer: T | null = null;
    choices.forEach((choice, i) => {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = choice.label;
      button.setAttribute("data-testid", "ask-choice");
      button.dataset.choice = choice.value;
      if (i === 0) button.className = "accept";
      button.addEventListener("click", () => {
        answer = choice.value;
        dialog.close();
      });
      row.append(button);
    });
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.textContent = "Cancel";
    cancel.setAttribute("data-testid", "ask-cancel");
    cancel.addEventListener("click", () => dialog.close());
    row.append(cancel);
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(answer);
    });
    // the field that had the focus gets it not back: what the answer changes shows there (a focused field
    // is not rewritten under the user's typing)
    if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
    document.body.append(dialog);
    dialog.showModal();
  });
}
