// Entry for workerd (Cloudflare Workers): the config comes as the SMOKE_CONFIG binding and
// every request answers with the smoke result as JSON.
import { smoke } from './smoke.mjs';

export default {
  async fetch(_request, env) {
    try {
      const result = await smoke(JSON.parse(env.SMOKE_CONFIG));
      return Response.json({ ok: true, runtime: `workerd (${navigator.userAgent})`, ...result });
    } catch (error) {
      return Response.json({ ok: false, runtime: 'workerd', error: String(error?.stack ?? error) });
    }
  },
};
