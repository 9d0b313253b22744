// Usher: small progressive enhancements. Every page works without this file.
"use strict";

// Close the account menu on Escape or on a click outside it.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  for (const menu of document.querySelectorAll("details.usermenu[open]")) {
    menu.open = false;
    menu.querySelector("summary")?.focus();
  }
});
document.addEventListener("click", (event) => {
  for (const menu of document.querySelectorAll("details.usermenu[open]")) {
    if (!menu.contains(event.target)) menu.open = false;
  }
});

// Move focus to the first field with an error, so keyboard and screen reader
// users land where the form needs them; else to a secret shown once, selected
// so it can be copied at once.
window.addEventListener("DOMContentLoaded", () => {
  const invalid = document.querySelector("main [aria-invalid='true']");
  const secret = document.getElementById("new-token");
  if (invalid) {
    invalid.focus();
  } else if (secret) {
    secret.focus();
    secret.select();
  }
});

// Copy buttons (hidden without this script): copy the named input's value,
// with the clipboard API where the page is a secure context, else through the
// selection; either way say what happened.
async function copyFrom(input) {
  input.focus();
  input.select();
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(input.value);
      return true;
    } catch {
      // Refused (no permission, no focus): fall back to the selection.
    }
  }
  try {
    return document.execCommand("copy");
  } catch {
    return false;
  }
}

window.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const input = document.getElementById(button.dataset.copy);
    const status = document.getElementById("copy-status");
    if (!input) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      const copied = await copyFrom(input);
      if (status) status.textContent = copied ? button.dataset.copied : button.dataset.copyFailed;
    });
  }
});

// Typing or picking a date ticks its "On date" choice (not mere focus: tabbing
// through the form must not change the choice).
document.addEventListener("input", (event) => {
  const id = event.target.dataset?.selects;
  const radio = id && document.getElementById(id);
  if (radio) radio.checked = true;
});
