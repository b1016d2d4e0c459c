/* global document, window */
/** uPlot, served by the box from its own node_modules (no CDN), loaded only on pages with charts. */
let loading = null;

export function loadUplot() {
  if (window.uPlot) return Promise.resolve(window.uPlot);
  loading ??= new Promise((resolve, reject) => {
    const css = document.createElement('link');
    css.rel = 'stylesheet';
    css.href = '/ui/vendor/uPlot.min.css';
    document.head.append(css);
    const s = document.createElement('script');
    s.src = '/ui/vendor/uPlot.iife.min.js';
    s.onload = () => resolve(window.uPlot);
    s.onerror = () => reject(new Error('could not load the chart library'));
    document.head.append(s);
  });
  return loading;
}

export const COLORS = ['#d92d20', '#e8590c', '#667085', '#1f6feb', '#b7791f', '#15803d'];

export function width(el) {
  return Math.max(280, Math.min(el.clientWidth || 600, 1100));
}
