// A student's live caption page: snapshot, then partial / final / status messages.
// Reconnects with ?after=<last seq> so no final caption is ever missed.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("live-config").textContent);
  const text = JSON.parse(document.getElementById("live-strings").textContent);
  const stateEl = document.getElementById("live-state");
  const view = document.getElementById("caption-view");
  const scroller = document.getElementById("caption-scroller");
  const finalsEl = document.getElementById("finals");
  const partialEl = document.getElementById("partial");
  const jumpButton = document.getElementById("jump-latest");
  const form = document.getElementById("caption-settings");
  const settingsError = document.getElementById("settings-error");
  const delayEl = document.getElementById("caption-delay");

  const REFUSED = new Set([4001, 4003, 4004]);
  config.popout = document.body.classList.contains("popout");
  let lastSeq = 0;
  let retries = 0;
  let ended = config.status !== "live" && config.status !== "scheduled";
  let followNewest = true;

  function setState(name, message) {
    stateEl.dataset.state = name;
    stateEl.textContent = message || text[name] || "";
    if (name === "ended") { // where the captions are now: one click away
      const link = document.createElement("a");
      link.href = config.lectureUrl;
      link.textContent = text.openNotes;
      stateEl.append(" ", link);
    }
  }

  // -- auto-scroll that pauses while the reader looks back ---------------------------------
  function nearBottom() {
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 48;
  }
  function scrollToNewest() {
    scroller.scrollTop = scroller.scrollHeight;
    followNewest = true;
    jumpButton.hidden = true;
  }
  let knownHeight = scroller.clientHeight;
  function resized() {
    if (scroller.clientHeight === knownHeight) return false;
    knownHeight = scroller.clientHeight;
    if (followNewest) scrollToNewest();
    return true;
  }
  scroller.addEventListener("scroll", () => {
    if (resized()) return; // the box changed size, the reader did not scroll
    followNewest = nearBottom();
    jumpButton.hidden = followNewest; // reading back: offer the way to the newest caption
  });
  jumpButton.addEventListener("click", scrollToNewest);
  // A smaller window (a phone turned, the pop-out resized, the settings opened) keeps the
  // newest caption in view while the reader follows it.
  if ("ResizeObserver" in window) {
    new ResizeObserver(resized).observe(scroller);
  }
  function afterNewText() {
    if (followNewest) scrollToNewest();
    else jumpButton.hidden = false;
  }

  // -- keywords: highlighted where they stand as words ----------------------------------------
  const keywordsEl = document.getElementById("live-keywords");
  const keywordList = document.getElementById("live-keyword-list");
  // Hesitations are never keywords, whatever the notes computed (Korean and English).
  const FILLERS = new Set(["um", "umm", "uh", "uhm", "erm", "er", "ah", "eh", "hmm", "mm", "oh",
    "like", "you know", "음", "으음", "어", "어어", "아", "에", "그", "저", "뭐", "막", "좀", "이제",
    "그러니까", "그니까", "있잖아"]);
  const LETTER = "[\\p{L}\\p{N}]";
  let keywordPattern = null;

  function escapeRegExp(value) {
    return value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  // A keyword starts where a word starts, never inside one ("field" is not in "battlefield").
  // Latin terms also end at a word's end (an English plural allowed); a Hangul term may be
  // followed by its particle (신경망을). A Hangul compound (인공지능) is also spoken with a space
  // (인공 지능): one is allowed anywhere inside it.
  function termPattern(term) {
    if (/[A-Za-z]/.test(term)) {
      const words = term.trim().split(/\s+/).map(escapeRegExp).join("\\s+");
      return `(?<!${LETTER})${words}(?:s|es)?(?!${LETTER})`;
    }
    const body = Array.from(term.replace(/\s+/g, "")).map(escapeRegExp).join("\\s?");
    return `(?<!${LETTER})${body}`;
  }
  function highlighting() {
    return keywordPattern && config.preferences.highlight_keywords !== false;
  }
  function renderText(item, value) {
    item.textContent = "";
    if (!highlighting()) { item.textContent = value; return; }
    let last = 0;
    keywordPattern.lastIndex = 0;
    for (const match of value.matchAll(keywordPattern)) {
      if (match.index > last) item.append(value.slice(last, match.index));
      const mark = document.createElement("mark");
      mark.className = "keyword";
      mark.textContent = match[0];
      item.append(mark);
      last = match.index + match[0].length;
    }
    if (last < value.length) item.append(value.slice(last));
  }
  function renderAll() {
    for (const item of finalsEl.children) renderText(item, item.dataset.text);
  }
  function setKeywords(keywords) {
    const shown = keywords.filter((k) => k.term && !FILLERS.has(k.term.trim().toLowerCase()));
    const terms = shown.map((k) => k.term);
    // Longest first, so 인공지능 wins over 인공 where both are keywords.
    terms.sort((a, b) => b.length - a.length);
    keywordPattern = terms.length ? new RegExp(terms.map(termPattern).join("|"), "giu") : null;
    keywordList.textContent = "";
    for (const keyword of shown) {
      const entry = document.createElement("li");
      entry.textContent = keyword.term;
      keywordList.appendChild(entry);
    }
    keywordsEl.hidden = shown.length === 0;
    renderAll();
  }

  // -- captions ---------------------------------------------------------------------------
  function addFinal(caption) {
    if (caption.seq <= lastSeq) return; // already shown (a resent snapshot)
    lastSeq = caption.seq;
    const item = document.createElement("li");
    item.id = `caption-${caption.seq}`;
    item.dataset.seq = caption.seq;
    item.dataset.text = caption.text;
    renderText(item, caption.text);
    finalsEl.appendChild(item);
  }

  // "Captions are delayed by N s": the server says when it falls behind the speech, and when
  // it has caught up again (0).
  function showDelay(seconds) {
    delayEl.hidden = !(seconds > 0) || ended;
    delayEl.textContent = delayEl.hidden ? "" : text.delayed.replace("%(seconds)s", seconds);
  }

  function handle(message) {
    switch (message.type) {
      case "delay":
        showDelay(message.seconds);
        return;
      case "snapshot":
        message.finals.forEach(addFinal);
        if (message.keywords) setKeywords(message.keywords);
        partialEl.textContent = message.partial || "";
        ended = !["live", "scheduled"].includes(message.lecture.status);
        showDelay(message.delay_s || 0);
        setState(ended ? "ended" : message.lecture.status === "live" ? "live" : "notLive");
        break;
      case "final":
        addFinal(message);
        partialEl.textContent = "";
        break;
      case "partial":
        partialEl.textContent = message.text;
        break;
      case "keywords":
        setKeywords(message.keywords);
        return;
      case "edit": {
        // A correction: the caption keeps its place, only its words change.
        const item = document.getElementById(`caption-${message.seq}`);
        if (item) { item.dataset.text = message.text; renderText(item, message.text); }
        return;
      }
      case "remove": // merged into the caption before it, whose `edit` came first
        document.getElementById(`caption-${message.seq}`)?.remove();
        return;
      case "status":
        ended = !["live", "scheduled"].includes(message.status);
        if (ended) { partialEl.textContent = ""; showDelay(0); }
        setState(ended ? "ended" : message.status === "live" ? "live" : "notLive");
        break;
      default:
        return;
    }
    afterNewText();
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}${config.socketPath}?after=${lastSeq}`);
    socket.onopen = () => { retries = 0; };
    socket.onmessage = (event) => handle(JSON.parse(event.data));
    socket.onclose = (event) => {
      if (REFUSED.has(event.code)) return setState("refused");
      retries += 1;
      if (!ended) setState("reconnecting");
      setTimeout(connect, Math.min(10000, 500 * 2 ** Math.min(retries, 5)));
    };
  }

  // -- display settings, remembered per user ----------------------------------------------
  const settingsToggle = document.getElementById("caption-settings-toggle");
  const settingsPanel = document.getElementById("caption-settings-panel");
  const settingsStatus = document.getElementById("settings-status");
  settingsToggle.addEventListener("click", () => {
    settingsPanel.hidden = !settingsPanel.hidden;
    settingsToggle.setAttribute("aria-expanded", String(!settingsPanel.hidden));
    if (!settingsPanel.hidden) form.elements[0].focus();
  });

  function applyPreferences(prefs) {
    view.style.setProperty("--caption-scale", prefs.font_scale);
    view.style.setProperty("--caption-line-height", prefs.line_height);
    view.dataset.theme = prefs.theme;
    view.dataset.position = prefs.position;
    for (const [name, value] of Object.entries(prefs)) {
      const field = form.elements[name];
      if (!field) continue;
      if (field.type === "checkbox") field.checked = value !== false;
      else field.value = value;
    }
  }
  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  // Changes wait until the reader pauses, then go out together in one request; every changed
  // setting is in it, not only the last one touched. One request at a time, in order; what a
  // failed request carried is sent again with the next change. Leaving the page sends the rest.
  const pending = {};
  let saveTimer = null;
  let saving = null;
  function send(changes, keepalive) {
    return fetch(config.preferencesUrl, {
      method: "PATCH",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(changes),
      credentials: "same-origin",
      keepalive,
    }).catch(() => null);
  }
  async function flush() {
    clearTimeout(saveTimer);
    saveTimer = null;
    while (saving) await saving;
    const changes = Object.assign({}, pending);
    if (Object.keys(changes).length === 0) return;
    for (const name of Object.keys(changes)) delete pending[name];
    saving = send(changes, false).then((response) => {
      const ok = Boolean(response && response.ok);
      if (!ok) {
        for (const [name, value] of Object.entries(changes)) {
          if (!(name in pending)) pending[name] = value;
        }
      }
      settingsError.hidden = ok;
      settingsError.textContent = ok ? "" : text.saveFailed;
      settingsStatus.textContent = ok ? text.saved : "";
    });
    try { await saving; } finally { saving = null; }
  }
  form.addEventListener("input", (event) => {
    const field = event.target;
    if (!field.name) return;
    let value = field.value;
    if (field.type === "range") value = Number(field.value);
    if (field.type === "checkbox") value = field.checked;
    config.preferences[field.name] = value;
    pending[field.name] = value;
    applyPreferences(config.preferences);
    if (field.name === "highlight_keywords") renderAll();
    settingsStatus.textContent = "";
    clearTimeout(saveTimer);
    saveTimer = setTimeout(flush, 400);
  });
  form.addEventListener("submit", (event) => event.preventDefault());
  window.addEventListener("pagehide", () => {
    if (Object.keys(pending).length) send(Object.assign({}, pending), true);
  });

  // -- the captions in a small window of their own -----------------------------------------
  // Document Picture-in-Picture keeps this very caption box on top of other windows (slides,
  // a video call); where the browser lacks it, a minimal popup window shows the same captions.
  const popOutButton = document.getElementById("pop-out");
  async function popIntoPictureInPicture() {
    const pip = await window.documentPictureInPicture.requestWindow({ width: 480, height: 280 });
    for (const link of document.querySelectorAll('link[rel="stylesheet"]')) {
      pip.document.head.appendChild(link.cloneNode(true));
    }
    pip.document.title = text.popoutTitle;
    pip.document.documentElement.lang = document.documentElement.lang;
    pip.document.body.className = "live-page popout";
    const placeholder = document.createElement("p");
    placeholder.className = "notice";
    placeholder.textContent = text.poppedOut;
    view.before(placeholder);
    pip.document.body.append(view);
    scrollToNewest();
    pip.addEventListener("pagehide", () => {
      placeholder.replaceWith(view);
      scrollToNewest();
    });
  }
  if (!config.popout) {
    popOutButton.hidden = false;
    popOutButton.addEventListener("click", async () => {
      flush();
      if ("documentPictureInPicture" in window) {
        try {
          await popIntoPictureInPicture();
          return;
        } catch (error) {
          // refused (e.g. already open): the popup window below still works
        }
      }
      const popup = window.open(config.popoutUrl, "hearus-captions", "popup,width=480,height=300");
      if (!popup) {
        settingsError.hidden = false;
        settingsError.textContent = text.popupBlocked;
      }
    });
  }

  applyPreferences(config.preferences);
  setState("connecting");
  connect();
})();
