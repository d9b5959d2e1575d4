// The caption correction page: "Play this caption" plays the lecture's audio from the caption's
// start to its end (the kept audio is on the captions' time line), then stops; again replays it.
(function () {
  "use strict";
  const player = document.getElementById("caption-audio");
  const button = document.getElementById("play-caption");
  if (!player || !button) return;
  const start = Number(button.dataset.start) / 1000;
  const end = Number(button.dataset.end) / 1000;
  let stopAt = null;
  function stopAtEnd() {
    if (stopAt !== null && player.currentTime >= stopAt) {
      player.pause();
      stopAt = null;
    } else if (stopAt !== null) {
      // timeupdate comes about 4 times a second: stop on time, not up to 250 ms late.
      setTimeout(stopAtEnd, Math.max(10, (stopAt - player.currentTime) * 1000));
    }
  }
  button.addEventListener("click", () => {
    player.currentTime = start;
    stopAt = end;
    player.play().then(stopAtEnd, () => { stopAt = null; });
  });
  player.addEventListener("pause", () => { stopAt = null; });
})();
