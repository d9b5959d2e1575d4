// Every page: the main menu folds behind a "Menu" button on a phone (and on the live caption
// page, where the captions need the screen). Without JavaScript the menu simply stays open.
(function () {
  "use strict";
  const nav = document.getElementById("site-nav");
  const toggle = document.getElementById("menu-toggle");
  if (!nav || !toggle) return;
  nav.classList.add("collapsible");
  toggle.hidden = false;
  toggle.addEventListener("click", () => {
    const open = !nav.classList.contains("open");
    nav.classList.toggle("open", open);
    toggle.setAttribute("aria-expanded", String(open));
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && nav.classList.contains("open")) {
      nav.classList.remove("open");
      toggle.setAttribute("aria-expanded", "false");
      toggle.focus();
    }
  });
})();
