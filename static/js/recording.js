// The lecture page's recording panel: polls the small progress JSON while an uploaded recording
// is transcribed, and disables the upload button while a file is being sent.
(function () {
  "use strict";
  const panel = document.getElementById("recording");
  if (!panel) return;
  const text = JSON.parse(document.getElementById("recording-strings").textContent);
  const box = document.getElementById("recording-progress-box");
  const bar = document.getElementById("recording-progress-bar");
  const label = document.getElementById("recording-progress-text");
  const done = document.getElementById("recording-progress-done");
  const form = document.getElementById("recording-form");
  const POLL_MS = 3000;
  const RETRY_MS = 10000;

  function clock(seconds) {
    const whole = Math.floor(seconds);
    const hours = Math.floor(whole / 3600);
    const minutes = Math.floor((whole % 3600) / 60);
    const secs = String(whole % 60).padStart(2, "0");
    return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${secs}` : `${minutes}:${secs}`;
  }

  // The same text as classroom.recording_views.progress_text.
  function describe(progress) {
    if (progress.stage === "transcribing" && progress.done_s != null && progress.total_s) {
      const values = { done: clock(progress.done_s), total: clock(progress.total_s), percent: progress.percent };
      return text.transcribing_detail.replace(/%\((\w+)\)s/g, (_, name) => values[name]).replace("%%", "%");
    }
    return text[progress.stage] || progress.stage;
  }

  function setText(message) {
    if (label.textContent !== message) label.textContent = message; // unchanged: nothing re-announced
  }

  function finish(message, linkText) {
    bar.value = 100;
    bar.textContent = "100%";
    setText(message);
    done.hidden = false;
    done.querySelector("a").textContent = linkText;
  }

  function show(state) {
    if (state.status === "ready") {
      // The transcript and notes are on the server now: show them without a manual reload.
      finish(text.ready, text.reload);
      window.setTimeout(() => window.location.reload(), 1500);
      return false;
    }
    if (state.status === "failed") {
      finish(`${text.failed} ${state.failure_reason || ""}`.trim(), text.reload_page);
      return false;
    }
    if (!["processing", "ended"].includes(state.status) || !state.has_recording) return false;
    const progress = state.progress || { stage: "queued", percent: 0 };
    box.hidden = false;
    bar.value = progress.percent;
    bar.textContent = `${progress.percent}%`;
    setText(describe(progress));
    return true;
  }

  async function poll() {
    let next = POLL_MS;
    try {
      const response = await fetch(panel.dataset.progressUrl, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (!response.ok || !response.headers.get("content-type")?.includes("json")) return; // logged out, gone
      if (!show(await response.json())) return;
    } catch (error) {
      next = RETRY_MS; // offline for a moment: try again later
    }
    window.setTimeout(poll, next);
  }

  if (panel.dataset.active) window.setTimeout(poll, POLL_MS);

  if (form) {
    form.addEventListener("submit", () => {
      const button = document.getElementById("recording-submit");
      // After the browser has taken the submission: one upload, however often it is clicked.
      window.setTimeout(() => { button.disabled = true; }, 0);
      document.getElementById("recording-uploading").textContent = text.uploading;
    });
  }
})();
