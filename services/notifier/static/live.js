// The live alerts page (templates/live.html): shows the hospital's notifications as they arrive
// on its feed (Server-Sent Events, resumed with Last-Event-ID) and acknowledges with one tap.
"use strict";
const ticket = new URLSearchParams(location.search).get("ticket") || "";
const list = document.getElementById("alerts");
const status = document.getElementById("status");
const items = new Map();
// The province's zone, from the page (shared.province_time): defined once, on the server.
const zone = document.querySelector("main.live").dataset.zone;

function show(alert) {
  if (items.has(alert.alert)) return;
  const item = document.createElement("li");
  item.dataset.alert = alert.alert;
  if (alert.priority === "stat") item.classList.add("stat");
  const text = document.createElement("p");
  text.className = "text";
  text.textContent = alert.text;
  item.append(text);
  if (alert.link) {
    const open = document.createElement("a");
    open.href = alert.link;
    open.textContent = "เปิด / Open";
    item.append(open, " ");
  }
  const state = document.createElement("span");
  state.className = "state";
  if (alert.needs_ack && alert.ack_link) {
    const button = document.createElement("button");
    button.textContent = "รับทราบ / Acknowledge";
    button.addEventListener("click", async () => {
      button.disabled = true;
      const answer = await acknowledge(alert);
      if (!answer.ok) {
        button.disabled = false;
        state.textContent = "ไม่สำเร็จ / Failed, try again";
      }
    });
    item.append(button);
  }
  item.append(" ", state);
  list.prepend(item);
  items.set(alert.alert, item);
}

// Signed in at the web app's origin (no ticket), the acknowledgement is made in the person's
// name: the proxy vouches for them, and the header shows a page's script sent it (CSRF). A ward
// screen's ticket has no person: its alert's signed link acknowledges for the hospital.
function acknowledge(alert) {
  if (ticket || !alert.delivery) {
    return fetch(alert.ack_link, {method: "POST", headers: {Accept: "application/json"}});
  }
  return fetch("/deliveries/" + encodeURIComponent(alert.delivery) + "/acknowledge", {
    method: "POST",
    headers: {Accept: "application/json", "X-CSRF-Token": "live-page"},
  });
}

function acknowledged(event) {
  const item = items.get(event.alert);
  if (!item) return;
  item.classList.add("acknowledged");
  item.querySelector("button")?.remove();
  const when = new Date(event.at).toLocaleTimeString("th-TH", {timeZone: zone});
  // "web:<name>", "board:<name>", "link:<recipient>": who answered, without the channel.
  const who = String(event.acknowledged_by || "").replace(/^[a-z-]+:/, "");
  item.querySelector(".state").textContent =
    "รับทราบแล้ว / Acknowledged " + when + (who ? " · " + who : "");
}

// Signed in at the web app's origin, the proxy vouches for the person: no ticket needed.
const source = new EventSource(
  ticket ? "/live/events?ticket=" + encodeURIComponent(ticket) : "/live/events");
source.onopen = () => {
  status.textContent = "ออนไลน์ / Live";
  status.className = "";
};
source.onerror = () => {
  // A refused ticket or session closes the stream for good; anything else is retried.
  status.textContent = source.readyState === EventSource.CLOSED
    ? (ticket
      ? "ลิงก์หมดอายุ กรุณาขอลิงก์ใหม่ / This page's link has expired: ask for a new one"
      : "หมดเวลาการเข้าระบบ กรุณาโหลดหน้าใหม่ / Signed out: reload the page to sign in again")
    : "ขาดการเชื่อมต่อ / Offline: reconnecting…";
  status.className = "offline";
};
source.addEventListener("notification", (e) => show(JSON.parse(e.data)));
source.addEventListener("acknowledged", (e) => acknowledged(JSON.parse(e.data)));
