// Error tracking and analytics, as a Sentry SDK and Plausible's script do them, sent to the
// service's own collector (collector.py) on the same origin: nothing leaves the machine.
// On load: a session envelope and a page view; on every uncaught error: an error envelope.
// Loaded first, so it also reports errors of the scripts after it. Left out under beacon=off.
"use strict";

(function () {
  const ENVELOPE = "/collect/api/1/envelope/?sentry_key=reference";
  const EVENT = "/collect/api/event";

  function hex(length) {
    let out = "";
    while (out.length < length) out += Math.floor(Math.random() * 16).toString(16);
    return out;
  }

  function send(url, body, type) {
    // keepalive: a report sent while the page unloads still goes out
    fetch(url, { method: "POST", body, keepalive: true, credentials: "omit", headers: { "Content-Type": type } })
      .catch(() => {}); // telemetry never breaks the page
  }

  function envelope(type, payload) {
    const header = { event_id: hex(32), sent_at: new Date().toISOString() };
    const lines = [JSON.stringify(header), JSON.stringify({ type }), JSON.stringify(payload)];
    send(ENVELOPE, lines.join("\n"), "application/x-sentry-envelope");
  }

  function reportError(error, message) {
    envelope("event", {
      level: "error",
      platform: "javascript",
      request: { url: location.href },
      exception: { values: [{ type: (error && error.name) || "Error", value: (error && error.message) || String(message) }] },
    });
  }

  window.addEventListener("error", (event) => reportError(event.error, event.message));
  window.addEventListener("unhandledrejection", (event) => reportError(event.reason, event.reason));

  envelope("session", { sid: hex(32), status: "ok", init: true, started: new Date().toISOString(), request: { url: location.href } });
  send(EVENT, JSON.stringify({ name: "pageview", url: location.href, domain: location.host, referrer: document.referrer || null }), "text/plain");
})();
