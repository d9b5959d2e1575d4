// Runs on the audio thread: turns the microphone's samples (44.1 or 48 kHz, float) into
// 16 kHz mono PCM16 frames of 100 ms, and measures the level for the meter.
// Resampling: every output sample is the mean of the input samples since the previous one
// (a box filter), which also keeps frequencies above 8 kHz from folding into speech.
const OUT_RATE = 16000;
const FRAME_SAMPLES = 1600; // 100 ms

class PcmEncoder extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = sampleRate / OUT_RATE; // input samples per output sample
    this.position = 0; // input samples consumed since the last output sample
    this.sum = 0;
    this.count = 0;
    this.frame = new Int16Array(FRAME_SAMPLES);
    this.filled = 0;
    this.squares = 0;
  }

  emit(value) {
    const clamped = Math.max(-1, Math.min(1, value));
    this.frame[this.filled++] = clamped < 0 ? clamped * 0x8000 : clamped * 0x7fff;
    this.squares += clamped * clamped;
    if (this.filled === FRAME_SAMPLES) {
      const level = Math.sqrt(this.squares / FRAME_SAMPLES);
      this.port.postMessage({ pcm: this.frame.buffer, level }, [this.frame.buffer]);
      this.frame = new Int16Array(FRAME_SAMPLES);
      this.filled = 0;
      this.squares = 0;
    }
  }

  process(inputs) {
    const channels = inputs[0];
    if (!channels || channels.length === 0) return true;
    const samples = channels[0];
    for (let i = 0; i < samples.length; i++) {
      this.sum += samples[i];
      this.count += 1;
      this.position += 1;
      if (this.position >= this.step) {
        this.emit(this.sum / this.count);
        this.sum = 0;
        this.count = 0;
        this.position -= this.step;
      }
    }
    return true;
  }
}

registerProcessor("pcm-encoder", PcmEncoder);
