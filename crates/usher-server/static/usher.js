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
// users land where the form needs them.
window.addEventListener("DOMContentLoaded", () => {
  const invalid = document.querySelector("main [aria-invalid='true']");
  if (invalid) invalid.focus();
});
