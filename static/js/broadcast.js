// The instructor's broadcast page: microphone -> AudioWorklet (16 kHz PCM16) -> websocket.
// Reconnects on its own after a network drop, keeping up to 10 s of audio meanwhile.
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

  const MAX_BUFFERED_FRAMES = 100; // 10 s of 100 ms frames: the server's burst allowance
  const FINAL_CLOSES = { 4000: "ended", 4001: "refused", 4003: "refused", 4004: "refused",
    4009: "refused", 4010: "replaced" };

  let socket = null;
  let streaming = false; // the server acknowledged `start`
  let wanted = false; // the instructor wants to broadcast
  let buffered = [];
  let retries = 0;
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

  function sendFrame(buffer) {
    if (socket && streaming && socket.readyState === WebSocket.OPEN) {
      socket.send(buffer);
    } else if (wanted) {
      buffered.push(buffer);
      if (buffered.length > MAX_BUFFERED_FRAMES) buffered.shift();
    }
  }

  function connect() {
    setState(retries ? "reconnecting" : "connecting");
    socket = new WebSocket(socketUrl());
    socket.binaryType = "arraybuffer";
    socket.onmessage = (event) => handle(JSON.parse(event.data));
    socket.onclose = (event) => {
      streaming = false;
      socket = null;
      const outcome = FINAL_CLOSES[event.code];
      if (!wanted) return setState("stopped");
      if (outcome) {
        stopMicrophone();
        wanted = false;
        setState(outcome);
        if (event.reason) showError(event.reason);
        return;
      }
      retries += 1;
      setState("reconnecting");
      setTimeout(connect, Math.min(5000, 500 * 2 ** Math.min(retries, 4)));
    };
  }

  function handle(message) {
    switch (message.type) {
      case "ready":
        socket.send(JSON.stringify({ type: "start", sample_rate: config.sampleRate,
          format: "pcm_s16le", language: config.language }));
        break;
      case "started":
        streaming = true;
        retries = 0;
        showError("");
        for (const frame of buffered) socket.send(frame);
        buffered = [];
        setState("live");
        break;
      case "final": {
        const item = document.createElement("li");
        item.textContent = message.text;
        finalsEl.appendChild(item);
        partialEl.textContent = "";
        item.scrollIntoView({ block: "nearest" });
        break;
      }
      case "partial":
        partialEl.textContent = message.text;
        break;
      case "error":
        showError(message.reason);
        break;
    }
  }

  async function startMicrophone() {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true,
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

  startButton.addEventListener("click", async () => {
    showError("");
    try {
      await startMicrophone();
    } catch (error) {
      showError(`${text.microphoneError} (${error.name})`);
      return;
    }
    wanted = true;
    retries = 0;
    connect();
  });

  stopButton.addEventListener("click", () => {
    wanted = false;
    stopMicrophone();
    buffered = [];
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: "stop" })); // the server stores the last words
    }
    setState("stopped");
  });

  setState("idle");
})();
