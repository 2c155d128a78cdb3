// workerd entry (bundled with the package entry into one module): POST the payload, get the
// results as JSON.
import * as lib from '../../dist/index.js';
import { runRuntimeCases } from './cases.mjs';

export default {
  async fetch(request) {
    if (request.method !== 'POST') return new Response('POST the payload', { status: 405 });
    const payload = await request.json();
    return Response.json({ runtime: 'workerd', ...(await runRuntimeCases(lib, payload)) });
  },
};
