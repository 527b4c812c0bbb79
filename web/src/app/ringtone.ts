/* The ring of an incoming call and the ringback of an outgoing one: tones made with WebAudio
 * (no sound file to ship). A browser that will not play before a user gesture stays silent;
 * the screen and, in a hidden tab, the notification still say it. */
import { useEffect } from 'react';

/** Tone pairs (Hz) and cadence (on, off, ms): a warbling ring, and a calmer ringback. */
const PATTERNS = {
  ring: { freqs: [440, 480], on: 1200, off: 1800, gain: 0.15 },
  ringback: { freqs: [425], on: 1000, off: 3000, gain: 0.06 },
} as const;

export function useRingTone(on: boolean, kind: keyof typeof PATTERNS = 'ring'): void {
  useEffect(() => {
    if (!on || typeof AudioContext === 'undefined') return;
    const p = PATTERNS[kind];
    let ctx: AudioContext;
    try {
      ctx = new AudioContext();
    } catch {
      return;
    }
    const beep = () => {
      const gain = ctx.createGain();
      gain.gain.value = p.gain;
      gain.connect(ctx.destination);
      const t0 = ctx.currentTime;
      for (const f of p.freqs) {
        const osc = ctx.createOscillator();
        osc.frequency.value = f;
        osc.connect(gain);
        osc.start(t0);
        osc.stop(t0 + p.on / 1000);
      }
    };
    beep();
    const id = setInterval(beep, p.on + p.off);
    return () => {
      clearInterval(id);
      void ctx.close().catch(() => undefined);
    };
  }, [on, kind]);
}
