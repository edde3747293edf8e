/**
 * Entry of the `rum.js` script the siperf server serves: exposes `window.siperfRum.init` and, when the
 * script tag carries `data-service` (or `data-auto`), starts reporting to the server it was loaded from:
 * `<script src="https://siperf.example:4318/rum.js" data-service="shop" async></script>`.
 * Attributes: `data-service`, `data-endpoint` (default the script's origin), `data-key` (ingest key),
 * `data-flush-interval-ms`.
 * @module
 */
import { init } from './index.ts';

declare global {
  interface Window {
    siperfRum?: { init: typeof init; handle?: ReturnType<typeof init> };
  }
}

const script = document.currentScript as HTMLScriptElement | null;
window.siperfRum = { init };
if (script && (script.dataset.service !== undefined || script.dataset.auto !== undefined)) {
  const every = script.dataset.flushIntervalMs;
  window.siperfRum.handle = init({
    endpoint: script.dataset.endpoint ?? new URL(script.src, location.href).origin,
    ...(script.dataset.service ? { service: script.dataset.service } : {}),
    ...(script.dataset.key ? { ingestKey: script.dataset.key } : {}),
    ...(every !== undefined && every !== '' ? { flushIntervalMs: Number(every) } : {}),
  });
}
