// Live updates of an open page: one EventSource on /app/events (services/referral/entrypoints/
// app_events.py). Each "referral-changed" event is re-dispatched on <body> as the DOM event
// "referral-changed" (detail: {referral_id, event, status, requester, owner}), so a fragment
// refreshes itself with hx-trigger="referral-changed from:body"; "reload" (the page was too
// long away to replay what it missed) is dispatched the same way with an empty detail.
// Without htmx on the page, an element with data-refresh="<its page's URL>" and an id is
// re-read from that URL and replaced by the element of the same id there (what htmx does with
// hx-get + hx-select + hx-trigger; with htmx loaded, htmx does it and this stays out).
// Elements with data-since="<ISO time>" show the time since then as H:MM, kept current.
"use strict";
(() => {
  // What a person is doing in a part that re-reads itself (a decline reason being chosen, a
  // milestone's correction opened, the focus of a keyboard user) survives the re-read: values,
  // open <details> and focus go back by element id.
  const inProgress = (part) => ({
    values: [...part.querySelectorAll("select[id], textarea[id], input[id]:not([type=hidden])")]
      .map((field) => [field.id, field.value]),
    open: [...part.querySelectorAll("details[id][open]")].map((details) => details.id),
    focused: part.contains(document.activeElement) ? document.activeElement.id : "",
  });
  const restore = (kept) => {
    kept.values.forEach(([id, value]) => {
      const field = document.getElementById(id);
      if (field && value) field.value = value;
    });
    kept.open.forEach((id) => {
      const details = document.getElementById(id);
      if (details) details.open = true;
    });
    const focused = kept.focused && document.getElementById(kept.focused);
    if (focused) focused.focus();
  };
  let swapping = null;
  document.addEventListener("htmx:beforeSwap", (event) => {
    swapping = inProgress(event.detail.target);
    // A form's own answer (a correction saved) closes what it was opened in.
    if (event.detail.requestConfig && event.detail.requestConfig.verb !== "get") swapping.open = [];
  });
  document.addEventListener("htmx:afterSwap", () => {
    if (swapping) restore(swapping);
    swapping = null;
  });
  let refreshing = null;
  let again = false;
  const refreshOnce = async () => {
    for (const element of document.querySelectorAll("[data-refresh][id]")) {
      const response = await fetch(element.dataset.refresh, { credentials: "same-origin" });
      if (!response.ok) continue;
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = page.getElementById(element.id);
      if (!fresh) continue;
      const kept = inProgress(element);
      const adopted = document.importNode(fresh, true);
      element.replaceWith(adopted);
      restore(kept);
    }
  };
  const refresh = () => {
    if (window.htmx) return;
    if (refreshing) { again = true; return; }  // one read at a time; one more after it
    refreshing = refreshOnce().catch(() => {}).finally(() => {
      refreshing = null;
      tick();
      if (again) { again = false; refresh(); }
    });
  };
  const announce = (detail) => {
    document.body.dispatchEvent(new CustomEvent("referral-changed", { detail }));
    refresh();
  };
  const connect = () => {
    // From where the page was rendered (data-feed-position): a step committed between the
    // render and the stream's start is sent too. A reconnect sends Last-Event-ID instead.
    const rendered = document.body.dataset.feedPosition;
    const source = new EventSource(
      rendered ? "/app/events?after=" + encodeURIComponent(rendered) : "/app/events");
    source.addEventListener("referral-changed", (message) => {
      announce(JSON.parse(message.data));
    });
    source.addEventListener("reload", () => announce({}));
    // EventSource reconnects by itself (sending Last-Event-ID); the page shows it is connected.
    source.addEventListener("open", () => { document.body.dataset.live = "connected"; });
    source.addEventListener("error", () => {
      document.body.dataset.live = source.readyState === EventSource.CLOSED ? "closed" : "retrying";
    });
  };
  const tick = () => {
    const now = Date.now();
    document.querySelectorAll("[data-since]").forEach((element) => {
      const since = Date.parse(element.dataset.since);
      if (!Number.isNaN(since) && window.FastTrack) {
        element.textContent = window.FastTrack.interval(now - since);
      }
    });
  };
  document.addEventListener("DOMContentLoaded", () => {
    connect();
    tick();
    window.setInterval(tick, 15000);
    document.body.addEventListener("htmx:afterSwap", tick);
  });
})();
