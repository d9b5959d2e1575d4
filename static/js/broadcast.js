// The instructor's broadcast page: microphone -> AudioWorklet (16 kHz PCM16) -> websocket.
// Every frame is kept until the server acknowledges it (`ack`: on its disk or captioned); after a
// drop or a server restart the page reconnects on its own and resends what it kept, with its
// position on the lecture's time line, so the server neither loses nor repeats a word
// (docs/protocol.md, "Nothing lost, nothing heard twice").
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("broadcast-config").textContent);
  const text = JSON.parse(document.getElementById("broadcast-strings").textContent);
  const stateEl = document.getElementById("connection-state");
  const startButton = document.getElementById("start-broadcast");
  const stopButton = document.getElementById("stop-broadcast");
  const meter = document.getElementById("level-meter");
  const finalsEl = document.getElementById("own-finals");
  const partialEl = document.getElementById("own-partial");
  const errorEl = document.getElementById("broadcast-error");
  const hintEl = document.getElementById("broadcast-hint");
  const micSelect = document.getElementById("mic-select");
  const viewerCount = document.getElementById("viewer-count");
  const delayEl = document.getElementById("caption-delay");

  const SAMPLES_PER_MS = 16;
  const KEEP_AUDIO_S = 600; // captions/protocol.py BROADCASTER_KEEPS_S
  const MAX_KEPT_SAMPLES = KEEP_AUDIO_S * 1000 * SAMPLES_PER_MS;
  const RESEND_FRAME_SAMPLES = 8000; // 0.5 s: the server's largest frame
  // captions/protocol.py BROADCASTER_SILENCE_LIMIT_S: a server acks every second, so this much
  // silence means a connection the network dropped without telling either side.
  const SILENCE_LIMIT_MS = 10000;
  const FINAL_CLOSES = { 4000: "ended", 4001: "refused", 4003: "refused", 4004: "refused",
    4009: "refused", 4010: "replaced" };

  let socket = null;
  let streaming = false; // the server acknowledged `start`
  let wanted = false; // the instructor wants to broadcast
  // Frames not yet acknowledged, oldest first: { position, pcm } with position in samples on the
  // lecture's time line (provisional, from 0, until the first `started` says where we are).
  let kept = [];
  let keptSamples = 0;
  let nextPosition = 0; // where the next microphone frame lies
  let placed = false; // positions are the server's (a `started` was received)
  let stopping = false; // `stop` is owed once everything kept is sent
  let retries = 0;
  let lastHeard = 0; // when the server last sent anything (Date.now())
  let audio = null; // { context, stream, node }

  function setState(name) {
    stateEl.textContent = text.states[name];
    stateEl.dataset.state = name;
    startButton.disabled = wanted;
    stopButton.disabled = !wanted;
  }

  function showError(message) {
    errorEl.textContent = message || "";
    errorEl.hidden = !message;
  }

  function socketUrl() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    return `${scheme}://${location.host}${config.socketPath}`;
  }

  function keep(pcm) {
    const samples = pcm.byteLength / 2;
    kept.push({ position: nextPosition, pcm });
    nextPosition += samples;
    keptSamples += samples;
    while (keptSamples > MAX_KEPT_SAMPLES) { // beyond what we promise to keep: oldest first
      keptSamples -= kept.shift().pcm.byteLength / 2;
    }
  }

  function sendFrame(buffer) {
    if (!wanted) return;
    keep(buffer);
    if (socket && streaming && socket.readyState === WebSocket.OPEN) socket.send(buffer);
  }

  function forgetUntil(sample) { // the server has everything before `sample`
    while (kept.length && kept[0].position + kept[0].pcm.byteLength / 2 <= sample) {
      keptSamples -= kept.shift().pcm.byteLength / 2;
    }
  }

  function place(offsetMs) {
    // The server says where our next frame (the oldest kept) lies: move every position there.
    const first = kept.length ? kept[0].position : nextPosition;
    const shift = offsetMs * SAMPLES_PER_MS - first;
    for (const frame of kept) frame.position += shift;
    nextPosition += shift;
    placed = true;
  }

  function resendKept() {
    // Whole kept frames joined into messages of at most 0.5 s, in order.
    let parts = [];
    let samples = 0;
    const flush = () => {
      if (!parts.length) return;
      const joined = new Uint8Array(samples * 2);
      let at = 0;
      for (const part of parts) { joined.set(new Uint8Array(part), at); at += part.byteLength; }
      socket.send(joined.buffer);
      parts = [];
      samples = 0;
    };
    for (const frame of kept) {
      const frameSamples = frame.pcm.byteLength / 2;
      if (samples + frameSamples > RESEND_FRAME_SAMPLES) flush();
      parts.push(frame.pcm);
      samples += frameSamples;
    }
    flush();
  }

  function startMessage() {
    const message = { type: "start", sample_rate: config.sampleRate, format: "pcm_s16le",
      language: config.language };
    if (placed) {
      message.position_ms = Math.floor((kept.length ? kept[0].position : nextPosition)
        / SAMPLES_PER_MS);
    }
    return JSON.stringify(message);
  }

  function connect() {
    setState(retries ? "reconnecting" : "connecting");
    socket = new WebSocket(socketUrl());
    socket.binaryType = "arraybuffer";
    socket.onmessage = (event) => {
      lastHeard = Date.now();
      handle(JSON.parse(event.data));
    };
    socket.onclose = (event) => {
      streaming = false;
      socket = null;
      const outcome = FINAL_CLOSES[event.code];
      if (!wanted && !stopping) return setState("stopped");
      if (outcome) {
        stopMicrophone();
        wanted = false;
        stopping = false;
        setState(outcome);
        if (event.reason) showError(event.reason);
        return;
      }
      reconnectLater();
    };
  }

  function reconnectLater() {
    retries += 1;
    setState("reconnecting");
    setTimeout(connect, Math.min(5000, 500 * 2 ** Math.min(retries, 4)));
  }

  // A socket the network dropped without a reset stays "open" for minutes: give it up when the
  // server has been silent too long while the microphone runs, and start over (the kept audio
  // is resent; the new connection takes the broadcast over from the half-dead one).
  window.setInterval(() => {
    if (!socket || !streaming || !wanted || Date.now() - lastHeard < SILENCE_LIMIT_MS) return;
    const dead = socket;
    dead.onmessage = null;
    dead.onclose = null;
    dead.close();
    socket = null;
    streaming = false;
    reconnectLater();
  }, 1000);

  function handle(message) {
    switch (message.type) {
      case "ready":
        socket.send(startMessage());
        break;
      case "started":
        streaming = true;
        retries = 0;
        showError("");
        place(message.offset_ms);
        resendKept();
        if (stopping) {
          socket.send(JSON.stringify({ type: "stop" })); // the server stores the last words
          break;
        }
        setState("live");
        break;
      case "ack":
        forgetUntil(message.stored_until_ms * SAMPLES_PER_MS);
        break;
      case "stopped": // everything heard is stored: nothing left to resend
        kept = [];
        keptSamples = 0;
        stopping = false;
        break;
      case "final": {
        const item = document.createElement("li");
        item.id = `own-caption-${message.seq}`;
        item.textContent = message.text;
        finalsEl.appendChild(item);
        partialEl.textContent = "";
        item.scrollIntoView({ block: "nearest" });
        break;
      }
      case "partial":
        partialEl.textContent = message.text;
        break;
      case "edit": {
        // A correction (lecture page or API): shown here exactly as students now see it.
        const item = document.getElementById(`own-caption-${message.seq}`);
        if (item) item.textContent = message.text;
        break;
      }
      case "remove": // merged into the caption before it
        document.getElementById(`own-caption-${message.seq}`)?.remove();
        break;
      case "delay": // the server is behind the speech (0: caught up again)
        delayEl.hidden = !(message.seconds > 0);
        delayEl.textContent = delayEl.hidden
          ? "" : text.delayed.replace("%(seconds)s", message.seconds);
        break;
      case "error":
        showError(message.reason);
        break;
    }
  }

  async function startMicrophone() {
    const deviceId = micSelect.value ? { exact: micSelect.value } : undefined;
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { deviceId, channelCount: 1, echoCancellation: true, noiseSuppression: true,
        autoGainControl: true },
    });
    const context = new AudioContext();
    await context.audioWorklet.addModule(config.workletUrl);
    const source = context.createMediaStreamSource(stream);
    const node = new AudioWorkletNode(context, "pcm-encoder");
    node.port.onmessage = (event) => {
      meter.value = Math.min(1, event.data.level * 4);
      sendFrame(event.data.pcm);
    };
    source.connect(node);
    audio = { context, stream, node };
  }

  function stopMicrophone() {
    if (!audio) return;
    audio.stream.getTracks().forEach((track) => track.stop());
    audio.context.close();
    audio = null;
    meter.value = 0;
  }

  async function begin() {
    showError("");
    hintEl.hidden = true;
    try {
      await startMicrophone();
    } catch (error) {
      showError(`${text.microphoneError} (${error.name})`);
      return;
    }
    listMicrophones();
    wanted = true;
    retries = 0;
    if (!kept.length) placed = false; // a new start begins "now" on the lecture's time line
    if (!socket) connect(); // (a socket still delivering kept audio carries the new audio too)
    else if (stopping) stopping = false;
  }
  startButton.addEventListener("click", begin);

  // -- the microphone picker: every audio input the browser offers (named once allowed) ------
  async function listMicrophones() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return;
    const devices = (await navigator.mediaDevices.enumerateDevices())
      .filter((device) => device.kind === "audioinput" && device.deviceId !== "default");
    const chosen = micSelect.value;
    while (micSelect.options.length > 1) micSelect.remove(1);
    devices.forEach((device, index) => {
      const label = device.label || text.microphone.replace("%(n)s", String(index + 1));
      micSelect.add(new Option(label, device.deviceId));
    });
    if (Array.from(micSelect.options).some((option) => option.value === chosen)) {
      micSelect.value = chosen;
    }
  }
  micSelect.addEventListener("change", async () => {
    if (!audio) return; // used at the next start
    stopMicrophone(); // switch while broadcasting: the socket stays, only the source changes
    try {
      await startMicrophone();
    } catch (error) {
      showError(`${text.microphoneError} (${error.name})`);
    }
  });
  if (navigator.mediaDevices) {
    navigator.mediaDevices.addEventListener?.("devicechange", listMicrophones);
  }
  listMicrophones();

  // -- how many are watching (the course's students with the live page or notes open) -------
  async function pollViewers() {
    try {
      const response = await fetch(config.viewersUrl, { credentials: "same-origin" });
      if (response.ok) viewerCount.textContent = String((await response.json()).viewers);
    } catch (error) {
      // offline for a moment: the next poll says it
    }
    window.setTimeout(pollViewers, 10000);
  }
  pollViewers();

  stopButton.addEventListener("click", () => {
    wanted = false;
    stopMicrophone();
    if (socket && streaming && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: "stop" })); // the server stores the last words
      setState("stopped");
    } else if (placed && kept.length) {
      // Disconnected with audio the server has not got: deliver it, then stop (`started`).
      stopping = true;
      setState("reconnecting");
      if (!socket) connect();
    } else {
      kept = [];
      keptSamples = 0;
      setState("stopped");
    }
  });

  setState("idle");

  // Arrived from "Start and broadcast": turn the microphone on straight away. A browser that
  // wants a click on this page first gets one from the Start button, which stays offered.
  if (config.autostart) {
    history.replaceState(null, "", location.pathname);
    begin().then(() => {
      if (audio && audio.context.state === "suspended") {
        audio.context.resume();
        window.setTimeout(() => {
          if (audio && audio.context.state === "suspended") {
            stopButton.click();
            hintEl.textContent = text.pressStart;
            hintEl.hidden = false;
            startButton.focus();
          }
        }, 1000);
      }
    });
  }
})();
