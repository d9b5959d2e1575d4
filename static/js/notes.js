// The lecture notes page: keywords that highlight and step through their occurrences, a print
// button, and, while the lecture is live, the transcript growing over the viewer websocket.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("notes-config").textContent);
  const text = JSON.parse(document.getElementById("notes-strings").textContent);
  const transcript = document.getElementById("transcript");
  const position = document.getElementById("keyword-position");

  // -- keywords: a click highlights every occurrence and goes to the next one ------------
  let activeKeyword = null;
  let activeIndex = -1;
  document.getElementById("keyword-list").addEventListener("click", (event) => {
    const link = event.target.closest(".keyword-link");
    if (!link || !transcript) return;
    event.preventDefault();
    const rank = link.dataset.keyword;
    const marks = Array.from(transcript.querySelectorAll(`.kw[data-keyword="${rank}"]`));
    if (!marks.length) return;
    if (activeKeyword !== rank) {
      transcript.querySelectorAll(".kw.active").forEach((mark) => mark.classList.remove("active"));
      document.querySelectorAll(".keyword-link[aria-current]").forEach((other) => other.removeAttribute("aria-current"));
      marks.forEach((mark) => mark.classList.add("active"));
      link.setAttribute("aria-current", "true");
      activeKeyword = rank;
      activeIndex = -1;
    }
    marks.forEach((mark) => mark.classList.remove("current"));
    activeIndex = (activeIndex + 1) % marks.length;
    const mark = marks[activeIndex];
    mark.classList.add("current");
    const segment = mark.closest(".segment");
    segment.scrollIntoView({ block: "center" });
    segment.focus({ preventScroll: true });
    history.replaceState(null, "", `#${segment.id}`);
    position.textContent = text.occurrence
      .replace("%(index)s", activeIndex + 1)
      .replace("%(count)s", marks.length)
      .replace("%(term)s", link.dataset.term);
  });

  const printButton = document.getElementById("print-notes");
  if (printButton) printButton.addEventListener("click", () => window.print());

  // -- the lecture's audio: ▶ plays from a caption (or summary line); the caption being heard
  // is marked (aria-current) and kept in view, unless the reader has scrolled away from it ---
  const player = document.getElementById("lecture-audio");
  if (player && transcript) {
    const segments = Array.from(transcript.querySelectorAll(".segment"));
    const starts = segments.map((segment) => Number(segment.dataset.start));
    const reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    let heard = null;
    let jumped = false; // a ▶ was pressed: bring its caption into view whatever was in view

    // The caption that started last at `ms` (a seek may land a few ms short of a start).
    function captionAt(ms) {
      let low = 0, high = starts.length - 1, found = -1;
      while (low <= high) {
        const middle = (low + high) >> 1;
        if (starts[middle] <= ms + 50) { found = middle; low = middle + 1; } else high = middle - 1;
      }
      return found < 0 ? null : segments[found];
    }
    function inView(element) {
      const box = element.getBoundingClientRect();
      return box.bottom > 0 && box.top < window.innerHeight;
    }
    function mark(ms) {
      const caption = captionAt(ms);
      if (caption === heard) return;
      // Follow only a reader who was following: the caption heard so far is in view.
      const follow = jumped || (heard !== null && inView(heard)) || heard === null;
      jumped = false;
      if (heard) { heard.removeAttribute("aria-current"); heard.classList.remove("playing"); }
      heard = caption;
      if (!caption) return;
      caption.setAttribute("aria-current", "true");
      caption.classList.add("playing");
      const box = caption.getBoundingClientRect();
      if (follow && (box.top < 0 || box.bottom > window.innerHeight)) {
        caption.scrollIntoView({ block: "center", behavior: reduceMotion ? "auto" : "smooth" });
      }
    }
    player.addEventListener("timeupdate", () => mark(player.currentTime * 1000));
    player.addEventListener("seeked", () => mark(player.currentTime * 1000));
    document.addEventListener("click", (event) => {
      const button = event.target.closest(".play-from");
      if (!button) return;
      const ms = Number(button.dataset.start);
      jumped = true;
      mark(ms);
      player.currentTime = ms / 1000;
      player.play().catch(() => {}); // refused (autoplay rules): the player shows its play button
    });
  }

  // -- live: append captions as they become final; reload once the notes are ready --------
  if (!transcript || !["live", "ended", "processing"].includes(config.status)) return;
  let lastSeq = config.lastSeq;
  let lastEnd = null;
  let paragraph = transcript.lastElementChild;
  const lastSegment = transcript.querySelector(".segment:last-of-type");
  if (lastSegment) lastEnd = Number(lastSegment.dataset.end);

  function clock(ms) {
    const total = Math.floor(ms / 1000);
    const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
    const pad = (n) => String(n).padStart(2, "0");
    return h ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
  }
  function appendFinal(caption) {
    if (caption.seq <= lastSeq) return;
    lastSeq = caption.seq;
    if (!paragraph || lastEnd === null || caption.start_ms - lastEnd >= config.pauseMs) {
      paragraph = document.createElement("p");
      paragraph.className = "paragraph";
      const stamp = document.createElement("a");
      stamp.className = "timestamp";
      stamp.href = `#seg-${caption.seq}`;
      const time = document.createElement("time");
      time.textContent = clock(caption.start_ms);
      stamp.append(time);
      paragraph.append(stamp, " ");
      transcript.append(paragraph);
    }
    const span = document.createElement("span");
    span.className = "segment";
    span.id = `seg-${caption.seq}`;
    span.dataset.seq = caption.seq;
    span.tabIndex = -1;
    span.textContent = caption.text;
    paragraph.append(span, " ");
    lastEnd = caption.end_ms;
  }

  let retries = 0;
  let done = false;
  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}${config.socketPath}?after=${lastSeq}`);
    socket.onopen = () => { retries = 0; };
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "snapshot") message.finals.forEach(appendFinal);
      else if (message.type === "final") appendFinal(message);
      else if (message.type === "edit") {
        const segment = document.getElementById(`seg-${message.seq}`);
        if (segment) segment.textContent = message.text;
      }
      else if (message.type === "remove") document.getElementById(`seg-${message.seq}`)?.remove();
      else if (message.type === "status" && (message.status === "ready" || message.status === "failed")) {
        done = true;
        const notice = document.querySelector(".notice[role=status]");
        if (notice) notice.textContent = text.updated;
        socket.close();
        setTimeout(() => location.reload(), 500);
      }
    };
    socket.onclose = (event) => {
      if (done || [4001, 4003, 4004].includes(event.code)) return;
      retries += 1;
      setTimeout(connect, Math.min(10000, 500 * 2 ** Math.min(retries, 5)));
    };
  }
  connect();
})();
