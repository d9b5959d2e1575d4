// The recording form, sent in parts (POST/PUT /api/lectures/<id>/recording/uploads/): a file of
// any size keeps the server small, a dropped connection resumes where it stopped, and the page
// shows how far the upload is. Without this script the form posts the file whole (up to the
// server's REQUEST_MAX_BYTES).
(function () {
  "use strict";
  const form = document.getElementById("recording-form");
  if (!form || !window.fetch || !form.dataset.uploadsUrl) return;
  const text = JSON.parse(document.getElementById("recording-strings").textContent);
  const input = document.getElementById("recording-file");
  const button = document.getElementById("recording-submit");
  const status = document.getElementById("recording-uploading");
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const RETRY_MS = [1000, 2000, 5000, 10000, 30000];

  function say(message) {
    if (status.textContent !== message) status.textContent = message;
  }

  function percentText(done, total) {
    const percent = total ? Math.floor((100 * done) / total) : 100;
    return text.uploading_percent.replace("%(percent)s", String(percent)).replace("%%", "%");
  }

  async function call(method, url, body, type) {
    const headers = { "X-CSRFToken": csrf, Accept: "application/json" };
    if (type) headers["Content-Type"] = type;
    const response = await fetch(url, { method, body, headers, credentials: "same-origin" });
    const answer = await response.json().catch(() => ({}));
    return { ok: response.ok, status: response.status, answer };
  }

  function refusal(answer) {
    const detail = answer.detail;
    return (Array.isArray(detail) ? detail.join(" ") : detail) || text.upload_failed;
  }

  async function send(file) {
    const started = await call("POST", form.dataset.uploadsUrl, JSON.stringify({ size: file.size }), "application/json");
    if (!started.ok) throw new Error(refusal(started.answer));
    const url = `${form.dataset.uploadsUrl}${started.answer.id}/`;
    const partBytes = started.answer.part_bytes;
    let offset = 0;
    let failures = 0;
    while (offset < file.size) {
      say(percentText(offset, file.size));
      let result;
      try {
        const part = file.slice(offset, offset + partBytes);
        result = await call("PUT", `${url}?offset=${offset}`, part, "application/octet-stream");
      } catch (error) {
        // The connection dropped: wait, ask where the upload stands, go on from there.
        if (failures >= RETRY_MS.length) throw new Error(text.upload_failed);
        await new Promise((resolve) => window.setTimeout(resolve, RETRY_MS[failures++]));
        try {
          const current = await call("GET", url);
          if (current.ok) offset = current.answer.offset;
        } catch (ignored) { /* still offline: the next PUT tries again */ }
        continue;
      }
      failures = 0;
      if (result.status === 409 && typeof result.answer.offset === "number") {
        offset = result.answer.offset;
        continue;
      }
      if (!result.ok) throw new Error(refusal(result.answer));
      offset = result.answer.offset;
    }
  }

  form.addEventListener("submit", async (event) => {
    const file = input.files && input.files[0];
    if (!file) return; // the server says what is missing
    event.preventDefault();
    button.disabled = true;
    try {
      await send(file);
      window.location.reload(); // the page shows the transcription's progress
    } catch (error) {
      say(error.message);
      button.disabled = false;
    }
  });
})();
