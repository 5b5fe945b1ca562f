// The answer's stream, read off the chat's main thread (src/services/transport.rs, `post_sse`).
//
// A streamed answer arrives as thousands of small network chunks, and a page pays for each one
// on the thread that reads it. Here a worker does the `fetch` and reads the body; it hands the
// text to the chat at most every `pace` ms (the first chunk at once), so the chat's thread
// handles a few hundred messages instead of 5,000 chunks (BENCHMARKS.md, "Streaming").
// Messages in: {id, url, headers, body, pace} to start, {abort: id} to stop. Out, each with its
// id: {text}, then {done} or {error, aborted}; for a non-2xx answer {status, retryAfter, body}.
const streams = {};
onmessage = async ({ data: m }) => {
  if (m.abort) {
    if (streams[m.abort]) streams[m.abort].abort();
    return;
  }
  const ctl = (streams[m.id] = new AbortController());
  let text = "", last = 0, timer = 0;
  const flush = () => {
    clearTimeout(timer);
    timer = 0;
    last = Date.now();
    if (text) postMessage({ id: m.id, text });
    text = "";
  };
  try {
    const res = await fetch(m.url, { method: "POST", headers: m.headers, body: m.body, signal: ctl.signal });
    if (!res.ok) {
      postMessage({ id: m.id, status: res.status, retryAfter: res.headers.get("Retry-After"), body: await res.text() });
      return;
    }
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += value;
      const wait = last + m.pace - Date.now();
      if (wait <= 0) flush();
      else if (!timer) timer = setTimeout(flush, wait);
    }
    flush();
    postMessage({ id: m.id, done: true });
  } catch (e) {
    flush();
    postMessage({ id: m.id, error: String(e), aborted: ctl.signal.aborted });
  } finally {
    delete streams[m.id];
  }
};
