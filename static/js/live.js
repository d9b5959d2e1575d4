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

  const REFUSED = new Set([4001, 4003, 4004]);
  let lastSeq = 0;
  let retries = 0;
  let ended = config.status !== "live" && config.status !== "scheduled";
  let followNewest = true;

  function setState(name, message) {
    stateEl.dataset.state = name;
    stateEl.textContent = message || text[name] || "";
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
  scroller.addEventListener("scroll", () => {
    followNewest = nearBottom();
    if (followNewest) jumpButton.hidden = true;
  });
  jumpButton.addEventListener("click", scrollToNewest);
  function afterNewText() {
    if (followNewest) scrollToNewest();
    else jumpButton.hidden = false;
  }

  // -- keywords: highlighted wherever they occur -----------------------------------------
  const keywordsEl = document.getElementById("live-keywords");
  const keywordList = document.getElementById("live-keyword-list");
  let keywordPattern = null;

  function escapeRegExp(value) {
    return value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  // A compound keyword (인공지능) is also spoken with a space (인공 지능): allow one anywhere.
  function termPattern(term) {
    return Array.from(term.replace(/\s+/g, "")).map(escapeRegExp).join("\\s?");
  }
  function renderText(item, value) {
    item.textContent = "";
    if (!keywordPattern) { item.textContent = value; return; }
    let last = 0;
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
  function setKeywords(keywords) {
    const terms = keywords.map((k) => k.term).filter(Boolean);
    // Longest first, so 인공지능 wins over 인공 where both are keywords.
    terms.sort((a, b) => b.length - a.length);
    keywordPattern = terms.length ? new RegExp(terms.map(termPattern).join("|"), "giu") : null;
    keywordList.textContent = "";
    for (const keyword of keywords) {
      const entry = document.createElement("li");
      entry.textContent = keyword.term;
      keywordList.appendChild(entry);
    }
    keywordsEl.hidden = keywords.length === 0;
    for (const item of finalsEl.children) renderText(item, item.dataset.text);
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

  function handle(message) {
    switch (message.type) {
      case "snapshot":
        message.finals.forEach(addFinal);
        if (message.keywords) setKeywords(message.keywords);
        partialEl.textContent = message.partial || "";
        ended = !["live", "scheduled"].includes(message.lecture.status);
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
      case "status":
        ended = !["live", "scheduled"].includes(message.status);
        if (ended) partialEl.textContent = "";
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
  function applyPreferences(prefs) {
    view.style.setProperty("--caption-scale", prefs.font_scale);
    view.style.setProperty("--caption-line-height", prefs.line_height);
    view.dataset.theme = prefs.theme;
    view.dataset.position = prefs.position;
    for (const [name, value] of Object.entries(prefs)) {
      if (form.elements[name]) form.elements[name].value = value;
    }
  }
  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }
  let saveTimer = null;
  form.addEventListener("input", (event) => {
    const field = event.target;
    const value = field.type === "range" ? Number(field.value) : field.value;
    config.preferences[field.name] = value;
    applyPreferences(config.preferences);
    clearTimeout(saveTimer);
    saveTimer = setTimeout(async () => {
      const response = await fetch(config.preferencesUrl, {
        method: "PATCH",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify({ [field.name]: value }),
        credentials: "same-origin",
      }).catch(() => null);
      settingsError.hidden = Boolean(response && response.ok);
      settingsError.textContent = settingsError.hidden ? "" : text.saveFailed;
    }, 300);
  });

  applyPreferences(config.preferences);
  setState("connecting");
  connect();
})();
