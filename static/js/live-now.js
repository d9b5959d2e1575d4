// The dashboard and course pages: a light poll of the caller's live lectures, so a student
// sees a lecture go live without reloading. The new lecture is announced politely once.
(function () {
  "use strict";
  const section = document.getElementById("live-now");
  if (!section) return;
  const list = document.getElementById("live-now-list");
  const empty = document.getElementById("live-now-empty");
  const announce = document.getElementById("live-now-announce");
  const text = JSON.parse(document.getElementById("live-now-strings").textContent);
  const POLL_MS = 15000;
  const known = new Set(Array.from(list.querySelectorAll("[data-lecture]"), (el) => el.dataset.lecture));

  function card(lecture) {
    const item = document.createElement("li");
    item.className = "card live";
    item.dataset.lecture = String(lecture.id);
    const badge = document.createElement("span");
    badge.className = "badge badge-live";
    badge.textContent = text.live;
    const link = document.createElement("a");
    link.href = text.liveUrl.replace("/0/", `/${lecture.id}/`);
    link.textContent = lecture.title;
    item.append(badge, " ", link);
    return item;
  }

  function show(lectures) {
    const now = new Set(lectures.map((lecture) => String(lecture.id)));
    const added = lectures.filter((lecture) => !known.has(String(lecture.id)));
    for (const item of Array.from(list.querySelectorAll("[data-lecture]"))) {
      if (!now.has(item.dataset.lecture)) item.remove();
    }
    for (const lecture of added) list.appendChild(card(lecture));
    known.clear();
    now.forEach((id) => known.add(id));
    section.hidden = now.size === 0 && section.dataset.hideEmpty === "1";
    if (empty) empty.hidden = now.size > 0;
    list.hidden = now.size === 0;
    if (added.length) {
      announce.textContent = added.map((lecture) => text.wentLive.replace("%(title)s", lecture.title)).join(" ");
    }
  }

  async function poll() {
    try {
      const response = await fetch(section.dataset.pollUrl, {
        headers: { Accept: "application/json" }, credentials: "same-origin",
      });
      if (response.ok) show((await response.json()).results || []);
      else if (response.status === 401 || response.status === 403) return; // signed out
    } catch (error) {
      // offline for a moment: the next poll tries again
    }
    window.setTimeout(poll, document.hidden ? POLL_MS * 4 : POLL_MS);
  }
  window.setTimeout(poll, POLL_MS);
})();
