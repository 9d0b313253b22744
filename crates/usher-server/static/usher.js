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

// The menu button at phone width: without this script it is a link to the
// navigation (shown by `:target`); with it, a toggle that says its state.
window.addEventListener("DOMContentLoaded", () => {
  const button = document.querySelector(".menu-button");
  const nav = document.getElementById("sidenav");
  if (!button || !nav) return;
  button.setAttribute("role", "button");
  const set = (open) => {
    nav.classList.toggle("open", open);
    button.setAttribute("aria-expanded", String(open));
  };
  button.addEventListener("click", (event) => {
    event.preventDefault();
    set(!nav.classList.contains("open"));
  });
  nav.querySelector(".sidenav-close")?.addEventListener("click", (event) => {
    event.preventDefault();
    set(false);
    button.focus();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && nav.classList.contains("open")) {
      set(false);
      button.focus();
    }
  });
});

// Destructive actions link to a confirmation page (`a[data-confirm]`). With
// this script the page's card opens in a dialog over the list instead; its
// form posts as the page's would, and Cancel or Escape closes it.
document.addEventListener("click", async (event) => {
  const link = event.target.closest?.("a[data-confirm]");
  if (!link || event.defaultPrevented || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
  event.preventDefault();
  let card = null;
  try {
    const response = await fetch(link.href, { credentials: "same-origin", headers: { Accept: "text/html" } });
    if (response.ok) {
      const doc = new DOMParser().parseFromString(await response.text(), "text/html");
      card = doc.querySelector(".confirm");
    }
  } catch {
    card = null;
  }
  if (!card) {
    window.location.assign(link.href);
    return;
  }
  const dialog = document.createElement("dialog");
  dialog.className = "confirm-dialog";
  const heading = card.querySelector("h1[id]");
  if (heading) dialog.setAttribute("aria-labelledby", heading.id);
  dialog.append(document.importNode(card, true));
  document.body.append(dialog);
  dialog.addEventListener("close", () => {
    dialog.remove();
    link.focus();
  });
  dialog.querySelector("[data-cancel]")?.addEventListener("click", (e) => {
    e.preventDefault();
    dialog.close();
  });
  dialog.showModal();
  dialog.querySelector("[data-cancel]")?.focus();
});

// Type-ahead for fields that name a user (`input[data-picker]`): as you type,
// the directory's matches appear under the field; arrows and Enter or a click
// choose one, which puts its user ID in the field. Without this script the
// field takes a user ID or email, and a near miss lists the matches to choose.
window.addEventListener("DOMContentLoaded", () => {
  let serial = 0;
  for (const input of document.querySelectorAll("input[data-picker]")) {
    const list = document.createElement("ul");
    list.id = `${input.id}-options`;
    list.className = "picker-options";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    input.after(list);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    let active = -1;
    let timer = 0;
    const options = () => [...list.querySelectorAll("[role=option]")];
    const close = () => {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    };
    const mark = (i) => {
      const all = options();
      all.forEach((o, n) => o.setAttribute("aria-selected", String(n === i)));
      active = i;
      if (all[i]) input.setAttribute("aria-activedescendant", all[i].id);
    };
    const choose = (option) => {
      input.value = option.dataset.value;
      close();
      input.focus();
    };
    const search = async () => {
      const text = input.value.trim();
      const mine = ++serial;
      if (text.length < 2) return close();
      let items = [];
      try {
        const url = `/api/v1/users?q=${encodeURIComponent(text)}&limit=8`;
        const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
        if (response.ok) items = (await response.json()).items || [];
      } catch {
        items = [];
      }
      if (mine !== serial) return;
      // Typed in full (a user ID or email): nothing to choose, keep out of the way.
      const typed = text.toLowerCase();
      if (items.some((u) => u.user_id.toLowerCase() === typed || (u.email || "").toLowerCase() === typed)) {
        return close();
      }
      list.replaceChildren(
        ...items.map((u, n) => {
          const li = document.createElement("li");
          li.id = `${list.id}-${n}`;
          li.setAttribute("role", "option");
          li.dataset.value = u.user_id;
          const name = [u.first_name, u.last_name].filter(Boolean).join(" ");
          const strong = document.createElement("strong");
          strong.textContent = u.user_id;
          const rest = document.createElement("span");
          rest.textContent = [name, u.email].filter(Boolean).join(" · ");
          li.append(strong, " ", rest);
          li.addEventListener("mousedown", (e) => {
            e.preventDefault();
            choose(li);
          });
          return li;
        }),
      );
      if (items.length === 0) return close();
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      mark(-1);
    };
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(search, 150);
    });
    input.addEventListener("keydown", (e) => {
      const all = options();
      if (list.hidden || all.length === 0) return;
      if (e.key === "ArrowDown") {
        e.preventDefault();
        mark((active + 1) % all.length);
      } else if (e.key === "ArrowUp") {
        e.preventDefault();
        mark((active - 1 + all.length) % all.length);
      } else if (e.key === "Enter" && active >= 0) {
        e.preventDefault();
        choose(all[active]);
      } else if (e.key === "Escape") {
        close();
      }
    });
    input.addEventListener("blur", () => setTimeout(close, 100));
  }
});

// ---- Time zone picker and recovery codes (ui-fixes) ----------------------
// Kept in this one block: the rest of the file belongs to other features.

// The time zone filter (hidden without this script, where the grouped list is
// the picker): typing narrows the list to the zones whose city, region or name
// matches every word, or whose offset matches "+5:30", "-8", "UTC+1". When
// the selected zone is filtered out, the first match is selected, so the
// list shows what would be saved.
(() => {
  const OFFSET = /^(?:utc|gmt)?([+-])(\d{1,2})(?::?(\d{2}))?$/;

  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().replace(/[_/]/g, " ").replace(/\u2212/g, "-");
  }

  // One word of the search: an offset (hours alone match any minutes), or text.
  function wordMatcher(word) {
    const offset = OFFSET.exec(word);
    if (offset) {
      const sign = offset[1] === "-" ? -1 : 1;
      const hours = Number(offset[2]);
      if (offset[3] === undefined) {
        return (option) => {
          const minutes = Number(option.dataset.offset);
          return (minutes === 0 ? hours === 0 : Math.sign(minutes) === sign) && Math.trunc(Math.abs(minutes) / 60) === hours;
        };
      }
      const wanted = sign * (hours * 60 + Number(offset[3]));
      return (option) => Number(option.dataset.offset) === wanted;
    }
    return (option, text) => text.includes(word);
  }

  function setUp(input) {
    const select = document.getElementById(input.dataset.zoneFilter);
    const status = document.getElementById(input.getAttribute("aria-describedby"));
    if (!select) return;
    const options = Array.from(select.options).map((option) => {
      const group = option.parentElement.tagName === "OPTGROUP" ? option.parentElement.label : "";
      return { option, text: fold(`${option.text} ${group} ${option.value}`) };
    });
    input.closest(".zone-filter").hidden = false;

    function apply() {
      const words = fold(input.value).split(/\s+/).filter(Boolean);
      const matchers = words.map(wordMatcher);
      let shown = 0;
      for (const { option, text } of options) {
        const match = matchers.every((m) => m(option, text));
        option.hidden = !match;
        if (match) shown += 1;
      }
      for (const group of select.querySelectorAll("optgroup")) {
        group.hidden = !Array.from(group.children).some((o) => !o.hidden);
      }
      const current = select.options[select.selectedIndex];
      if (shown > 0 && (!current || current.hidden)) {
        const first = options.find(({ option }) => !option.hidden);
        if (first) first.option.selected = true;
      }
      if (status) {
        status.textContent = words.length === 0 ? "" : shown === 0 ? status.dataset.none : status.dataset.matches.replace("%{n}", String(shown));
      }
    }

    input.addEventListener("input", apply);
    // Enter picks from the narrowed list instead of sending the form.
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        select.focus();
      }
    });
  }

  window.addEventListener("DOMContentLoaded", () => {
    for (const input of document.querySelectorAll("input[data-zone-filter]")) setUp(input);
  });
})();

// Copying the recovery codes (the button is hidden without this script): the
// codes of the named list, one a line, through the clipboard API, else through
// a selection of a temporary text area; focus stays on the button.
(() => {
  async function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(text);
        return true;
      } catch {
        // Refused (no permission, no focus): fall back to a selection.
      }
    }
    const area = document.createElement("textarea");
    area.value = text;
    area.readOnly = true;
    area.className = "visually-hidden";
    document.body.append(area);
    area.select();
    try {
      return document.execCommand("copy");
    } catch {
      return false;
    } finally {
      area.remove();
    }
  }

  window.addEventListener("DOMContentLoaded", () => {
    for (const button of document.querySelectorAll("button[data-copy-lines]")) {
      const list = document.getElementById(button.dataset.copyLines);
      const status = document.getElementById(button.dataset.status);
      if (!list) continue;
      button.hidden = false;
      button.addEventListener("click", async () => {
        const lines = Array.from(list.querySelectorAll("li"), (item) => item.textContent.trim());
        const copied = await copyText(`${lines.join("\n")}\n`);
        button.focus();
        if (status) status.textContent = copied ? button.dataset.copied : button.dataset.copyFailed;
      });
    }
  });
})();
// ---- End of the time zone picker and recovery codes block ------------------
