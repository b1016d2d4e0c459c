/* global window, document, localStorage */
/**
 * The new-alarm sound, made with WebAudio (no file to download). Browsers
 * only play sound after the user touched the page, hence the toggle.
 */
let ctx = null;

export function soundEnabled() {
  return localStorage.getItem('sw-sound') !== 'off';
}

export function setSound(on) {
  localStorage.setItem('sw-sound', on ? 'on' : 'off');
  if (on) unlock();
}

function unlock() {
  const AC = window.AudioContext ?? window.webkitAudioContext;
  if (!AC) return null;
  ctx ??= new AC();
  if (ctx.state === 'suspended') ctx.resume().catch(() => {});
  return ctx;
}

/** Three short tones, higher for a level-1 alarm. */
export function alarmSound(level = 2) {
  document.body.dataset.soundCount = String(Number(document.body.dataset.soundCount ?? 0) + 1);
  if (!soundEnabled()) return;
  const ac = unlock();
  if (!ac) return;
  const freq = level === 1 ? 1320 : level === 2 ? 990 : 740;
  for (let i = 0; i < 3; i++) {
    const o = ac.createOscillator();
    const g = ac.createGain();
    o.frequency.value = freq;
    o.type = 'square';
    g.gain.value = 0.08;
    o.connect(g).connect(ac.destination);
    const t0 = ac.currentTime + i * 0.25;
    o.start(t0);
    o.stop(t0 + 0.15);
  }
}

// The first tap anywhere unlocks audio for the session.
if (typeof document !== 'undefined') document.addEventListener('pointerdown', () => soundEnabled() && unlock(), { once: true });
