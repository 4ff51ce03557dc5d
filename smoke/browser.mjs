// Entry for the browser: the page sets `window.SMOKE_CONFIG`; the result goes to #result as JSON.
import { smoke } from './smoke.mjs';

const show = (value) => {
  document.getElementById('result').textContent = JSON.stringify(value);
};
try {
  const result = await smoke(window.SMOKE_CONFIG);
  show({ ok: true, runtime: `chromium (${navigator.userAgent})`, ...result });
} catch (error) {
  show({ ok: false, runtime: 'chromium', error: String(error?.stack ?? error) });
}
