// Correction mode on the lecture page: select a caption in the transcript to edit it in place
// (saved through PATCH /api/lectures/<id>/captions/<seq>/, which tells every viewer), or to
// merge it with the next caption (a plain form post; the page comes back at that caption).
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("correct-config").textContent);
  const text = config.strings;
  const transcript = document.getElementById("transcript");
  const status = document.getElementById("correct-status");
  if (!transcript) return;
  let open = null; // { segment, editor }

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }
  function fill(template, seq) {
    return template.replace("%(seq)s", String(seq));
  }
  function nextSegment(segment) {
    const all = Array.from(transcript.querySelectorAll(".segment"));
    return all[all.indexOf(segment) + 1] || null;
  }

  function close(focusSegment) {
    if (!open) return;
    const { segment, editor } = open;
    editor.remove();
    segment.hidden = false;
    open = null;
    if (focusSegment) segment.focus();
  }

  function button(label, type, className) {
    const element = document.createElement("button");
    element.type = type;
    element.textContent = label;
    if (className) element.className = className;
    return element;
  }

  // The caption's stretch of the lecture's audio (kept, or the uploaded recording), start to end.
  let player = null;
  function listenButton(segment) {
    const listen = button(`▶ ${text.listen}`, "button");
    listen.addEventListener("click", () => {
      if (!player) player = new Audio(config.audioUrl);
      const start = Number(segment.dataset.start) / 1000;
      const end = Number(segment.dataset.end) / 1000;
      player.currentTime = start;
      player.ontimeupdate = () => { if (player.currentTime >= end) player.pause(); };
      player.play().catch(() => {});
    });
    return listen;
  }

  // A plain form post (the page comes back at the caption, with a message).
  function post(action, fields) {
    const form = document.createElement("form");
    form.method = "post";
    form.action = action;
    for (const [name, value] of Object.entries({ csrfmiddlewaretoken: csrfToken(), ...fields })) {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      form.append(input);
    }
    document.body.append(form);
    form.submit();
  }

  function edit(segment) {
    close(false);
    const seq = segment.dataset.seq;
    const editor = document.createElement("form");
    editor.className = "inline-editor no-print";
    const area = document.createElement("textarea");
    area.id = `inline-edit-${seq}`;
    area.name = "text";
    area.rows = 2;
    area.lang = config.language;
    area.value = segment.textContent.trim();
    const label = document.createElement("label");
    label.htmlFor = area.id;
    label.textContent = fill(text.label, seq);
    const error = document.createElement("p");
    error.className = "error";
    error.setAttribute("role", "alert");
    error.hidden = true;
    const row = document.createElement("span");
    row.className = "button-row";
    row.append(button(text.save, "submit", "primary"));
    if (config.audioUrl) row.append(listenButton(segment));
    const cancel = button(text.cancel, "button");
    cancel.addEventListener("click", () => close(true));
    row.append(cancel);
    if (config.splitUrl) {
      // Two captions: the text before the cursor, and the text after it.
      const split = button(text.split, "button");
      split.addEventListener("click", () => {
        const at = area.selectionStart;
        post(config.splitUrl.replace("/0/", `/${seq}/`), {
          first: area.value.slice(0, at),
          second: area.value.slice(at),
        });
      });
      row.append(split);
    }
    if (nextSegment(segment)) {
      const merge = button(text.merge, "button");
      merge.addEventListener("click", () => post(config.mergeUrl.replace("/0/", `/${seq}/`), {}));
      row.append(merge);
    }
    editor.append(label, area, error, row);
    editor.addEventListener("keydown", (event) => {
      if (event.key === "Escape") close(true);
    });
    editor.addEventListener("submit", async (event) => {
      event.preventDefault();
      const response = await fetch(config.captionUrl.replace("/0/", `/${seq}/`), {
        method: "PATCH",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify({ text: area.value }),
        credentials: "same-origin",
      }).catch(() => null);
      if (response && response.ok) {
        segment.textContent = (await response.json()).text;
        status.textContent = fill(text.saved, seq);
        close(true);
      } else {
        let reason = text.failed;
        try {
          const body = await response.json();
          if (body.text) reason = `${reason} ${[].concat(body.text).join(" ")}`;
        } catch (ignored) { /* not JSON: keep the general message */ }
        error.textContent = reason;
        error.hidden = false;
      }
    });
    segment.after(editor);
    segment.hidden = true;
    open = { segment, editor };
    area.focus();
  }

  for (const segment of transcript.querySelectorAll(".segment")) {
    segment.tabIndex = 0;
    segment.classList.add("editable");
    segment.setAttribute("role", "button");
    segment.setAttribute("aria-label", `${fill(text.label, segment.dataset.seq)}: ${segment.textContent.trim()}`);
    segment.addEventListener("click", () => edit(segment));
    segment.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        edit(segment);
      }
    });
  }
  status.textContent = text.hint;
})();
